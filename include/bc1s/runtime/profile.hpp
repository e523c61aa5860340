// forward_profile: where one forward pass spends its time, by stage. The model fills it when a
// pointer to one is passed to forward(); with nullptr (the default) nothing is timed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>

namespace bc1s::runtime {

enum class stage : std::size_t {
  embedding,   // word + position gather and its layer norm
  qkv,         // the q, k, v conv1x1s
  attention,   // scores, softmax, context
  out_proj,    // the attention output conv1x1 (+ residual)
  layer_norm,  // the two layer norms of each block
  ffn_in,      // conv1x1 C -> hidden (+ GELU)
  ffn_out,     // conv1x1 hidden -> C (+ residual)
  classifier,  // pre_classifier, ReLU, classifier
  count
};

inline constexpr std::array<std::string_view, static_cast<std::size_t>(stage::count)> kStageNames =
    {"embedding", "qkv", "attention", "out_proj", "layer_norm", "ffn_in", "ffn_out", "classifier"};

struct forward_profile {
  std::array<double, static_cast<std::size_t>(stage::count)> seconds{};
  std::size_t passes = 0;

  double& operator[](stage s) noexcept { return seconds[static_cast<std::size_t>(s)]; }
  double operator[](stage s) const noexcept { return seconds[static_cast<std::size_t>(s)]; }
  double total() const noexcept {
    double t = 0;
    for (double x : seconds) t += x;
    return t;
  }
  void reset() noexcept { *this = forward_profile{}; }
};

// Times a scope into profile[s] when profile is not null.
class stage_timer {
 public:
  using clock = std::chrono::steady_clock;
  stage_timer(forward_profile* p, stage s) noexcept : p_(p), s_(s) {
    if (p_) t0_ = clock::now();
  }
  ~stage_timer() {
    if (p_) (*p_)[s_] += std::chrono::duration<double>(clock::now() - t0_).count();
  }
  stage_timer(const stage_timer&) = delete;
  stage_timer& operator=(const stage_timer&) = delete;

 private:
  forward_profile* p_;
  stage s_;
  clock::time_point t0_{};
};

}  // namespace bc1s::runtime
