#include "step2motion/io/dataset.hpp"

#include <cmath>

#include "step2motion/io/moticon.hpp"

namespace s2m::io {

NormStats compute_norm_stats(const std::vector<DatasetClip>& clips, const std::string& split) {
    NormStats s;
    Eigen::VectorXd ps = Eigen::VectorXd::Zero(kRootAndJointValues), pq = ps;
    Eigen::VectorXd is = Eigen::VectorXd::Zero(kInsoleChannels), iq = is;
    // Shifted sums (by the first frame) keep the variance accurate for channels with large means.
    Eigen::VectorXd pshift, ishift;
    long n = 0;
    for (const auto& c : clips) {
        if (c.split != split || c.frames() == 0) continue;
        if (n == 0) {
            pshift = c.poses.row(0).cast<double>().transpose();
            ishift = c.insoles.row(0).cast<double>().transpose();
        }
        for (int i = 0; i < c.frames(); ++i) {
            const Eigen::VectorXd p = c.poses.row(i).cast<double>().transpose() - pshift;
            const Eigen::VectorXd q = c.insoles.row(i).cast<double>().transpose() - ishift;
            ps += p;
            pq += p.cwiseProduct(p);
            is += q;
            iq += q.cwiseProduct(q);
        }
        n += c.frames();
    }
    s.frames = n;
    if (n == 0) return s;
    auto finish = [n](const Eigen::VectorXd& sum, const Eigen::VectorXd& sq, const Eigen::VectorXd& shift,
                      Eigen::VectorXf& mean, Eigen::VectorXf& stdv) {
        const Eigen::VectorXd m = sum / static_cast<double>(n);
        Eigen::VectorXd var = sq / static_cast<double>(n) - m.cwiseProduct(m);
        mean = (m + shift).cast<float>();
        stdv.resize(m.size());
        for (int k = 0; k < m.size(); ++k) {
            const double sd = std::sqrt(std::max(0.0, var[k]));
            stdv[k] = sd < 1e-6 ? 1.0f : static_cast<float>(sd);
        }
    };
    finish(ps, pq, pshift, s.pose_mean, s.pose_std);
    finish(is, iq, ishift, s.insole_mean, s.insole_std);
    return s;
}

}  // namespace s2m::io
