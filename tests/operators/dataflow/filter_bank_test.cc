// FilterBank: each filter's answer equals the filter evaluated on its own,
// whatever class an event falls in, and events skip the filters (and
// operators) their class cannot pass.
#include "operators/dataflow/filter_bank.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr const char* kRules = R"(
metrics:
  - metric: messages
    where: type == "message"
    window: tumbling 1m
    value: count()
  - metric: slow_faq
    where: type == "message" and intent == "faq" and latency_ms > 100
    window: tumbling 1m
    value: count()
  - metric: downvotes
    where: type == "feedback" and rating == -1
    window: tumbling 1m
    value: count()
  - metric: turns_or_escalations
    where: type in ["message", "escalation"]
    window: tumbling 1m
    value: count()
  - metric: not_messages
    where: type not in ["message"]
    window: tumbling 1m
    value: count()
  - metric: slow
    where: latency_ms > 100
    window: tumbling 1m
    value: count()
  - metric: both
    where: type == "feedback" and type in ["feedback", "message"]
    window: tumbling 1m
    value: count()
  - metric: all
    window: tumbling 1m
    value: count()
)";

TEST(FilterBankTest, EveryClassAnswersAsTheFilterAlone) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  FilterBank bank;
  std::vector<int> ids;
  for (const MetricDef& m : h.rules->metrics) ids.push_back(m.has_where ? bank.Register(m) : -1);
  bank.Seal();
  // message, feedback, escalation: three classes and class 0.
  EXPECT_EQ(bank.class_count(), 4);
  const std::vector<std::string> events = {
      R"({"ts":1,"type":"message","intent":"faq","latency_ms":200})",
      R"({"ts":1,"type":"message","intent":"faq","latency_ms":50})",
      R"({"ts":1,"type":"message"})",
      R"({"ts":1,"type":"feedback","rating":-1})",
      R"({"ts":1,"type":"feedback","rating":1,"latency_ms":300})",
      R"({"ts":1,"type":"escalation"})",
      R"({"ts":1,"type":"click","latency_ms":500})",
      R"({"ts":1,"type":"Message"})",
      R"({"ts":1,"type":""})",
  };
  std::vector<int> classes;
  for (const std::string& json : events) {
    const Event ev = h.Parse(json);
    const int c = bank.Evaluate(ev);
    classes.push_back(c);
    for (size_t m = 0; m < ids.size(); ++m) {
      if (ids[m] < 0) continue;
      const bool alone = h.rules->metrics[m].where.EvalBool(ev.slots.data());
      EXPECT_EQ(bank.passed(ids[m]), alone) << h.rules->metrics[m].name << " on " << json;
      if (alone) {
        EXPECT_TRUE(bank.Possible(ids[m], c)) << h.rules->metrics[m].name << " " << json;
      }
    }
  }
  // Each type its own class; types no filter names share class 0.
  EXPECT_EQ(classes, (std::vector<int>{1, 1, 1, 2, 2, 3, 0, 0, 0}));
  // A feedback event cannot pass the message filters, nor a message the
  // feedback ones; filters that name no type take every class.
  EXPECT_FALSE(bank.Possible(ids[0], 2));
  // A comparison other than equality (latency_ms > 100) makes the filter
  // one the bank does not look into: every class evaluates it.
  EXPECT_TRUE(bank.Possible(ids[1], 0));
  EXPECT_TRUE(bank.Possible(ids[1], 2));
  EXPECT_FALSE(bank.Possible(ids[2], 1));
  EXPECT_TRUE(bank.Possible(ids[3], 3));
  EXPECT_FALSE(bank.Possible(ids[3], 2));
  for (int c = 0; c < 4; ++c) {
    EXPECT_TRUE(bank.Possible(ids[4], c));
    EXPECT_TRUE(bank.Possible(ids[5], c));
  }
  EXPECT_TRUE(bank.Possible(ids[6], 2));
  EXPECT_FALSE(bank.Possible(ids[6], 1));
}

TEST(FilterBankTest, FiltersThatTestNoFieldForEqualityAreAllEvaluated) {
  OperatorHarness h(R"(
metrics:
  - metric: slow
    where: latency_ms > 100
    window: tumbling 1m
    value: count()
  - metric: either
    where: type == "a" or type == "b"
    window: tumbling 1m
    value: count()
)");
  ASSERT_TRUE(h.rules);
  FilterBank bank;
  const int slow = bank.Register(h.rules->metrics[0]);
  const int either = bank.Register(h.rules->metrics[1]);
  bank.Seal();
  EXPECT_EQ(bank.class_count(), 1);
  EXPECT_EQ(bank.Evaluate(h.Parse(R"({"ts":1,"type":"b","latency_ms":200})")), 0);
  EXPECT_TRUE(bank.passed(slow));
  EXPECT_TRUE(bank.passed(either));
  EXPECT_EQ(bank.Evaluate(h.Parse(R"({"ts":1,"type":"c","latency_ms":20})")), 0);
  EXPECT_FALSE(bank.passed(slow));
  EXPECT_FALSE(bank.passed(either));
}

TEST(FilterBankTest, SixtyThreeValuesMakeClassesAndSixtyFourOrAHundredThousandDoNot) {
  // `intent in [i0, i1, ...]`: up to 63 values each get a class (and
  // class 0), past that there are none and every filter is evaluated.
  for (const int values : {63, 64, 100'000}) {
    SCOPED_TRACE(values);
    std::string yaml = "metrics:\n  - metric: m\n    where: intent in [";
    for (int i = 0; i < values; ++i) StrAppend(&yaml, i ? "," : "", "\"i", i, "\"");
    yaml += "]\n    window: tumbling 1m\n    value: count()\n";
    OperatorHarness h(yaml);
    ASSERT_TRUE(h.rules);
    FilterBank bank;
    const int m = bank.Register(h.rules->metrics[0]);
    bank.Seal();
    EXPECT_EQ(bank.class_count(), values <= 63 ? values + 1 : 1);
    bank.Evaluate(h.Parse(StrCat(R"({"ts":1,"type":"message","intent":"i)", values - 1, R"("})")));
    EXPECT_TRUE(bank.passed(m));
    bank.Evaluate(h.Parse(R"({"ts":1,"type":"message","intent":"other"})"));
    EXPECT_FALSE(bank.passed(m));
  }
}

TEST(FilterBankTest, MetricsSeeOnlyTheEventsTheirFilterPasses) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  h.AddTyped(1'000, "message", R"("intent":"faq","latency_ms":200)");
  h.AddTyped(2'000, "message", R"("intent":"chitchat","latency_ms":50)");
  h.AddTyped(3'000, "feedback", R"("rating":-1)");
  h.AddTyped(4'000, "feedback", R"("rating":1,"latency_ms":300)");
  h.AddTyped(5'000, "escalation");
  h.AddTyped(6'000, "click", R"("latency_ms":500)");
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(60'000, &results, &notices);
  std::vector<std::string> got;
  for (const WindowResult& r : results) got.push_back(StrCat(r.def->name, "=", r.value));
  EXPECT_EQ(got, (std::vector<std::string>{"messages=2", "slow_faq=1", "downvotes=1",
                                           "turns_or_escalations=3", "not_messages=4", "slow=3",
                                           "both=2", "all=6"}));
}

}  // namespace
}  // namespace vigil
