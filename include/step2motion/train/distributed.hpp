#pragma once
// Data-parallel training over torch.distributed (c10d): Gloo on the CPU, NCCL on CUDA where the
// LibTorch has it. The process group comes from the standard environment (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), as `torchrun --no_python --nproc_per_node N s2m train ...`
// and multi-node launchers set it. No torch in this header.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace at {
class Tensor;
}

namespace s2m::train {

class DataParallel {
public:
    // One process (no WORLD_SIZE, or 1): every collective is a no-op. Otherwise joins the group;
    // InputError naming the variable when the environment is incomplete or inconsistent.
    static DataParallel from_environment(const std::string& device);
    DataParallel();
    ~DataParallel();
    DataParallel(DataParallel&&) noexcept;
    DataParallel& operator=(DataParallel&&) noexcept;

    int rank() const { return rank_; }
    int world_size() const { return world_size_; }
    int local_rank() const { return local_rank_; }
    bool active() const { return world_size_ > 1; }
    bool is_main() const { return rank_ == 0; }

    // In place, from rank 0 to every rank.
    void broadcast(std::vector<at::Tensor>& tensors) const;
    // Sums over ranks in place: the tensors are flattened into one buffer and reduced in one call.
    void all_reduce_sum(std::vector<at::Tensor>& tensors) const;
    double sum(double value) const;
    double max(double value) const;
    void barrier() const;

    // This rank's contiguous share [begin, end) of n items (ranks differ by at most one item).
    std::pair<int64_t, int64_t> shard(int64_t n) const;

private:
    struct Group;
    int rank_ = 0, world_size_ = 1, local_rank_ = 0;
    std::unique_ptr<Group> group_;
};

}  // namespace s2m::train
