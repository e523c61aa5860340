// sentence-transformers pooling configuration (bc1s/io/st_config.hpp): a table of folders, each
// a modules.json and a Pooling config.json written to a temporary folder, read either into the
// expected pooling and normalisation or into a load_error naming the file and the field; and the
// real all-MiniLM-L6-v2 folder, which reads as mean pooling then normalisation.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bc1s/io/st_config.hpp"

namespace {

namespace fs = std::filesystem;
using bc1s::io::pooling_mode;

constexpr const char* kModulesMeanNorm = R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
  {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
])";
constexpr const char* kModulesNoNorm = R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
])";

// all-MiniLM-L6-v2's 1_Pooling/config.json with the three modes set as given.
std::string pooling(bool cls, bool mean, bool max) {
  auto b = [](bool x) { return x ? "true" : "false"; };
  return std::string("{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": ") + b(cls) +
         ", \"pooling_mode_mean_tokens\": " + b(mean) + ", \"pooling_mode_max_tokens\": " + b(max) +
         ", \"pooling_mode_mean_sqrt_len_tokens\": false}";
}

// A fresh folder under the system temp folder, removed with the object.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ =
        fs::temp_directory_path() / ("bc1s-st-config-" + std::to_string(std::random_device{}()) +
                                     "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }
  void write(const fs::path& rel, const std::string& text) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

struct good_case {
  const char* name;
  std::string modules, pooling;  // pooling: 1_Pooling/config.json
  pooling_mode mode;
  bool normalize;
};

TEST(StConfig, GoodFoldersReadAsConfigured) {
  const std::vector<good_case> cases = {
      {"mean + normalize", kModulesMeanNorm, pooling(false, true, false), pooling_mode::mean, true},
      {"cls + normalize", kModulesMeanNorm, pooling(true, false, false), pooling_mode::cls, true},
      {"max + normalize", kModulesMeanNorm, pooling(false, false, true), pooling_mode::max, true},
      {"cls, no Normalize", kModulesNoNorm, pooling(true, false, false), pooling_mode::cls, false},
      {"mean, no Normalize", kModulesNoNorm, pooling(false, true, false), pooling_mode::mean,
       false},
      {"mean_tokens absent means true", kModulesNoNorm, R"({"word_embedding_dimension": 384})",
       pooling_mode::mean, false},
      {"pooling_mode string overrides", kModulesMeanNorm,
       R"({"word_embedding_dimension": 384, "pooling_mode": "MAX", "pooling_mode_mean_tokens": true})",
       pooling_mode::max, true},
      {"unknown keys ignored, include_prompt", kModulesMeanNorm,
       R"({"word_embedding_dimension": 384, "include_prompt": false, "comment": [1, 2],
           "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false,
           "pooling_mode_weightedmean_tokens": false, "pooling_mode_lasttoken": false})",
       pooling_mode::cls, true},
      {"modules without idx and name",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
         {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, false, true), pooling_mode::max, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    temp_dir d;
    d.write("modules.json", c.modules);
    d.write("1_Pooling/config.json", c.pooling);
    bc1s::io::st_pooling p;
    ASSERT_NO_THROW(p = bc1s::io::load_st_pooling(d.path()));
    EXPECT_EQ(p.mode, c.mode) << bc1s::io::to_string(p.mode);
    EXPECT_EQ(p.normalize, c.normalize);
    EXPECT_EQ(p.dimension, 384u);
    EXPECT_EQ(p.modules_file, d.path() / "modules.json");
    EXPECT_EQ(p.pooling_file, d.path() / "1_Pooling" / "config.json");
  }
}

TEST(StConfig, NoModulesJsonIsMeanThenNormalize) {
  temp_dir d;
  d.write("1_Pooling/config.json", pooling(true, false, false));  // not listed: not read
  const auto p = bc1s::io::load_st_pooling(d.path());
  EXPECT_EQ(p.mode, pooling_mode::mean);
  EXPECT_TRUE(p.normalize);
  EXPECT_EQ(p.dimension, 0u);
  EXPECT_TRUE(p.modules_file.empty());
}

struct bad_case {
  const char* name;
  std::string modules;
  std::optional<std::string> pooling;  // nullopt: no 1_Pooling/config.json
  const char* file;                    // "modules.json" or "config.json": the file named
  std::vector<std::string> mentions;   // each must appear in the message
};

TEST(StConfig, BadFoldersAreOneLineErrorsNamingFileAndField) {
  const std::string dim = R"("word_embedding_dimension": 384)";
  const std::vector<bad_case> cases = {
      // Pooling config.json
      {"mean_sqrt_len",
       kModulesMeanNorm,
       "{" + dim +
           R"(, "pooling_mode_mean_tokens": false, "pooling_mode_mean_sqrt_len_tokens": true})",
       "config.json",
       {"\"pooling_mode_mean_sqrt_len_tokens\" is true", "only cls, mean or max"}},
      {"weightedmean",
       kModulesMeanNorm,
       "{" + dim +
           R"(, "pooling_mode_mean_tokens": false, "pooling_mode_weightedmean_tokens": true})",
       "config.json",
       {"\"pooling_mode_weightedmean_tokens\" is true"}},
      {"lasttoken",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode_mean_tokens": false, "pooling_mode_lasttoken": true})",
       "config.json",
       {"\"pooling_mode_lasttoken\" is true"}},
      {"unknown mode key",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode_median_tokens": true})",
       "config.json",
       {"\"pooling_mode_median_tokens\" is an unknown pooling mode"}},
      {"two modes",
       kModulesMeanNorm,
       pooling(true, true, false),
       "config.json",
       {"pooling_mode_cls_token and pooling_mode_mean_tokens are both true"}},
      {"cls with mean by default",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode_cls_token": true})",
       "config.json",
       {"pooling_mode_cls_token and pooling_mode_mean_tokens"}},
      {"no mode",
       kModulesMeanNorm,
       pooling(false, false, false),
       "config.json",
       {"no pooling mode is set"}},
      {"mode as string",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode_max_tokens": "yes"})",
       "config.json",
       {"\"pooling_mode_max_tokens\" is a JSON string (\"yes\"), expected true or false"}},
      {"mode as number",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode_cls_token": 1})",
       "config.json",
       {"\"pooling_mode_cls_token\" is a JSON integer (1)"}},
      {"pooling_mode string unsupported",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode": "weightedmean"})",
       "config.json",
       {"\"pooling_mode\" is 'weightedmean'", "only cls, mean or max"}},
      {"pooling_mode string unknown",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode": "sum"})",
       "config.json",
       {"\"pooling_mode\" is 'sum'"}},
      {"pooling_mode not a string",
       kModulesMeanNorm,
       "{" + dim + R"(, "pooling_mode": 3})",
       "config.json",
       {"\"pooling_mode\" is a JSON integer"}},
      {"dimension missing",
       kModulesMeanNorm,
       R"({"pooling_mode_mean_tokens": true})",
       "config.json",
       {"\"word_embedding_dimension\" is missing"}},
      {"dimension negative",
       kModulesMeanNorm,
       R"({"word_embedding_dimension": -384})",
       "config.json",
       {"\"word_embedding_dimension\" is -384, expected a positive integer"}},
      {"dimension a string",
       kModulesMeanNorm,
       R"({"word_embedding_dimension": "384"})",
       "config.json",
       {"\"word_embedding_dimension\" is a JSON string"}},
      {"include_prompt a string",
       kModulesMeanNorm,
       "{" + dim + R"(, "include_prompt": "no"})",
       "config.json",
       {"\"include_prompt\" is a JSON string"}},
      {"config an array",
       kModulesMeanNorm,
       "[1, 2]",
       "config.json",
       {"is a JSON array", "expected an object"}},
      {"config not JSON",
       kModulesMeanNorm,
       "{\"word_embedding_dimension\": 384,",
       "config.json",
       {"is not valid JSON"}},
      {"config key twice",
       kModulesMeanNorm,
       "{" + dim + ", " + dim + "}",
       "config.json",
       {"has the key 'word_embedding_dimension' more than once"}},
      {"config missing", kModulesMeanNorm, std::nullopt, "config.json", {"file not found"}},
      // modules.json
      {"modules not JSON",
       "[{",
       pooling(false, true, false),
       "modules.json",
       {"is not valid JSON"}},
      {"modules an object",
       R"({"0": "Transformer"})",
       pooling(false, true, false),
       "modules.json",
       {"is a JSON object", "expected an array of modules"}},
      {"module a string",
       R"(["sentence_transformers.models.Transformer"])",
       pooling(false, true, false),
       "modules.json",
       {"module 0 is a JSON string"}},
      {"module type missing",
       R"([{"path": ""}])",
       pooling(false, true, false),
       "modules.json",
       {"module 0: field \"type\" is missing"}},
      {"module path a number",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
           {"path": 1, "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 1: field \"path\" is a JSON integer"}},
      {"module idx negative",
       R"([{"idx": -1, "path": "", "type": "sentence_transformers.models.Transformer"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 0: field \"idx\""}},
      {"module path outside",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
           {"path": "../elsewhere", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 1: field \"path\" is '../elsewhere'", "inside the model folder"}},
      {"module path absolute",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
           {"path": "/etc", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 1: field \"path\" is '/etc'"}},
      {"no modules", "[]", pooling(false, true, false), "modules.json", {"lists no modules"}},
      {"no pooling module",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"}])",
       pooling(false, true, false),
       "modules.json",
       {"has no sentence_transformers.models.Pooling module"}},
      {"pooling first",
       R"([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 0 ('sentence_transformers.models.Pooling') comes first"}},
      {"transformer in a subfolder",
       R"([{"path": "0_Transformer", "type": "sentence_transformers.models.Transformer"},
           {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"has path '0_Transformer'"}},
      {"dense module",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
           {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
           {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 2 ('sentence_transformers.models.Dense') is not supported"}},
      {"normalize before pooling",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
           {"path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
           {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 1 ('sentence_transformers.models.Normalize') is out of place"}},
      {"two poolings",
       R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
           {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
           {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])",
       pooling(false, true, false),
       "modules.json",
       {"module 2", "is out of place"}},
      {"control bytes stay on one line",
       "[{\"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
       "{\"path\": \"\", \"type\": \"evil\\nsecond line\"}]",
       pooling(false, true, false),
       "modules.json",
       {"'evil\\nsecond line'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    temp_dir d;
    d.write("modules.json", c.modules);
    if (c.pooling) d.write("1_Pooling/config.json", *c.pooling);
    try {
      (void)bc1s::io::load_st_pooling(d.path());
      ADD_FAILURE() << "expected a load_error";
    } catch (const bc1s::io::load_error& e) {
      const std::string msg = e.what();
      const fs::path named = std::string(c.file) == "modules.json"
                                 ? d.path() / "modules.json"
                                 : d.path() / "1_Pooling" / "config.json";
      EXPECT_EQ(msg.rfind(named.string() + ": ", 0), 0u) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      for (const auto& m : c.mentions) EXPECT_NE(msg.find(m), std::string::npos) << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a load_error: " << e.what();
    }
  }
}

TEST(StConfig, RealMiniLmIsMeanThenNormalize) {
  const char* env = std::getenv("BC1S_MINILM_DIR");
  const fs::path dir = env != nullptr && *env != '\0'
                           ? fs::path(env)
                           : fs::path(BC1S_TEST_DATA) / "../../models/all-MiniLM-L6-v2";
  if (!fs::exists(dir / "modules.json")) {
    GTEST_SKIP() << "no all-MiniLM-L6-v2 folder with modules.json at " << dir
                 << " (run tools/fetch_minilm.py, or set BC1S_MINILM_DIR to its folder)";
  }
  const auto p = bc1s::io::load_st_pooling(dir);
  EXPECT_EQ(p.mode, pooling_mode::mean);
  EXPECT_TRUE(p.normalize);
  EXPECT_EQ(p.dimension, 384u);
}

}  // namespace
