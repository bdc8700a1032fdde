#include "step2motion/synth/gait_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "step2motion/io/sensor_layout.hpp"

namespace s2m::synth {

namespace {

double pct(std::vector<double> v, double p) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
    if (v.empty()) return 0;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

std::vector<unsigned char> stance_mask(const io::MoticonFoot& foot, int n, double bw, double rate_hz) {
    std::vector<unsigned char> on(static_cast<size_t>(n), 0);
    bool state = false;
    for (int i = 0; i < n; ++i) {
        const double f = foot.total_force_n(i);
        if (!std::isnan(f) && foot.valid[static_cast<size_t>(i)]) {
            if (!state && f > 0.08 * bw) state = true;
            else if (state && f < 0.04 * bw) state = false;
        }
        on[static_cast<size_t>(i)] = state;
    }
    // Merge gaps shorter than 50 ms, then drop stances shorter than 100 ms.
    const int min_gap = static_cast<int>(std::lround(0.05 * rate_hz)), min_len = static_cast<int>(std::lround(0.1 * rate_hz));
    for (int i = 0; i < n;) {
        if (on[static_cast<size_t>(i)]) { ++i; continue; }
        int j = i;
        while (j < n && !on[static_cast<size_t>(j)]) ++j;
        if (i > 0 && j < n && j - i < min_gap) std::fill(on.begin() + i, on.begin() + j, 1);
        i = j;
    }
    for (int i = 0; i < n;) {
        if (!on[static_cast<size_t>(i)]) { ++i; continue; }
        int j = i;
        while (j < n && on[static_cast<size_t>(j)]) ++j;
        if (j - i < min_len) std::fill(on.begin() + i, on.begin() + j, 0);
        i = j;
    }
    return on;
}

}  // namespace

GaitStats gait_statistics(const io::MoticonRecording& rec, double bw) {
    GaitStats g;
    g.body_weight_n = bw;
    const int n = rec.frames();
    if (n < 2 || !(bw > 0)) return g;
    const double rate = rec.rate_hz > 0 ? rec.rate_hz : 100;
    std::vector<unsigned char> on[2];
    double first_toe_off = std::numeric_limits<double>::infinity(), last_strike = -1;
    for (int s = 0; s < 2; ++s) {
        const io::MoticonFoot& foot = rec.feet[s];
        on[s] = stance_mask(foot, n, bw, rate);
        for (int i = 0; i < n;) {
            if (!on[s][static_cast<size_t>(i)]) { ++i; continue; }
            int j = i;
            while (j < n && on[s][static_cast<size_t>(j)]) ++j;
            Stance st;
            st.begin = i;
            st.end = j;
            st.complete = i > 0 && j < n;
            const int edge = std::max(1, (j - i) * 15 / 100);
            double a = 0, b = 0;
            int na = 0, nb = 0;
            for (int k = i; k < j; ++k) {
                const double f = foot.total_force_n(k);
                if (!std::isnan(f)) st.peak_force_n = std::max(st.peak_force_n, f);
                const double cx = foot.center_of_pressure(k, 0);
                if (std::isnan(cx) || !(f > io::kCopMinForce_n)) continue;  // COP is (0, 0) below
                if (k < i + edge) a += cx, ++na;
                if (k >= j - edge) b += cx, ++nb;
            }
            st.cop_x_start = na ? a / na : 0;
            st.cop_x_end = nb ? b / nb : 0;
            if (j < n) first_toe_off = std::min(first_toe_off, j / rate);
            if (i > 0) last_strike = std::max(last_strike, i / rate);
            g.feet[s].stances.push_back(st);
            i = j;
        }
    }
    // Locomotion span: from the first toe-off to the last heel strike (standing at the ends left out).
    if (!(first_toe_off < last_strike)) {
        g.span_begin_s = 0;
        g.span_end_s = (n - 1) / rate;
    } else {
        g.span_begin_s = first_toe_off;
        g.span_end_s = last_strike;
    }
    // Strides: heel strike to the next heel strike of the same foot, at most 2.5 s (longer ones hold a
    // pause or a turn on the spot). Gait figures are taken over frames inside strides only, so that
    // pauses in a recording do not count as stance.
    constexpr double kMaxStride_s = 2.5;
    std::vector<unsigned char> in_gait(static_cast<size_t>(n), 0);
    std::vector<double> stride_s;
    for (int s = 0; s < 2; ++s) {
        std::vector<double> ratios;
        const auto& st = g.feet[s].stances;
        for (size_t k = 0; k + 1 < st.size(); ++k) {
            if (st[k].begin == 0) continue;
            const int len = st[k + 1].begin - st[k].begin;
            if (len > kMaxStride_s * rate) continue;
            stride_s.push_back(len / rate);
            ratios.push_back(static_cast<double>(st[k].end - st[k].begin) / len);
            std::fill(in_gait.begin() + st[k].begin, in_gait.begin() + st[k + 1].begin, 1);
        }
        g.feet[s].stance_fraction = pct(ratios, 0.5);
    }
    if (!stride_s.empty()) g.cadence_steps_min = 2 * 60.0 / pct(stride_s, 0.5);
    const bool have_strides = std::find(in_gait.begin(), in_gait.end(), 1) != in_gait.end();
    const int i0 = static_cast<int>(std::lround(g.span_begin_s * rate)), i1 = std::max(i0 + 1, static_cast<int>(std::lround(g.span_end_s * rate)));
    if (!have_strides)
        for (int i = i0; i < i1 && i < n; ++i) in_gait[static_cast<size_t>(i)] = 1;

    int both = 0, none = 0, counted = 0;
    double force_sum = 0;
    int force_n = 0;
    for (int i = 0; i < n; ++i) {
        if (!in_gait[static_cast<size_t>(i)]) continue;
        ++counted;
        both += on[0][static_cast<size_t>(i)] && on[1][static_cast<size_t>(i)];
        none += !on[0][static_cast<size_t>(i)] && !on[1][static_cast<size_t>(i)];
        const double f = rec.feet[0].total_force_n(i) + rec.feet[1].total_force_n(i);
        if (!std::isnan(f)) force_sum += f, ++force_n;
    }
    if (counted) {
        g.double_support_fraction = static_cast<double>(both) / counted;
        g.flight_fraction = static_cast<double>(none) / counted;
    }
    if (force_n) g.mean_total_force_bw = force_sum / force_n / bw;

    for (int s = 0; s < 2; ++s) {
        const io::MoticonFoot& foot = rec.feet[s];
        FootGaitStats& fs = g.feet[s];
        std::vector<double> cop, acc[3], gyro[3];
        for (int i = 0; i < n; ++i) {
            if (!in_gait[static_cast<size_t>(i)]) continue;
            if (on[s][static_cast<size_t>(i)]) {
                if (foot.valid[static_cast<size_t>(i)] && foot.total_force_n(i) > io::kCopMinForce_n)
                    cop.push_back(foot.center_of_pressure(i, 0));
            }
            if (!foot.valid[static_cast<size_t>(i)]) continue;
            for (int c = 0; c < 3; ++c) {
                acc[c].push_back(foot.acceleration_g(i, c));
                gyro[c].push_back(foot.angular_rate_deg_s(i, c));
            }
        }
        fs.cop_x_p5 = pct(cop, 0.05);
        fs.cop_x_p95 = pct(cop, 0.95);
        for (int c = 0; c < 3; ++c) {
            fs.acc_range_g[c] = pct(acc[c], 0.99) - pct(acc[c], 0.01);
            fs.gyro_range_deg_s[c] = pct(gyro[c], 0.99) - pct(gyro[c], 0.01);
        }
        fs.gyro_y_p1 = pct(gyro[1], 0.01);
        fs.gyro_y_p99 = pct(gyro[1], 0.99);
        std::vector<double> peaks;
        int complete = 0, forward = 0;
        for (const Stance& st : fs.stances) {
            if (!st.complete) continue;
            ++complete;
            peaks.push_back(st.peak_force_n);
            forward += st.cop_x_end - st.cop_x_start > 0.15;
        }
        fs.peak_force_bw = peaks.empty() ? 0 : pct(peaks, 0.5) / bw;
        fs.heel_to_toe_fraction = complete ? static_cast<double>(forward) / complete : 0;
    }
    return g;
}

double quiet_standing_weight(const io::MoticonRecording& rec) {
    const int n = rec.frames();
    const int w = std::max(2, static_cast<int>(std::lround(0.8 * (rec.rate_hz > 0 ? rec.rate_hz : 100))));
    double best_cv = std::numeric_limits<double>::infinity(), best_mean = 0;
    for (int i = 0; i + w <= n; i += std::max(1, w / 10)) {
        double sum = 0, sum2 = 0, min_foot = std::numeric_limits<double>::infinity();
        int used = 0;
        for (int k = i; k < i + w; ++k) {
            const double l = rec.feet[0].total_force_n(k), r = rec.feet[1].total_force_n(k);
            // Radio drop-outs are skipped; a window needs 90 % real samples.
            if (!rec.feet[0].valid[static_cast<size_t>(k)] || !rec.feet[1].valid[static_cast<size_t>(k)] || std::isnan(l) ||
                std::isnan(r))
                continue;
            ++used;
            sum += l + r;
            sum2 += (l + r) * (l + r);
            min_foot = std::min(min_foot, std::min(l, r));
        }
        if (used < 0.9 * w) continue;
        const double mean = sum / used;
        if (!(mean > 0) || min_foot < 0.15 * mean) continue;  // both feet must carry weight
        const double cv = std::sqrt(std::max(0.0, sum2 / used - mean * mean)) / mean;
        if (cv < best_cv) best_cv = cv, best_mean = mean;
    }
    return best_cv < 0.1 ? best_mean : 0;
}

}  // namespace s2m::synth
