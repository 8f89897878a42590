#include "runtime/evaluation.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

// Every window and alert a sink is handed, in order.
class RecordingSink : public Sink {
 public:
  explicit RecordingSink(std::vector<std::string>* log) : log_(log) {}
  void OnWindow(const WindowResult& r) override {
    log_->push_back(StrCat("window ", r.def->name, "{", StrJoin(r.labels, ","), "} ",
                           FormatTimestamp(r.end), " ", r.value));
  }
  void OnAlert(const AlertNotice& n) override {
    log_->push_back(StrCat("alert ", n.def->name, " ", TransitionName(n.transition), " ",
                           FormatTimestamp(n.at)));
  }

 private:
  std::vector<std::string>* log_;
};

constexpr TimeMs kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// Results reach the sinks by window end, metric and group, each window
// before the alerts it causes; the counters count both.
TEST(EvaluationTest, WindowsReachTheSinksInOrderAndBeforeTheirAlerts) {
  OperatorHarness h(R"(
metrics:
  - metric: msgs
    where: type == "message"
    by: [intent]
    window: tumbling 1m
    value: count()
  - metric: all
    window: tumbling 1m
    value: count()
alerts:
  - alert: Busy
    severity: P3
    expr: msgs > 1
)");
  ASSERT_NE(h.rules, nullptr);
  JobMetrics metrics(*h.rules);
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<RecordingSink>(&log));
  JobCounters counters;
  Evaluation eval({&metrics, &sinks, nullptr, &counters});

  h.Add(kT + 10'000, "\"intent\":\"faq\"");
  h.Add(kT + 20'000, "\"intent\":\"cart\"");
  h.Add(kT + 30'000, "\"intent\":\"faq\"");
  h.Add(kT + 70'000, "\"intent\":\"faq\"");
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 60'000));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window msgs{cart} 2026-01-01T00:01:00.000Z 1",
                     "window msgs{faq} 2026-01-01T00:01:00.000Z 2",
                     "window all{} 2026-01-01T00:01:00.000Z 3",
                     "alert Busy firing 2026-01-01T00:01:00.000Z",
                 }));
  EXPECT_EQ(counters.windows, 3u);
  EXPECT_EQ(counters.firing_transitions, 1u);

  log.clear();
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 120'000));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window msgs{faq} 2026-01-01T00:02:00.000Z 1",
                     "window all{} 2026-01-01T00:02:00.000Z 1",
                     "alert Busy resolved 2026-01-01T00:02:00.000Z",
                 }));
  EXPECT_EQ(counters.windows, 5u);
  EXPECT_EQ(counters.firing_transitions, 1u);

  log.clear();
  EXPECT_FALSE(eval.Close(*h.flow, *h.alerts, kT + 180'000));  // nothing left
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace vigil
