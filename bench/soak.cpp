// soak: many requests of random shapes through one synthetic DistilBERT, watching the resident
// set size (RSS) for growth. Run by bench/soak.sh.
//
//   soak [--requests N] [--every K] [--threads T] [--seed S] [--base] [--workspace-per-request]
//
// Each request is a batch of B = 1..4 sentences padded to S = 1..512 tokens (uniform), each
// sentence [CLS] ids... [SEP] of a random length <= S, with its attention mask; it runs through
// model.forward() with a 2-thread bc1s::runtime::thread_pool (--threads) into one workspace made
// for (4, 512) (or, with --workspace-per-request, a new workspace sized for each request).
// Default model: a small one (dim 64, 2 heads, FFN 128, 1 layer, the 30522-token vocabulary,
// 512 positions, fp16 weights) so that 100,000 requests take minutes; --base: distilbert_base
// (use a smaller --requests).
//
// Every K requests (default: requests / 20) it reads RSS from /proc/self/statm and prints a row.
// Verdict: after warm-up (the first 10% of requests) the RSS may not grow by more than 1 MiB
// above its value at the end of warm-up, at any later sample. Also checked: every logit finite,
// and the first request, run again at the end, gives bit-identical logits (no state carried from
// one request to the next). Exit status 0 if all hold, 1 if not, 2 for a bad command line.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bc1s/nn/distilbert.hpp"

namespace {

struct soak_config {
  static constexpr std::size_t dim = 64, heads = 2, hidden = 128, layers = 1, vocab = 30522,
                               max_positions = 512, num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

constexpr std::size_t kMaxB = 4, kMaxS = 512;
constexpr double kGrowthLimitMiB = 1.0;
constexpr double kWarmupFraction = 0.1;

struct options {
  std::size_t requests = 100000;
  bool requests_given = false;
  std::size_t every = 0;  // 0: requests / 20
  std::size_t threads = 2;
  std::uint64_t seed = 1;
  bool base = false;
  bool workspace_per_request = false;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::fprintf(stderr, "soak: %s\n", problem.c_str());
  std::fprintf(problem.empty() ? stdout : stderr,
               "usage: soak [--requests N] [--every K] [--threads T] [--seed S] [--base] "
               "[--workspace-per-request]\n"
               "  --requests N  requests to run (default 100000; 1000 with --base)\n"
               "  --every K     RSS sample every K requests (default N / 20)\n"
               "  --threads T   thread pool size (default 2)\n"
               "  --seed S      request generator seed (default 1)\n"
               "  --base        distilbert_base instead of the small model\n"
               "  --workspace-per-request  a new workspace per request, sized for it\n");
  std::exit(problem.empty() ? 0 : 2);
}

std::uint64_t parse_number(std::string_view flag, const char* v, std::uint64_t lo) {
  std::uint64_t n = 0;
  const std::string_view s = v == nullptr ? std::string_view() : std::string_view(v);
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n < lo) {
    usage(std::string(flag) + " expects an integer >= " + std::to_string(lo) + ", got '" +
          std::string(s) + "'");
  }
  return n;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--help" || a == "-h") {
      usage("");
    } else if (a == "--requests") {
      o.requests = parse_number(a, next, 1), o.requests_given = true, ++i;
    } else if (a == "--every") {
      o.every = parse_number(a, next, 1), ++i;
    } else if (a == "--threads") {
      o.threads = parse_number(a, next, 1), ++i;
    } else if (a == "--seed") {
      o.seed = parse_number(a, next, 0), ++i;
    } else if (a == "--base") {
      o.base = true;
    } else if (a == "--workspace-per-request") {
      o.workspace_per_request = true;
    } else {
      usage("unknown option '" + std::string(a) + "'");
    }
  }
  if (o.base && !o.requests_given) o.requests = 1000;
  if (o.every == 0) o.every = std::max<std::size_t>(1, o.requests / 20);
  return o;
}

