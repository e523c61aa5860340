// What DistilBERT and BERT share when they build from Hugging Face parameters: the parameter
// source type, a getter that fills a float vector per name, fp16/fp32 storage conversion, and the
// exact-names check of a checkpoint file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/io/load_error.hpp"
#include "bc1s/io/safetensors.hpp"

namespace bc1s::nn {

// Where parameters come from: fill `dst` (row-major, Hugging Face shape `shape`) for `name`.
using parameter_source = std::function<void(
    const std::string& name, std::span<const std::size_t> shape, std::span<float> dst)>;

using named_shapes = std::vector<std::pair<std::string, std::vector<std::size_t>>>;

namespace detail {

// get(name, shape) -> std::vector<float> from a parameter_source.
inline auto parameter_getter(const parameter_source& src) {
  return [&src](const std::string& name, std::vector<std::size_t> shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> v(n);
    src(name, shape, v);
    return v;
  };
}

template <class WT>
std::vector<WT> to_storage(const std::vector<float>& v) {
  std::vector<WT> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = from_float<WT>(v[i]);
  return out;
}

// Throws load_error unless `file` holds exactly the `expected` names, apart from those
// `skipped` accepts, each of its expected shape; the message lists (up to 8 of) the missing and
// the unexpected ones, or names the first tensor of another shape. It reads the header only, so
// sizes from config.json that the file contradicts are refused before any buffer is allocated.
template <class Skipped>
void check_tensor_names(const io::safetensors_file& file, const named_shapes& expected,
                        Skipped&& skipped, const std::filesystem::path& path, const char* family) {
  std::set<std::string> want;
  for (const auto& e : expected) want.insert(e.first);
  std::vector<std::string> missing, unexpected;
  for (const auto& n : want)
    if (!file.contains(n)) missing.push_back(n);
  for (const auto& n : file.names())
    if (!want.count(n) && !skipped(n)) unexpected.push_back(n);
  if (missing.empty() && unexpected.empty()) {
    for (const auto& e : expected) file.check_shape(e.first, e.second);
    return;
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
    return s;
  };
  std::string msg = path.string() + ": not a " + family + " checkpoint of this shape;";
  if (!missing.empty()) msg += " missing tensors: " + list(missing) + ";";
  if (!unexpected.empty()) msg += " unexpected tensors: " + list(unexpected) + ";";
  throw io::load_error(msg);
}

}  // namespace detail
}  // namespace bc1s::nn
