// Workers and group limits: a group new to the job takes one place of a
// metric's `limit:` (and of limits.max_series) however many workers see it
// in the same batch, so groups within the limit keep every event, with any
// number of workers.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/workers.h"

namespace vigil {
namespace {

constexpr const char* kRules = R"(
metrics:
  - metric: per_intent
    window: tumbling 1m
    by: [intent]
    limit: LIMIT
    value: count()
)";

class WorkersLimitsTest : public ::testing::Test {
 protected:
  // `sessions` sessions, each with one event of every intent in `intents`
  // a second, for a minute: every worker sees every intent.
  void Generate(int sessions, const std::vector<std::string>& intents) {
    std::vector<std::pair<size_t, size_t>> spans;
    for (int sec = 0; sec < 60; ++sec) {
      for (int s = 0; s < sessions; ++s) {
        for (const std::string& intent : intents) {
          const size_t at = buffer_.size();
          StrAppend(&buffer_, R"({"ts":)", sec * 1000, R"(,"type":"message","session_id":"s)", s,
                    R"(","intent":")", intent, R"("})");
          spans.emplace_back(at, buffer_.size() - at);
          buffer_.push_back('\n');
        }
      }
    }
    buffer_.append(simdjson::SIMDJSON_PADDING, ' ');
    for (const auto& [at, size] : spans) {
      records_.push_back({std::string_view(buffer_).substr(at, size), records_.size() + 1});
    }
  }

  // group -> count of each window, over `n` workers in batches of `batch`.
  std::map<std::string, double> Run(const std::string& limit, size_t max_series, int n,
                                    size_t batch) {
    std::string yaml = kRules;
    yaml.replace(yaml.find("LIMIT"), 5, limit);
    RuleLoadResult r = LoadRuleSources({{"t.yaml", yaml}});
    EXPECT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
    if (!r.rules) return {};
    Dataflow main(*r.rules, OperatorLimits{max_series});
    Workers workers(*r.rules, main, Workers::Options{n, "session_id", 1 << 16});
    std::vector<WindowResult> results;
    for (size_t at = 0; at < records_.size(); at += batch) {
      const std::vector<Record> part(
          records_.begin() + static_cast<std::ptrdiff_t>(at),
          records_.begin() + static_cast<std::ptrdiff_t>(std::min(records_.size(), at + batch)));
      workers.Parse(part);
      for (size_t i = 0; i < part.size(); ++i) workers.Accept(i);
      workers.Aggregate();
      workers.MergePanesInto(&main);
      main.Close(0, &results);
    }
    workers.CloseSessions(kMaxTime);
    workers.MergePanesInto(&main);
    main.Close(kMaxTime, &results);
    std::map<std::string, double> out;
    for (const WindowResult& w : results) out[w.group] = w.value;
    return out;
  }

  std::string buffer_;
  std::vector<Record> records_;
};

TEST_F(WorkersLimitsTest, GroupsWithinTheLimitKeepEveryEvent) {
  Generate(16, {"a", "b"});
  const std::map<std::string, double> want = {{"a", 16 * 60}, {"b", 16 * 60}};
  for (int n : {1, 2, 4}) {
    for (size_t batch : {7, 64, 4096}) {
      for (int round = 0; round < 5; ++round) {
        EXPECT_EQ(Run("2", 1'000'000, n, batch), want) << n << " workers, batch " << batch;
        EXPECT_EQ(Run("10", 2, n, batch), want) << "max_series 2, " << n << " workers";
      }
    }
  }
}

TEST_F(WorkersLimitsTest, OverTheLimitEveryGroupHeldIsExact) {
  Generate(16, {"a", "b", "c", "d"});
  for (int n : {1, 2, 4}) {
    for (int round = 0; round < 5; ++round) {
      const std::map<std::string, double> got = Run("2", 1'000'000, n, 64);
      // Which two groups the job holds may depend on N; each holds all of
      // its events.
      ASSERT_EQ(got.size(), 2u) << n << " workers";
      for (const auto& [group, count] : got) EXPECT_EQ(count, 16 * 60) << group;
    }
  }
}

}  // namespace
}  // namespace vigil
