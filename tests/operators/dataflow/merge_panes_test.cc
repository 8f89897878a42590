// Dataflow::MergePanesFrom: the reference rules over generated traffic with
// incidents, the events split by session over 2, 3 and 4 partial flows
// that close no window, merged into one at every frontier: the window
// results are identical, to the bit, to one flow that saw every event.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/strings.h"
#include "operators/dataflow/dataflow.h"
#include "operators/parse/event_parser.h"
#include "rules/rule_set.h"
#include "tests/operators/dataflow/generated_traffic.h"

namespace vigil {
namespace {

// Metrics of the `visitors` stream, keyed by user_id: a user's sessions go
// to several partial flows when the events are split by session, so their
// sessions differ (as between scale-out instances).
const std::set<std::string> kUserKeyed = {"return_visit_rate"};

std::string_view Field(std::string_view line, std::string_view key) {
  const std::string pattern = StrCat("\"", key, "\":\"");
  const size_t at = line.find(pattern);
  if (at == std::string_view::npos) return {};
  const size_t from = at + pattern.size();
  return line.substr(from, line.find('"', from) - from);
}

class MergePanesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult r = LoadRuleFiles({VIGIL_SOURCE_DIR "/deploy/rules/chatbot.yaml"});
    ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
    rules_ = std::move(r.rules);
    traffic_ = std::make_unique<GeneratedTraffic>(
        11, 100, 90 * 60'000,
        std::vector<std::string>{"latency_spike@20m+10m", "escalation_surge@50m+10m"});
  }

  // Every window result of the run: `parts` partial flows merged into one
  // at each frontier (0: one flow sees every event).
  std::vector<std::string> Run(int parts) {
    EventParser parser(rules_->fields, 1 << 16);
    Dataflow main(*rules_);
    std::vector<std::unique_ptr<Dataflow>> partial;
    for (int i = 0; i < parts; ++i) partial.push_back(std::make_unique<Dataflow>(*rules_));
    std::vector<WindowResult> results;
    uint64_t late = 0;
    auto close = [&](TimeMs frontier) {
      for (auto& p : partial) {
        p->CloseSessions(frontier);
        late += main.MergePanesFrom(*p);
      }
      main.Close(frontier, &results);
    };
    TimeMs max_ts = kMinTime;
    const std::vector<Record>& records = traffic_->records;
    for (size_t i = 0; i < records.size(); ++i) {
      Event ev;
      ParseError err;
      if (!parser.Parse(records[i].data, &ev, &err)) {
        ADD_FAILURE() << err.detail << ": " << records[i].data;
        continue;
      }
      max_ts = std::max(max_ts, ev.ts);
      if (parts == 0) {
        main.Add(ev);
      } else {
        const std::string_view session = Field(records[i].data, "session_id");
        const uint64_t h = session.empty() ? i : HashBytes(session);
        partial[h % static_cast<uint64_t>(parts)]->Add(ev);
      }
      // A frontier every 997 events, behind the jitter: nothing is late.
      if (i % 997 == 996) close(max_ts - 5'000);
    }
    close(kMaxTime);
    EXPECT_EQ(late, 0u);
    std::vector<std::string> out;
    for (const WindowResult& r : results) {
      if (!kUserKeyed.contains(r.def->name)) out.push_back(FormatResult(r));
    }
    return out;
  }

  std::unique_ptr<RuleSet> rules_;
  std::unique_ptr<GeneratedTraffic> traffic_;
};

TEST_F(MergePanesTest, PartialFlowsMergedGiveTheResultsOfOneToTheBit) {
  const std::vector<std::string> whole = Run(0);
  ASSERT_GT(whole.size(), 1000u);
  for (int parts : {1, 2, 3, 4}) {
    const std::vector<std::string> merged = Run(parts);
    ASSERT_EQ(merged.size(), whole.size()) << parts;
    for (size_t i = 0; i < whole.size(); ++i) {
      ASSERT_EQ(merged[i], whole[i]) << parts << " partial flows, result " << i;
    }
  }
}

}  // namespace
}  // namespace vigil