// Resident set size in bytes, from /proc/self/statm (second field, in pages).
double rss_mib() {
  std::ifstream f("/proc/self/statm");
  std::size_t size_pages = 0, resident_pages = 0;
  f >> size_pages >> resident_pages;
  return double(resident_pages) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// Peak RSS (VmHWM) in MiB, from /proc/self/status.
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

struct request {
  std::size_t B = 0, S = 0;
  std::vector<std::int32_t> ids, mask;
};

request make_request(std::mt19937_64& rng, std::size_t vocab) {
  request r;
  r.B = std::uniform_int_distribution<std::size_t>(1, kMaxB)(rng);
  r.S = std::uniform_int_distribution<std::size_t>(1, kMaxS)(rng);
  r.ids.assign(r.B * r.S, 0);  // [PAD] = 0
  r.mask.assign(r.B * r.S, 0);
  std::uniform_int_distribution<std::int32_t> word(1000, static_cast<std::int32_t>(vocab) - 1);
  for (std::size_t b = 0; b < r.B; ++b) {
    // The first sentence fills the batch's S; the others are shorter (padding).
    const std::size_t len = b == 0 ? r.S : std::uniform_int_distribution<std::size_t>(1, r.S)(rng);
    for (std::size_t s = 0; s < len; ++s) {
      r.ids[b * r.S + s] = s == 0 ? 101 : (s + 1 == len && len > 1 ? 102 : word(rng));
      r.mask[b * r.S + s] = 1;
    }
  }
  return r;
}

template <class Config>
int soak(const options& o, const char* model_name) {
  using model_t = bc1s::nn::distilbert<Config, bc1s::half>;
  using workspace_t = typename model_t::workspace;
  const auto t_load = std::chrono::steady_clock::now();
  const model_t model = model_t::synthetic(1234);
  bc1s::runtime::thread_pool pool(o.threads);
  std::optional<workspace_t> shared;
  if (!o.workspace_per_request) shared.emplace(kMaxB, kMaxS, o.threads);
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();

  std::printf(
      "soak: %s, fp16 weights (%.1f MiB), %zu requests of B = 1..%zu x S = 1..%zu, "
      "pool of %zu threads, %s; model built in %.1f s\n",
      model_name, double(model.weight_bytes()) / (1024.0 * 1024.0), o.requests, kMaxB, kMaxS,
      o.threads, o.workspace_per_request ? "a new workspace per request" : "one (4, 512) workspace",
      load_s);
  std::printf("%10s %10s %12s %10s %12s\n", "requests", "RSS MiB", "vs warm-up", "req/s",
              "tokens/s");

  std::mt19937_64 rng(o.seed);
  const request first = make_request(rng, Config::vocab);
  std::vector<float> first_logits;
  const std::size_t warmup =
      std::max<std::size_t>(1, std::size_t(double(o.requests) * kWarmupFraction));
  std::optional<double> warm_rss;
  double max_after_warmup = 0, last_rss = 0;
  std::size_t bad_logits = 0, tokens = 0, window_tokens = 0;
  auto window_start = std::chrono::steady_clock::now();
  const auto start = window_start;
  std::size_t window_requests = 0;

  // One request; returns a copy of its logits.
  auto run = [&](const request& r) {
    std::optional<workspace_t> own;
    if (o.workspace_per_request) own.emplace(r.B, r.S, o.threads);
    workspace_t& ws = own ? *own : *shared;
    model.forward(ws, r.ids, r.mask, r.B, r.S, &pool);
    for (float x : ws.logits()) bad_logits += std::isfinite(x) ? 0 : 1;
    return std::vector<float>(ws.logits().begin(), ws.logits().end());
  };

  for (std::size_t i = 1; i <= o.requests; ++i) {
    if (i == 1) {
      first_logits = run(first);
      tokens += first.B * first.S;
      window_tokens += first.B * first.S;
    } else {
      const request r = make_request(rng, Config::vocab);
      run(r);
      tokens += r.B * r.S;
      window_tokens += r.B * r.S;
    }
    ++window_requests;
    if (i % o.every == 0 || i == o.requests || i == warmup) {
      const double rss = rss_mib();
      last_rss = rss;
      const auto now = std::chrono::steady_clock::now();
      const double dt = std::chrono::duration<double>(now - window_start).count();
      char delta[32] = "(warm-up)";
      if (i == warmup && !warm_rss) {
        warm_rss = rss;
        std::snprintf(delta, sizeof delta, "%s", "0.00 (base)");
      } else if (warm_rss) {
        max_after_warmup = std::max(max_after_warmup, rss);
        std::snprintf(delta, sizeof delta, "%+.2f", rss - *warm_rss);
      }
      std::printf("%10zu %10.2f %12s %10.1f %12.0f\n", i, rss, delta, double(window_requests) / dt,
                  double(window_tokens) / dt);
      std::fflush(stdout);
      window_start = now;
      window_requests = 0;
      window_tokens = 0;
    }
  }
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The first request again: the same logits, bit for bit.
  const auto again = run(first);
  const bool same = std::equal(again.begin(), again.end(), first_logits.begin(), first_logits.end(),
                               [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; });

  const double growth = max_after_warmup - warm_rss.value_or(last_rss);
  const bool rss_ok = growth <= kGrowthLimitMiB;
  std::printf(
      "soak: %zu requests, %zu tokens in %.1f s (%.1f req/s); RSS after warm-up (request %zu) "
      "%.2f MiB, max later %.2f MiB (%+.2f MiB), last %.2f MiB, peak (VmHWM) %.2f MiB\n",
      o.requests, tokens, total_s, double(o.requests) / total_s, warmup,
      warm_rss.value_or(last_rss), max_after_warmup, growth, last_rss, peak_rss_mib());
  std::printf("soak: non-finite logits: %zu; first request repeated at the end: %s\n", bad_logits,
              same ? "bit-identical logits" : "DIFFERENT logits");
  const bool ok = rss_ok && bad_logits == 0 && same;
  std::printf("soak: verdict: %s (threshold: RSS growth after warm-up <= %.1f MiB)\n",
              ok ? "PASS, no growth" : "FAIL", kGrowthLimitMiB);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    return o.base ? soak<bc1s::nn::distilbert_base>(o, "distilbert_base")
                  : soak<soak_config>(o, "small model (dim 64, 2 heads, FFN 128, 1 layer)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: %s\n", e.what());
    return 1;
  }
}
