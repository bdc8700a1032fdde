#include "step2motion/train/distributed.hpp"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstdlib>

#include "step2motion/core/error.hpp"
#include "step2motion/model/torch_compat.hpp"

namespace s2m::train {

struct DataParallel::Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<model::compat::CollectiveBackend> pg;
    torch::Device device{torch::kCPU};
};

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

int env_int(const char* name, int fallback, int lo, int hi) {
    const std::string v = env(name);
    if (v.empty()) return fallback;
    try {
        size_t used = 0;
        const long x = std::stol(v, &used);
        if (used == v.size() && x >= lo && x <= hi) return static_cast<int>(x);
    } catch (const std::exception&) {
    }
    fail_input(std::string("environment variable ") + name + "=" + v + ": expected an integer in [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "]");
}

using Backend = model::compat::CollectiveBackend;

void wait(const c10::intrusive_ptr<Backend>& pg, std::vector<at::Tensor>& t, c10d::ReduceOp op) {
    c10d::AllreduceOptions o;
    o.reduceOp = op;
    pg->allreduce(t, o)->wait();
}

}  // namespace

DataParallel::DataParallel() = default;
DataParallel::~DataParallel() = default;
DataParallel::DataParallel(DataParallel&&) noexcept = default;
DataParallel& DataParallel::operator=(DataParallel&&) noexcept = default;

DataParallel DataParallel::from_environment(const std::string& device) {
    DataParallel dp;
    dp.world_size_ = env_int("WORLD_SIZE", 1, 1, 1 << 20);
    if (dp.world_size_ == 1) return dp;
    dp.rank_ = env_int("RANK", -1, 0, dp.world_size_ - 1);
    if (dp.rank_ < 0) fail_input("environment: WORLD_SIZE is set but RANK is not");
    dp.local_rank_ = env_int("LOCAL_RANK", 0, 0, 1 << 20);
    const std::string addr = env("MASTER_ADDR");
    if (addr.empty()) fail_input("environment: WORLD_SIZE > 1 needs MASTER_ADDR (and MASTER_PORT)");
    const int port = env_int("MASTER_PORT", -1, 1, 65535);
    if (port < 0) fail_input("environment: WORLD_SIZE > 1 needs MASTER_PORT");

    dp.group_ = std::make_unique<Group>();
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(port);
    so.numWorkers = dp.world_size_;
    so.timeout = std::chrono::seconds(env_int("S2M_DIST_TIMEOUT_S", 600, 1, 86400));
    // Under torchrun the agent already serves the store at MASTER_PORT; its workers are clients
    // under a per-restart prefix (what Python's init_process_group("env://") does there).
    const bool agent_store = env("TORCHELASTIC_USE_AGENT_STORE") == "True";
    so.isServer = !agent_store && dp.rank_ == 0;
    so.waitWorkers = false;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(addr, so);
    if (agent_store)
        store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + (env("TORCHELASTIC_RESTART_COUNT").empty() ? std::string("0") : env("TORCHELASTIC_RESTART_COUNT")), store);
    dp.group_->store = store;
    if (device == "cuda") {
#ifdef USE_C10D_NCCL
        dp.group_->device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dp.local_rank_));
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        dp.group_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, dp.rank_, dp.world_size_, opts);
#else
        fail_input("--device cuda with WORLD_SIZE > 1: this LibTorch has no NCCL");
#endif
    } else {
        auto opts = c10d::ProcessGroupGloo::Options::create();
        const std::string ifname = env("GLOO_SOCKET_IFNAME");
        opts->devices.push_back(ifname.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                               : c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        dp.group_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, dp.rank_, dp.world_size_, opts);
    }
    spdlog::info("data-parallel: rank {} of {} (local rank {}), {} via {}:{}", dp.rank_, dp.world_size_, dp.local_rank_,
                 device == "cuda" ? "NCCL" : "Gloo", addr, port);
    return dp;
}

void DataParallel::broadcast(std::vector<at::Tensor>& tensors) const {
    if (!active()) return;
    torch::NoGradGuard no_grad;
    for (auto& t : tensors) {
        std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
        group_->pg->broadcast(one, c10d::BroadcastOptions())->wait();
        if (!one[0].is_same(t)) t.copy_(one[0]);
    }
}

void DataParallel::all_reduce_sum(std::vector<at::Tensor>& tensors) const {
    if (!active() || tensors.empty()) return;
    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> flat_parts;
    for (const auto& t : tensors) flat_parts.push_back(t.reshape({-1}));
    std::vector<at::Tensor> flat{torch::cat(flat_parts)};
    wait(group_->pg, flat, c10d::ReduceOp::SUM);
    int64_t offset = 0;
    for (auto& t : tensors) {
        t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
    }
}

namespace {
double reduce_scalar(const c10::intrusive_ptr<Backend>& pg, const torch::Device& d, double v, c10d::ReduceOp op) {
    std::vector<at::Tensor> t{torch::full({1}, v, torch::TensorOptions().dtype(torch::kDouble).device(d))};
    wait(pg, t, op);
    return t[0].item<double>();
}
}  // namespace

double DataParallel::sum(double value) const {
    return active() ? reduce_scalar(group_->pg, group_->device, value, c10d::ReduceOp::SUM) : value;
}

double DataParallel::max(double value) const {
    return active() ? reduce_scalar(group_->pg, group_->device, value, c10d::ReduceOp::MAX) : value;
}

void DataParallel::barrier() const {
    if (active()) group_->pg->barrier()->wait();
}

std::pair<int64_t, int64_t> DataParallel::shard(int64_t n) const {
    const int64_t w = world_size_, r = rank_;
    return {n * r / w, n * (r + 1) / w};
}

}  // namespace s2m::train
