#!/usr/bin/env python3
"""The Step2Motion networks written the way the authors' PyTorch code builds them (standard
nn.MultiheadAttention, nn.LayerNorm, nn.Linear, per-component insole cross-attention with einsum),
timed on the same LibTorch as s2m (Debian's python3-torch 1.13), so that `s2m bench` can be held
against "the reference" in the same run.

    python3 tools/bench/reference_bench.py [--threads 2] [--json] [--parity FIXTURE.pt]

Prints training windows/s (batch 64, forward + backward + Adam) and ms per denoiser pass (batch 1)
in fp32 and under torch.autocast("cpu", bfloat16), at the paper's size (hidden 256, 2 layers,
window 100). With --parity it first checks that this implementation reproduces a reference
fixture's outputs (../shared/fixtures/parity/*.pt) to 1e-4, i.e. that it is the same network.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

COMPONENTS = [("lpressure_toes", 8, 8), ("lpressure_heel", 0, 8), ("limu", 16, 6), ("lothers", 22, 3),
              ("rpressure_toes", 33, 8), ("rpressure_heel", 25, 8), ("rimu", 41, 6), ("rothers", 47, 3)]


def sinusoidal(rows, dim):
    position = torch.arange(rows, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2, dtype=torch.float) * (-math.log(10000.0) / dim))
    pe = torch.zeros(rows, dim)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


class PE(nn.Module):
    def __init__(self, rows, dim):
        super().__init__()
        self.register_buffer("positional_encoding", sinusoidal(rows, dim))


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        if i:
            layers.append(nn.GELU())
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    return nn.Sequential(*layers)


class DenoiserLayer(nn.Module):
    def __init__(self, d, heads, d_ff, dropout):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        self.linear_tmp = nn.Linear(d, d)
        self.norm1, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, step, cross):
        h = self.norm1(x)
        x = x + self.drop(self.self_attn(h, h, h, need_weights=False)[0])
        x = x + self.drop(self.linear_tmp(step)).unsqueeze(1)
        if cross is not None:
            x = x + self.drop(cross(x))
        return x + self.drop(self.linear2(self.drop(F.gelu(self.linear1(self.norm3(x))))))


class Prior(nn.Module):
    def __init__(self, d, layers, heads, d_ff, T, diffusion_T, dropout):
        super().__init__()
        self.register_buffer("normalizer_id", torch.zeros((), dtype=torch.long))
        self.left_leg_emb, self.right_leg_emb, self.body_emb = nn.Linear(12, d), nn.Linear(12, d), nn.Linear(39, d)
        self.timestep_emb = mlp([d, d, d])
        self.temporal_pe = PE(max(T, diffusion_T + 1), d)
        self.decoder_layers = nn.ModuleList([DenoiserLayer(d, heads, d_ff, dropout) for _ in range(layers)])
        self.out_proj_left_leg, self.out_proj_right_leg = nn.Linear(d, 12), nn.Linear(d, 12)
        self.out_proj_body = nn.Linear(d, 39)

    def forward(self, x, t, control=None, cond=None):
        S = x.shape[1]
        pe = self.temporal_pe.positional_encoding[:S]
        tok = torch.cat([self.left_leg_emb(x[..., :12]) + pe, self.right_leg_emb(x[..., 12:24]) + pe,
                         self.body_emb(x[..., 24:]) + pe], 1)
        step = self.timestep_emb(self.temporal_pe.positional_encoding[t])
        for i, layer in enumerate(self.decoder_layers):
            cross = None if control is None else (lambda h, i=i: control.attend(i, h, cond))
            tok = layer(tok, step, cross)
        return torch.cat([self.out_proj_left_leg(tok[:, :S]), self.out_proj_right_leg(tok[:, S:2 * S]),
                          self.out_proj_body(tok[:, 2 * S:])], 2)


class CrossAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        h, dh = 8, d // 8
        b = 1 / math.sqrt(d)
        self.proj_q = nn.Parameter(torch.empty(h, d, dh).uniform_(-b, b))
        self.bias_q = nn.Parameter(torch.empty(1, h, 1, dh).uniform_(-b, b))
        self.proj_k = nn.Parameter(torch.empty(h, d, dh).uniform_(-b, b))
        self.bias_k = nn.Parameter(torch.empty(1, h, 1, dh).uniform_(-b, b))
        self.proj_v = nn.Parameter(torch.empty(h, d, dh).uniform_(-b, b))
        self.bias_v = nn.Parameter(torch.empty(1, h, 1, dh).uniform_(-b, b))
        self.register_buffer("scale", torch.tensor(math.sqrt(dh), dtype=torch.float64))
        self.output_proj = nn.Linear(d, d, bias=False)

    def forward(self, x, c):  # x [B, N, d], c [B, 8, S, d]
        q = torch.einsum("bnd,hde->bhne", x, self.proj_q) + self.bias_q
        k = torch.einsum("bhsd,hde->bhse", c, self.proj_k) + self.bias_k
        v = torch.einsum("bhsd,hde->bhse", c, self.proj_v) + self.bias_v
        a = torch.softmax(q @ k.transpose(-1, -2) / self.scale.float(), -1)
        out = (a @ v).transpose(1, 2).reshape(x.shape)
        return self.output_proj(out)


class CondLayer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.cross_attn, self.norm = CrossAttention(d), nn.LayerNorm(d)


class Control(nn.Module):
    def __init__(self, d, layers, T):
        super().__init__()
        self.register_buffer("normalizer_id", torch.zeros((), dtype=torch.long))
        self.temporal_pe = PE(T, d)
        for name, _, n in COMPONENTS:
            setattr(self, "condition_emb_" + name, mlp([n, d, d, d]))
        self.decoder_layers = nn.ModuleList([CondLayer(d) for _ in range(layers)])

    def encode(self, c, c_mask):
        pe = self.temporal_pe.positional_encoding[:c.shape[1]]
        toks = [getattr(self, "condition_emb_" + n)(c[..., o:o + k]) * c_mask.view(-1, 1, 1) + pe
                for n, o, k in COMPONENTS]
        return torch.stack(toks, 1)

    def attend(self, i, x, cond):
        layer = self.decoder_layers[i]
        return layer.cross_attn(layer.norm(x), cond)


class Root(nn.Module):
    def __init__(self, d, heads, d_ff, T, dropout):
        super().__init__()
        self.register_buffer("normalizer_id", torch.zeros((), dtype=torch.long))
        self.temporal_pe = PE(T, d)
        self.input_emb = mlp([12, d, d])
        enc = nn.TransformerEncoderLayer(d, heads, d_ff, dropout, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, 1, enable_nested_tensor=False)
        self.linear = nn.Linear(d, 3)

    def forward(self, c):
        imu = torch.cat([c[..., 16:22], c[..., 41:47]], -1)
        return self.linear(self.encoder(self.input_emb(imu) + self.temporal_pe.positional_encoding[:c.shape[1]]))


class Step2Motion(nn.Module):
    def __init__(self, d=256, layers=2, heads=4, d_ff=512, T=100, diffusion_T=200, dropout=0.1):
        super().__init__()
        self.prior = Prior(d, layers, heads, d_ff, T, diffusion_T, dropout)
        self.control = Control(d, layers, T)
        self.root = Root(d, heads, d_ff, T, dropout)

    def denoise(self, x, t, c, c_mask):
        return self.prior(x, t, self.control, self.control.encode(c, c_mask))


def schedule(T):
    b = torch.cat([torch.zeros(1), torch.linspace(1e-4, 0.02, T)])
    cum = torch.cumprod(1 - b, 0)
    return cum.sqrt(), (1 - cum).sqrt()


def check_parity(path):
    d = torch.load(path)
    cfg = {k[7:]: int(v) for k, v in d.items() if k.startswith("config.")}
    m = Step2Motion(cfg["hidden_dim"], cfg["num_layers"], cfg["n_heads"], cfg["d_ff"], cfg["input_T"], cfg["diffusion_T"])
    state = {k: v for k, v in d.items() if k.split(".")[0] in ("prior", "control", "root")}
    m.load_state_dict(state)
    m.eval()
    with torch.no_grad():
        cond = m.denoise(d["in.x_t"], d["in.t"], d["in.c"], d["in.c_mask"].float())
        uncond = m.prior(d["in.x_t"], d["in.t"])
        disp = m.root(d["in.c"])
    err = max((cond - d["out.pose_cond"]).abs().max().item(), (uncond - d["out.pose_uncond"]).abs().max().item(),
              (disp - d["out.displacement"]).abs().max().item())
    return err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5, help="timed training steps per precision")
    ap.add_argument("--precision", choices=["both", "fp32", "bf16"], default="both")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--parity", action="append", default=[])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {"torch": torch.__version__, "threads": a.threads}
    for p in a.parity:
        err = check_parity(p)
        out["parity_max_abs_error:" + p.split("/")[-1]] = err
        if err > 1e-4:
            print(f"reference_bench: {p}: this implementation differs from the fixture by {err}", file=sys.stderr)
            return 1
    torch.manual_seed(0)
    m = Step2Motion()
    sqrt_a, sqrt_1ma = schedule(200)
    B, W = a.batch, 100
    params = list(m.prior.parameters()) + list(m.control.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)

    def train_step(bf16):
        x0, c = torch.randn(B, W, 63), torch.randn(B, W, 50)
        t = torch.randint(0, 201, (B,))
        eps = torch.randn_like(x0)
        x_t = sqrt_a[t].view(-1, 1, 1) * x0 + sqrt_1ma[t].view(-1, 1, 1) * eps
        c_mask = (torch.rand(B) > 0.2).float()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            pred = m.denoise(x_t, t, c, c_mask)
        loss = F.l1_loss(pred.float(), x0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 100)
        opt.step()

    for bf16 in {"both": (False, True), "fp32": (False,), "bf16": (True,)}[a.precision]:
        key = "bf16" if bf16 else "fp32"
        m.train()
        train_step(bf16)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            train_step(bf16)
        out["train_windows_per_s_" + key] = B * a.steps / (time.perf_counter() - t0)
        m.eval()
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            x, c = torch.randn(1, W, 63), torch.randn(1, W, 50)
            t = torch.full((1,), 100)
            cond = m.control.encode(c, torch.ones(1))
            for _ in range(3):
                m.prior(x, t, m.control, cond)
            best = 1e9
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(30):
                    m.prior(x, t, m.control, cond)
                best = min(best, (time.perf_counter() - t0) / 30)
        out["denoiser_pass_ms_" + key] = best * 1e3
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
