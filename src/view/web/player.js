// step2motion player: skeletons in 3D (Canvas 2D with our own perspective camera), the insoles'
// pressure cells, attention per insole component, playback controls. No dependencies; the data is
// the JSON that `s2m view` / `s2m evaluate` embed in the page (see src/view/page.cpp for its schema).
(function () {
  'use strict';

  // ---------------------------------------------------------------- data
  // Arrays arrive as {type: f32|i16|u16|u8, shape: [...], scale, b64}: little-endian, value = raw * scale.
  function decodeArray(a) {
    if (!a) return null;
    const bin = atob(a.b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const view = new DataView(bytes.buffer);
    const n = a.shape.reduce((p, q) => p * q, 1);
    const out = new Float32Array(n);
    const s = a.scale === undefined ? 1 : a.scale;
    for (let i = 0; i < n; i++) {
      switch (a.type) {
        case 'f32': out[i] = view.getFloat32(4 * i, true); break;
        case 'i16': out[i] = view.getInt16(2 * i, true) * s; break;
        case 'u16': out[i] = view.getUint16(2 * i, true) * s; break;
        case 'u8': out[i] = view.getUint8(i) * s; break;
        default: throw new Error('unknown array type ' + a.type);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- camera maths (column-major 4x4)
  function lookAt(eye, target, up) {
    let fx = target[0] - eye[0], fy = target[1] - eye[1], fz = target[2] - eye[2];
    let l = Math.hypot(fx, fy, fz); fx /= l; fy /= l; fz /= l;
    let sx = fy * up[2] - fz * up[1], sy = fz * up[0] - fx * up[2], sz = fx * up[1] - fy * up[0];
    l = Math.hypot(sx, sy, sz); sx /= l; sy /= l; sz /= l;
    const ux = sy * fz - sz * fy, uy = sz * fx - sx * fz, uz = sx * fy - sy * fx;
    return [sx, ux, -fx, 0, sy, uy, -fy, 0, sz, uz, -fz, 0,
      -(sx * eye[0] + sy * eye[1] + sz * eye[2]), -(ux * eye[0] + uy * eye[1] + uz * eye[2]),
      fx * eye[0] + fy * eye[1] + fz * eye[2], 1];
  }
  function perspective(fovyRad, aspect, near, far) {
    const f = 1 / Math.tan(fovyRad / 2);
    return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) / (near - far), -1, 0, 0, 2 * far * near / (near - far), 0];
  }
  function multiply(a, b) {
    const o = new Array(16);
    for (let c = 0; c < 4; c++)
      for (let r = 0; r < 4; r++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
        o[c * 4 + r] = s;
      }
    return o;
  }
  function toClip(m, x, y, z) {
    return [m[0] * x + m[4] * y + m[8] * z + m[12], m[1] * x + m[5] * y + m[9] * z + m[13],
      m[2] * x + m[6] * y + m[10] * z + m[14], m[3] * x + m[7] * y + m[11] * z + m[15]];
  }
  const kNearW = 0.05;  // clip-space w below which a point is behind the camera

  // ---------------------------------------------------------------- colours
  const kGrey = [206, 210, 216];  // an unloaded pressure cell
  const kNoiseFloor_n_cm2 = 0.5;   // pressures up to this are drawn as unloaded
  // Pressure colour ramp: grey at zero, through yellow and orange to dark red at the page's maximum.
  const kRamp = [[0, kGrey], [0.2, [250, 210, 40]], [0.55, [235, 90, 25]], [1, [150, 10, 40]]];
  function rampColour(t) {
    t = Math.max(0, Math.min(1, t));
    for (let i = 1; i < kRamp.length; i++)
      if (t <= kRamp[i][0]) {
        const [t0, c0] = kRamp[i - 1], [t1, c1] = kRamp[i];
        const u = (t - t0) / (t1 - t0);
        return 'rgb(' + c0.map((v, k) => Math.round(v + u * (c1[k] - v))).join(',') + ')';
      }
    return 'rgb(' + kRamp[kRamp.length - 1][1].join(',') + ')';
  }
  const kComponentColours = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];

  // Insole outline in the layout's frame (x towards the toes, y towards the medial side, both about
  // -0.5..0.5; y in fractions of the insole width): drawn by hand around the 16 sensor positions of
  // data/moticon/sensor-layout.json. Rows: x, medial edge y, lateral edge y.
  const kOutline = [[-0.5, -0.02, -0.08], [-0.47, 0.12, -0.22], [-0.4, 0.18, -0.3], [-0.3, 0.19, -0.34],
    [-0.15, 0.17, -0.4], [0, 0.21, -0.49], [0.1, 0.31, -0.54], [0.2, 0.37, -0.57], [0.3, 0.38, -0.53],
    [0.4, 0.34, -0.43], [0.46, 0.26, -0.3], [0.5, 0.12, -0.1]];
  const kWidthPerLength = 0.42;  // insole width / length, to draw y in the same units as x

  function el(tag, attrs, parent) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (parent) parent.appendChild(e);
    return e;
  }
  function svgEl(tag, attrs, parent) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // ---------------------------------------------------------------- the player
  class Player {
    constructor(container, data, options) {
      this.data = data;
      this.options = options || {};
      this.fps = data.fps;
      this.frames = data.frames;
      this.frame = 0;
      this.playing = false;
      this.speed = 1;
      this.showTruth = true;
      this.showTrail = true;
      this.follow = true;
      this.tracks = data.tracks.map((t) => ({
        label: t.label, kind: t.kind, colour: t.colour, parents: t.parents,
        root: decodeArray(t.root), joints: decodeArray(t.joints), count: t.parents.length,
        attention: decodeArray(t.attention),
      }));
      this.truth = this.tracks.find((t) => t.kind === 'truth') || null;
      this.recons = this.tracks.filter((t) => t.kind !== 'truth');
      if (this.recons.length === 0 && this.truth) this.recons = [this.truth];
      const ins = data.insoles;
      this.insoles = ins ? {
        pressure: decodeArray(ins.pressure), force: decodeArray(ins.force), cop: decodeArray(ins.cop),
        stance: decodeArray(ins.stance), x: ins.layout.x_anterior, y: ins.layout.y_medial, area: ins.layout.area_cm2,
        maxPressure: ins.max_pressure_n_cm2, maxForce: ins.max_force_n,
      } : null;
      this.floor = data.floor_m || 0;
      this.camera = { yaw: 0, pitch: 0.3, distance: 4.2, fovy: 40 * Math.PI / 180 };
      this.resetCamera();
      this.build(container);
      this.resize();
      this.setFrame(0);
    }

    // Camera yaw looks at the walk from the side: perpendicular to the first track's travel.
    resetCamera() {
      const r = this.recons[0].root, n = this.frames;
      const dx = r[3 * (n - 1)] - r[0], dz = r[3 * (n - 1) + 2] - r[2];
      const heading = Math.hypot(dx, dz) > 0.3 ? Math.atan2(dx, dz) : 0;
      this.camera.yaw = heading + Math.PI / 2;
      this.camera.pitch = 0.3;
      this.camera.distance = 4.2;
    }

    build(container) {
      const root = el('div', { class: 's2m-player', tabindex: '0' }, container);
      this.rootEl = root;
      const top = el('div', { class: 's2m-top' }, root);
      this.canvas = el('canvas', { class: 's2m-scene' }, top);
      if (this.insoles) {
        const side = el('div', { class: 's2m-insoles' }, top);
        this.insoleCanvas = el('canvas', { class: 's2m-insole-canvas', width: '300', height: '330' }, side);
        this.insoleText = el('div', { class: 's2m-insole-text' }, side);
      }
      const bar = el('div', { class: 's2m-controls' }, root);
      this.playButton = el('button', { type: 'button', title: 'play / pause (space)', text: '▶' }, bar);
      this.scrubber = el('input', { type: 'range', min: '0', max: String(this.frames - 1), value: '0', step: '1', class: 's2m-scrubber' }, bar);
      this.timeLabel = el('span', { class: 's2m-time' }, bar);
      const speed = el('select', { title: 'playback speed (+ / -)' }, bar);
      for (const s of [0.1, 0.25, 0.5, 1, 2, 4]) el('option', { value: String(s), text: s + '×' }, speed);
      speed.value = '1';
      this.speedSelect = speed;
      const toggles = el('span', { class: 's2m-toggles' }, bar);
      const toggle = (label, key, title) => {
        const l = el('label', { title: title }, toggles);
        const c = el('input', { type: 'checkbox' }, l);
        c.checked = this[key];
        l.appendChild(document.createTextNode(label));
        c.addEventListener('change', () => { this[key] = c.checked; this.render(); });
        return c;
      };
      this.truthBox = this.truth && this.truth !== this.recons[0] ? toggle('truth', 'showTruth', 'ground truth (g)') : null;
      this.trailBox = toggle('trail', 'showTrail', 'root trail (t)');
      this.followBox = toggle('follow', 'follow', 'camera follows the root (f)');
      el('span', { class: 's2m-help', text: 'space play · ←/→ frame · shift ±1 s · +/- speed · home/end · g truth · t trail · f follow · r camera · drag orbit · wheel zoom' }, bar);
      this.legend = el('div', { class: 's2m-legend' }, root);
      for (const t of this.recons) {
        const s = el('span', {}, this.legend);
        el('i', { style: 'background:' + t.colour }, s);
        s.appendChild(document.createTextNode(t.label));
      }
      if (this.truth && this.truth !== this.recons[0]) {
        const s = el('span', {}, this.legend);
        el('i', { style: 'background:' + this.truth.colour }, s);
        s.appendChild(document.createTextNode(this.truth.label));
      }
      this.buildAttention(root);

      this.playButton.addEventListener('click', () => this.toggle());
      this.scrubber.addEventListener('input', () => { this.pause(); this.setFrame(Number(this.scrubber.value)); });
      speed.addEventListener('change', () => { this.speed = Number(speed.value); });
      root.addEventListener('keydown', (e) => this.onKey(e));
      let drag = null;
      this.canvas.addEventListener('pointerdown', (e) => {
        drag = [e.clientX, e.clientY];
        this.canvas.setPointerCapture(e.pointerId);
        root.focus({ preventScroll: true });  // keyboard shortcuts go to the player last touched
      });
      this.canvas.addEventListener('pointerup', () => { drag = null; });
      this.canvas.addEventListener('pointermove', (e) => {
        if (!drag) return;
        this.camera.yaw -= (e.clientX - drag[0]) * 0.01;
        this.camera.pitch = Math.max(-0.2, Math.min(1.45, this.camera.pitch + (e.clientY - drag[1]) * 0.01));
        drag = [e.clientX, e.clientY];
        this.render();
      });
      this.canvas.addEventListener('wheel', (e) => {
        e.preventDefault();
        this.camera.distance = Math.max(1, Math.min(40, this.camera.distance * Math.exp(e.deltaY * 0.001)));
        this.render();
      }, { passive: false });
      window.addEventListener('resize', () => { this.resize(); this.render(); });
    }

    // One SVG per track with attention weights: 8 rows (insole components) over the whole sequence.
    buildAttention(root) {
      const withAttention = this.recons.filter((t) => t.attention);
      this.attentionCursors = [];
      if (!withAttention.length) return;
      const box = el('div', { class: 's2m-attention' }, root);
      const head = el('div', { class: 's2m-attention-head' }, box);
      head.appendChild(document.createTextNode('Attention on the current frame of each insole component (mean over layers), for '));
      const part = el('select', {}, head);
      const parts = this.data.body_parts || ['left_leg', 'right_leg', 'body'];
      parts.forEach((p, i) => el('option', { value: String(i), text: p.replace('_', ' ') }, part));
      el('option', { value: '-1', text: 'mean of body parts' }, part);
      part.value = '-1';
      const svgs = el('div', {}, box);
      const draw = () => {
        svgs.textContent = '';
        this.attentionCursors = [];
        for (const t of withAttention) this.attentionCursors.push(this.attentionPlot(svgs, t, Number(part.value)));
        this.updateCursor();
      };
      part.addEventListener('change', draw);
      draw();
    }

    attentionPlot(parent, track, part) {
      const comps = this.data.components, C = comps.length, P = 3, F = this.frames;
      const rowH = 18, left = 110, width = 1000, height = C * rowH + 28;
      const wrap = el('div', { class: 's2m-attention-plot' }, parent);
      el('div', { class: 's2m-attention-label', text: track.label }, wrap);
      const svg = svgEl('svg', { viewBox: '0 0 ' + width + ' ' + height, preserveAspectRatio: 'none' }, wrap);
      const value = (f, c) => {
        if (part >= 0) return track.attention[(f * P + part) * C + c];
        let s = 0;
        for (let p = 0; p < P; p++) s += track.attention[(f * P + p) * C + c];
        return s / P;
      };
      // Rows share one scale, from the smallest to the largest weight shown: comparable between
      // components, and the changes over time stay visible.
      let vmin = Infinity, vmax = -Infinity;
      for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) { const v = value(f, c); vmin = Math.min(vmin, v); vmax = Math.max(vmax, v); }
      if (!(vmax > vmin)) vmax = vmin + 1e-6;
      const bins = Math.min(F, 900), plotW = width - left - 10;
      for (let c = 0; c < C; c++) {
        const y0 = 8 + (c + 1) * rowH;
        svgEl('text', { x: 4, y: y0 - 4, class: 's2m-attention-name' }, svg).textContent = comps[c].replace('_', ' ');
        let pts = left + ',' + y0;
        for (let b = 0; b < bins; b++) {
          const f0 = Math.floor(b * F / bins), f1 = Math.max(f0 + 1, Math.floor((b + 1) * F / bins));
          let s = 0;
          for (let f = f0; f < f1; f++) s += value(f, c);
          const v = (s / (f1 - f0) - vmin) / (vmax - vmin);
          pts += ' ' + (left + (b + 0.5) * plotW / bins).toFixed(1) + ',' + (y0 - v * (rowH - 3)).toFixed(1);
        }
        pts += ' ' + (left + plotW) + ',' + y0;
        svgEl('polygon', { points: pts, fill: kComponentColours[c % kComponentColours.length], 'fill-opacity': '0.75' }, svg);
      }
      svgEl('text', { x: width - 10, y: height - 2, 'text-anchor': 'end', class: 's2m-attention-name' }, svg).textContent =
        'row height: weight from ' + vmin.toFixed(3) + ' (empty) to ' + vmax.toFixed(3) + ' (full row)';
      const cursor = svgEl('line', { y1: 4, y2: height - 12, class: 's2m-cursor' }, svg);
      return { cursor, left, plotW };
    }

    updateCursor() {
      for (const c of this.attentionCursors || []) {
        const x = c.left + (this.frame + 0.5) * c.plotW / this.frames;
        c.cursor.setAttribute('x1', x.toFixed(1));
        c.cursor.setAttribute('x2', x.toFixed(1));
      }
    }

    resize() {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(200, this.canvas.clientWidth), h = Math.max(150, this.canvas.clientHeight);
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.cssSize = [w, h];
    }

    onKey(e) {
      const k = e.key;
      let used = true;
      if (k === ' ' || k === 'k') this.toggle();
      else if (k === 'ArrowRight') { this.pause(); this.setFrame(this.frame + (e.shiftKey ? Math.round(this.fps) : 1)); }
      else if (k === 'ArrowLeft') { this.pause(); this.setFrame(this.frame - (e.shiftKey ? Math.round(this.fps) : 1)); }
      else if (k === 'Home') this.setFrame(0);
      else if (k === 'End') this.setFrame(this.frames - 1);
      else if (k === '+' || k === '=') this.stepSpeed(1);
      else if (k === '-') this.stepSpeed(-1);
      else if (k === 'g' && this.truthBox) { this.showTruth = !this.showTruth; this.truthBox.checked = this.showTruth; this.render(); }
      else if (k === 't') { this.showTrail = !this.showTrail; this.trailBox.checked = this.showTrail; this.render(); }
      else if (k === 'f') { this.follow = !this.follow; this.followBox.checked = this.follow; this.render(); }
      else if (k === 'r') { this.resetCamera(); this.render(); }
      else used = false;
      if (used) e.preventDefault();
    }

    stepSpeed(d) {
      const opts = Array.from(this.speedSelect.options).map((o) => Number(o.value));
      const i = Math.max(0, Math.min(opts.length - 1, opts.indexOf(this.speed) + d));
      this.speed = opts[i];
      this.speedSelect.value = String(this.speed);
    }

    toggle() { if (this.playing) this.pause(); else this.play(); }
    pause() { this.playing = false; this.playButton.textContent = '▶'; }
    play() {
      if (this.playing) return;
      this.playing = true;
      this.playButton.textContent = '❚❚';
      let last = null, clock = this.frame / this.fps;
      const tick = (now) => {
        if (!this.playing) return;
        if (last !== null) clock += (now - last) / 1000 * this.speed;
        last = now;
        let f = Math.floor(clock * this.fps);
        if (f >= this.frames) { clock = 0; f = 0; }
        if (f !== this.frame) this.setFrame(f);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }

    setFrame(f) {
      this.frame = Math.max(0, Math.min(this.frames - 1, Math.round(f)));
      this.scrubber.value = String(this.frame);
      const t = this.frame / this.fps, total = (this.frames - 1) / this.fps;
      this.timeLabel.textContent = 'frame ' + this.frame + ' · ' + t.toFixed(2) + ' / ' + total.toFixed(2) + ' s';
      this.render();
      this.updateCursor();
    }

    // World position of joint j of a track at frame f.
    joint(track, f, j) {
      const r = 3 * f, q = 3 * (f * track.count + j);
      return [track.root[r] + track.joints[q], track.root[r + 1] + track.joints[q + 1], track.root[r + 2] + track.joints[q + 2]];
    }

    // Panels: one per reconstruction, side by side; each with its own view-projection matrix.
    panels() {
      const [w, h] = this.cssSize, n = this.recons.length, pw = w / n;
      const c = this.camera;
      return this.recons.map((track, i) => {
        const f = this.follow ? this.frame : 0;
        const target = [track.root[3 * f], this.floor + 0.9, track.root[3 * f + 2]];
        const eye = [target[0] + c.distance * Math.cos(c.pitch) * Math.sin(c.yaw), target[1] + c.distance * Math.sin(c.pitch),
          target[2] + c.distance * Math.cos(c.pitch) * Math.cos(c.yaw)];
        const viewProj = multiply(perspective(c.fovy, pw / h, 0.05, 200), lookAt(eye, target, [0, 1, 0]));
        return { track, x: i * pw, y: 0, width: pw, height: h, viewProj, target };
      });
    }

    render() {
      const ctx = this.canvas.getContext('2d');
      const dpr = this.canvas.width / this.cssSize[0];
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = '#f7f7f4';
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      for (const p of this.panels()) {
        ctx.save();
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.beginPath();
        ctx.rect(p.x, p.y, p.width, p.height);
        ctx.clip();
        this.drawPanel(ctx, p);
        ctx.restore();
        if (p.x > 0) {
          ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
          ctx.strokeStyle = '#bbb';
          ctx.lineWidth = 1;
          ctx.beginPath(); ctx.moveTo(p.x, 0); ctx.lineTo(p.x, p.height); ctx.stroke();
        }
      }
      if (this.insoles) this.renderInsoles();
    }

    drawPanel(ctx, p) {
      const project = (x, y, z) => {
        const c = toClip(p.viewProj, x, y, z);
        return c;
      };
      const toPixel = (c) => [p.x + (c[0] / c[3] + 1) / 2 * p.width, p.y + (1 - c[1] / c[3]) / 2 * p.height];
      // A segment clipped against the near plane (w = kNearW), in page pixels; null if behind.
      const segment = (a, b) => {
        let ca = project(a[0], a[1], a[2]), cb = project(b[0], b[1], b[2]);
        if (ca[3] < kNearW && cb[3] < kNearW) return null;
        if (ca[3] < kNearW || cb[3] < kNearW) {
          const u = (kNearW - ca[3]) / (cb[3] - ca[3]);
          const m = ca.map((v, k) => v + u * (cb[k] - v));
          if (ca[3] < kNearW) ca = m; else cb = m;
        }
        return [toPixel(ca), toPixel(cb)];
      };
      // Ground grid: 0.5 m squares, 12 m around the target.
      const step = 0.5, half = 12, gx = Math.round(p.target[0] / step) * step, gz = Math.round(p.target[2] / step) * step;
      ctx.lineWidth = 1;
      for (let i = -half / step; i <= half / step; i++) {
        ctx.strokeStyle = i % 2 === 0 ? '#d2d2cc' : '#e4e4de';
        for (const s of [segment([gx + i * step, this.floor, gz - half], [gx + i * step, this.floor, gz + half]),
          segment([gx - half, this.floor, gz + i * step], [gx + half, this.floor, gz + i * step])]) {
          if (!s) continue;
          ctx.beginPath(); ctx.moveTo(s[0][0], s[0][1]); ctx.lineTo(s[1][0], s[1][1]); ctx.stroke();
        }
      }
      // Root trail on the floor, up to the current frame.
      const trail = (track, colour) => {
        const every = Math.max(1, Math.floor(this.frames / 3000));
        ctx.strokeStyle = colour;
        ctx.lineWidth = 2;
        ctx.globalAlpha = 0.55;
        ctx.beginPath();
        let prev = null;
        for (let f = 0; f <= this.frame; f += every) {
          const q = [track.root[3 * f], this.floor, track.root[3 * f + 2]];
          if (prev) {
            const s = segment(prev, q);
            if (s) { ctx.moveTo(s[0][0], s[0][1]); ctx.lineTo(s[1][0], s[1][1]); }
          }
          prev = q;
        }
        ctx.stroke();
        ctx.globalAlpha = 1;
      };
      const showTruth = this.truth && this.showTruth && this.truth !== p.track;
      if (this.showTrail) {
        if (showTruth) trail(this.truth, this.truth.colour);
        trail(p.track, p.track.colour);
      }
      const skeleton = (track, colour) => {
        const pos = [];
        for (let j = 0; j < track.count; j++) pos.push(this.joint(track, this.frame, j));
        ctx.strokeStyle = colour;
        ctx.fillStyle = colour;
        ctx.lineWidth = 3;
        ctx.lineCap = 'round';
        for (let j = 0; j < track.count; j++) {
          const pa = track.parents[j];
          if (pa < 0) continue;
          const s = segment(pos[pa], pos[j]);
          if (!s) continue;
          ctx.beginPath(); ctx.moveTo(s[0][0], s[0][1]); ctx.lineTo(s[1][0], s[1][1]); ctx.stroke();
        }
        for (let j = 0; j < track.count; j++) {
          const c = project(pos[j][0], pos[j][1], pos[j][2]);
          if (c[3] < kNearW) continue;
          const q = toPixel(c);
          ctx.beginPath(); ctx.arc(q[0], q[1], 4, 0, 2 * Math.PI); ctx.fill();
        }
      };
      if (showTruth) skeleton(this.truth, this.truth.colour);
      skeleton(p.track, p.track.colour);
      ctx.fillStyle = '#333';
      ctx.font = '13px sans-serif';
      ctx.fillText(p.track.label, p.x + 8, p.y + 18);
    }

    // Both feet seen from above, toes up; medial sides face each other.
    insoleGeometry() {
      const W = this.insoleCanvas.width, H = this.insoleCanvas.height;
      const len = H - 70, footW = W / 2;
      const feet = [0, 1].map((foot) => {
        const cx = footW * foot + footW / 2 + (foot === 0 ? 6 : -6), cy = 22 + len / 2;
        const mirror = foot === 0 ? 1 : -1;  // left: medial to the right; right: medial to the left
        const at = (x, y) => [cx + mirror * y * kWidthPerLength * len, cy - x * len];
        return { at, cx, cy };
      });
      let amax = 0;
      for (const a of this.insoles.area) amax = Math.max(amax, a);
      const radius = (k) => 0.04 * len * Math.sqrt(this.insoles.area[k] / amax);
      return { feet, len, radius };
    }

    renderInsoles() {
      const ins = this.insoles, f = this.frame, ctx = this.insoleCanvas.getContext('2d');
      const W = this.insoleCanvas.width, H = this.insoleCanvas.height;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, W, H);
      const g = this.insoleGeometry();
      const text = [];
      for (let foot = 0; foot < 2; foot++) {
        const { at } = g.feet[foot];
        ctx.beginPath();
        kOutline.forEach((r, i) => { const q = at(r[0], r[1]); if (i === 0) ctx.moveTo(q[0], q[1]); else ctx.lineTo(q[0], q[1]); });
        for (let i = kOutline.length - 1; i >= 0; i--) { const q = at(kOutline[i][0], kOutline[i][2]); ctx.lineTo(q[0], q[1]); }
        ctx.closePath();
        ctx.fillStyle = '#f1f1ee';
        ctx.fill();
        ctx.strokeStyle = '#888';
        ctx.lineWidth = 1.5;
        ctx.stroke();
        for (let k = 0; k < 16; k++) {
          const p = ins.pressure[(f * 2 + foot) * 16 + k];
          const q = at(ins.x[k], ins.y[k]);
          ctx.beginPath();
          ctx.arc(q[0], q[1], g.radius(k), 0, 2 * Math.PI);
          // At or below the sensors' noise floor a cell is drawn unloaded (a foot in swing reads a
          // few tenths of N/cm² on some cells).
          ctx.fillStyle = p <= kNoiseFloor_n_cm2 ? rampColour(0) : rampColour(p / ins.maxPressure);
          ctx.fill();
          ctx.strokeStyle = '#777';
          ctx.lineWidth = 0.75;
          ctx.stroke();
        }
        const force = ins.force[f * 2 + foot], stance = ins.stance[f * 2 + foot] > 0.5;
        if (stance) {
          const q = at(ins.cop[(f * 2 + foot) * 2], ins.cop[(f * 2 + foot) * 2 + 1]);
          ctx.strokeStyle = '#000';
          ctx.lineWidth = 2;
          ctx.beginPath(); ctx.arc(q[0], q[1], 6, 0, 2 * Math.PI); ctx.stroke();
          ctx.beginPath(); ctx.moveTo(q[0] - 9, q[1]); ctx.lineTo(q[0] + 9, q[1]); ctx.moveTo(q[0], q[1] - 9); ctx.lineTo(q[0], q[1] + 9); ctx.stroke();
        }
        // Total force bar along the outer edge.
        const bx = foot === 0 ? 4 : W - 12, by0 = 22, bh = g.len;
        ctx.fillStyle = '#eee';
        ctx.fillRect(bx, by0, 8, bh);
        const fh = Math.min(1, force / ins.maxForce) * bh;
        ctx.fillStyle = stance ? '#c0392b' : '#999';
        ctx.fillRect(bx, by0 + bh - fh, 8, fh);
        ctx.fillStyle = '#222';
        ctx.font = '12px sans-serif';
        ctx.textAlign = 'center';
        ctx.fillText((foot === 0 ? 'left' : 'right'), g.feet[foot].cx, 14);
        ctx.fillText(Math.round(force) + ' N · ' + (stance ? 'stance' : 'swing'), g.feet[foot].cx, H - 30);
        ctx.textAlign = 'left';
        text.push((foot === 0 ? 'L ' : 'R ') + Math.round(force) + ' N ' + (stance ? 'stance' : 'swing'));
      }
      // Colour scale.
      for (let i = 0; i < 100; i++) {
        ctx.fillStyle = rampColour(i / 99);
        ctx.fillRect(30 + i * 1.8, H - 16, 1.9, 8);
      }
      ctx.fillStyle = '#222';
      ctx.font = '11px sans-serif';
      ctx.fillText('0', 20, H - 8);
      ctx.fillText(ins.maxPressure.toFixed(1) + ' N/cm²', 30 + 186, H - 8);
      this.insoleText.textContent = text.join(' · ');
    }

    // For tests and scripts: where things are on the page (CSS pixels), and the cameras.
    layout() {
      const rect = this.canvas.getBoundingClientRect();
      const panels = this.panels().map((p) => ({
        track: this.tracks.indexOf(p.track), label: p.track.label,
        left: rect.left + window.scrollX + p.x, top: rect.top + window.scrollY + p.y, width: p.width, height: p.height,
        view_projection: p.viewProj,
      }));
      const out = { frame: this.frame, device_pixel_ratio: window.devicePixelRatio || 1, panels, colours: this.tracks.map((t) => t.colour) };
      if (this.insoles) {
        const r = this.insoleCanvas.getBoundingClientRect(), g = this.insoleGeometry();
        const sx = r.width / this.insoleCanvas.width, sy = r.height / this.insoleCanvas.height;
        out.insole_cells = [0, 1].map((foot) => {
          const cells = [];
          for (let k = 0; k < 16; k++) {
            const q = g.feet[foot].at(this.insoles.x[k], this.insoles.y[k]);
            cells.push({ x: r.left + window.scrollX + q[0] * sx, y: r.top + window.scrollY + q[1] * sy, radius: g.radius(k) * sx });
          }
          return cells;
        });
        out.stance = [0, 1].map((foot) => this.insoles.stance[this.frame * 2 + foot] > 0.5);
      }
      return out;
    }
  }

  // ---------------------------------------------------------------- page start
  // Every JSON script element of class s2m-data holds a player's data; with several (a
  // report's worst clips) a selector switches between them. URL hash: #frame=N starts there, paused;
  // #test writes layout() into <pre id="s2m-test"> for the browser test.
  function boot() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const sources = Array.from(document.querySelectorAll('script.s2m-data'));
    const container = document.getElementById('s2m-player');
    if (!container || !sources.length) return;
    const datasets = sources.map((s) => JSON.parse(s.textContent));
    let player = null;
    const holder = el('div', {}, null);
    const show = (i) => {
      holder.textContent = '';
      player = new Player(holder, datasets[i]);
      window.s2mPlayer = player;
      if (hash.has('frame')) player.setFrame(Number(hash.get('frame')));
    };
    if (datasets.length > 1) {
      const pick = el('select', { class: 's2m-clip-select' }, container);
      datasets.forEach((d, i) => el('option', { value: String(i), text: d.title }, pick));
      pick.addEventListener('change', () => show(Number(pick.value)));
    }
    container.appendChild(holder);
    show(0);
    if (datasets.length === 1) player.rootEl.focus({ preventScroll: true });  // shortcuts work at once
    if (!hash.has('frame') && !hash.has('test') && hash.get('play') !== '0' && !container.dataset.noAutoplay) player.play();
    if (hash.has('test')) {
      // ready_ms: from the start of navigation to the first frame drawn (decoding included).
      const layout = player.layout();
      layout.ready_ms = Math.round(performance.now());
      el('pre', { id: 's2m-test', text: JSON.stringify(layout) }, document.body);
    }
  }

  window.S2M = { Player, boot, decodeArray, lookAt, perspective, multiply };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
