// bc1s_peer: the bc1s engine of the side-by-side peer benchmark, as a long-lived worker process
// driven by bench/peers/run_peers.py over stdin/stdout (one request per line, one reply per line).
//
//   bc1s_peer --precision fp16|bf16|int8|fp32 --threads N [--seed 1234] [--max-batch 8] [--max-seq
//   512]
//             [--bucket 16]
//
// The model is distilbert_base with the seeded synthetic weights of bc1s/io/synthetic.hpp, the
// same values tools/synthetic.py gives the ONNX Runtime and PyTorch peers. One workspace (sized
// for max-batch x max-seq) and one thread pool of exactly N threads (the caller included) are
// made at startup and reused by every request.
//
// Requests (token ids are decimal, space separated):
//   exact B S id_1 .. id_{B*S}   forward on exactly B x S tokens, row-major, attention mask all
//                                ones (the latency grid)
//   sentence N id_1 .. id_N      one sentence (B = 1): padded with [PAD] = 0 and mask 0 up to
//                                the next multiple of --bucket tokens (the workload)
//   quit
// Replies:
//   ready <weight_bytes> <setup_seconds>           once, at startup
//   ok <ms> <S_run> <logit> ... (B * 2 logits)     per request; ms is measured here around the
//                                                  padding and forward pass only (no parsing,
//                                                  no I/O)
//   err <message>                                  a bad request; the worker goes on
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bc1s/nn/distilbert.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string precision = "fp16";
  std::size_t threads = 1, max_batch = 8, max_seq = 512, bucket = 16;
  std::uint64_t seed = 1234;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr
      << "bc1s_peer: " << why
      << "\nusage: bc1s_peer --precision fp16|bf16|int8|fp32 --threads N [--seed S] [--max-batch B]"
         " [--max-seq S] [--bucket K]\n";
  std::exit(2);
}

template <class T>
T parse_number(std::string_view s, const char* what) {
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    throw std::invalid_argument(std::string("bad ") + what + " '" + std::string(s) + "'");
  return v;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string_view v = argv[++i];
    try {
      if (a == "--precision")
        o.precision = std::string(v);
      else if (a == "--threads")
        o.threads = parse_number<std::size_t>(v, "--threads");
      else if (a == "--seed")
        o.seed = parse_number<std::uint64_t>(v, "--seed");
      else if (a == "--max-batch")
        o.max_batch = parse_number<std::size_t>(v, "--max-batch");
      else if (a == "--max-seq")
        o.max_seq = parse_number<std::size_t>(v, "--max-seq");
      else if (a == "--bucket")
        o.bucket = parse_number<std::size_t>(v, "--bucket");
      else
        usage("unknown option " + a);
    } catch (const std::invalid_argument& e) {
      usage(e.what());
    }
  }
  if (o.precision != "fp16" && o.precision != "bf16" && o.precision != "int8" &&
      o.precision != "fp32")
    usage("--precision is fp16, bf16, int8 or fp32");
  if (o.threads == 0 || o.max_batch == 0 || o.max_seq == 0 || o.bucket == 0)
    usage("--threads, --max-batch, --max-seq and --bucket must be positive");
  return o;
}

// Splits a request line on single spaces.
std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t j = line.find(' ', i);
    const std::size_t end = j == std::string_view::npos ? line.size() : j;
    if (end > i) out.push_back(line.substr(i, end - i));
    i = end;
  }
  return out;
}

template <class WT>
int serve(const options& o) {
  using M = bc1s::nn::distilbert<bc1s::nn::distilbert_base, WT>;
  constexpr std::size_t kLabels = bc1s::nn::distilbert_base::num_labels;
  const auto t0 = clock_type::now();
  const M model = M::synthetic(o.seed);
  // The workspace is sized to the request shape (re-made, outside the timed region, when a
  // request does not fit): one sized for the largest B and the largest S at once (8 x 512 =
  // 4096 token columns, ~120 MB) would be memory no request uses. Sentences get one of
  // max_seq tokens. ONNX Runtime's arena likewise grows to the shapes it is given.
  std::optional<typename M::workspace> ws;
  bc1s::runtime::thread_pool pool(o.threads);
  const double setup_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("ready %zu %.3f\n", model.weight_bytes(), setup_s);
  std::fflush(stdout);

  // Request buffers, reserved once for the largest request.
  std::vector<std::int32_t> ids, mask;
  ids.reserve(o.max_batch * o.max_seq);
  mask.reserve(o.max_batch * o.max_seq);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto tok = split(line);
    if (tok.empty()) continue;
    try {
      if (tok[0] == "quit") break;
      std::size_t B = 1, n = 0, first = 0;
      bool pad = false;
      if (tok[0] == "exact" && tok.size() >= 3) {
        B = parse_number<std::size_t>(tok[1], "B");
        n = parse_number<std::size_t>(tok[2], "S");
        first = 3;
      } else if (tok[0] == "sentence" && tok.size() >= 2) {
        n = parse_number<std::size_t>(tok[1], "N");
        first = 2;
        pad = true;
      } else {
        throw std::invalid_argument("unknown request '" + std::string(tok[0]) + "'");
      }
      if (B == 0 || n == 0 || B > o.max_batch || n > o.max_seq)
        throw std::invalid_argument("shape out of range");
      if (tok.size() - first != B * n)
        throw std::invalid_argument("expected " + std::to_string(B * n) + " ids, got " +
                                    std::to_string(tok.size() - first));
      // Parsed outside the timed region, like the Python peers' input arrays.
      std::vector<std::int32_t> raw(B * n);
      for (std::size_t i = 0; i < B * n; ++i)
        raw[i] = parse_number<std::int32_t>(tok[first + i], "id");

      std::size_t S = n;
      if (pad) S = std::min(o.max_seq, (n + o.bucket - 1) / o.bucket * o.bucket);
      if (!ws || B > ws->max_batch() || S > ws->max_seq()) {
        ws.reset();
        ws.emplace(B, pad ? o.max_seq : S, o.threads);
      }
      const auto t = clock_type::now();
      ids.assign(B * S, 0);
      mask.assign(B * S, 0);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t s = 0; s < n; ++s) {
          ids[b * S + s] = raw[b * n + s];
          mask[b * S + s] = 1;
        }
      model.forward(*ws, ids, mask, B, S, &pool);
      const auto logits = ws->logits();
      const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t).count();

      std::string out = "ok " + std::to_string(ms) + " " + std::to_string(S);
      char buf[32];
      for (std::size_t i = 0; i < B * kLabels; ++i) {
        std::snprintf(buf, sizeof buf, " %.9g", static_cast<double>(logits[i]));
        out += buf;
      }
      std::puts(out.c_str());
    } catch (const std::exception& e) {
      std::printf("err %s\n", e.what());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);
  try {
    if (o.precision == "fp16") return serve<bc1s::half>(o);
    if (o.precision == "bf16") return serve<bc1s::bf16>(o);
    if (o.precision == "int8") return serve<bc1s::qint8>(o);
    return serve<float>(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bc1s_peer: %s\n", e.what());
    return 1;
  }
}
