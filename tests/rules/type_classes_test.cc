// Type classes: the `type` values the rules over events test for are
// numbered, and every program answers Test for an event of any class as
// it answers EvalBool, skipping the evaluation where the class decides.
#include "rules/type_classes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/rule_set.h"

namespace vigil {
namespace {

constexpr const char* kRules = R"yaml(
streams:
  - stream: sessions
    key: session_id
    where: type in ["message", "escalation", "add_to_cart"]
    window: session 30m
    emit:
      turns: count(type == "message")
      escalated: any(type == "escalation")
      slow: any(type == "message" and latency_ms > 1000)
joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback" and rating == -1}
    on: turn_id
    within: 1h after
    emit:
      intent: left.intent
metrics:
  - metric: errors
    where: type == "message" and error_service != null
    window: tumbling 1m
    value: ratio(type == "message")
  - metric: turns
    from: sessions
    where: turns > 0
    window: tumbling 1h
    value: count()
)yaml";

TEST(TypeClassesTest, EveryProgramAnswersAsItsEvaluation) {
  RuleLoadResult r = LoadRuleSources({{"r.yaml", kRules}});
  ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
  RuleSet& rules = *r.rules;
  const FieldTable& f = rules.fields;
  // In the order the loader met them: the stream's where, then the join's.
  EXPECT_EQ(f.TypeClassOf("message"), 1);
  EXPECT_EQ(f.TypeClassOf("escalation"), 2);
  EXPECT_EQ(f.TypeClassOf("add_to_cart"), 3);
  EXPECT_EQ(f.TypeClassOf("feedback"), 4);
  EXPECT_EQ(f.TypeClassOf("click"), 0);
  EXPECT_EQ(f.TypeClassOf("Message"), 0);

  std::vector<const Program*> programs = {
      &rules.streams[0].where, &rules.streams[1].join.left_where,
      &rules.streams[1].join.right_where, &rules.metrics[0].where,
      &rules.metrics[0].aggregates[0].arg};
  for (const EmitDef& e : rules.streams[0].emit) {
    for (const AggregateCall& a : e.aggregates) programs.push_back(&a.arg);
  }
  const int type = *f.Find("type");
  const int rating = *f.Find("rating");
  const int latency = *f.Find("latency_ms");
  const int error = *f.Find("error_service");
  int evaluated = 0;
  for (const char* t : {"message", "escalation", "add_to_cart", "feedback", "click"}) {
    for (double value : {-1.0, 2000.0}) {
      for (bool err : {false, true}) {
        std::vector<Value> slots(static_cast<size_t>(f.size()), Value::Missing());
        slots[type] = Value::String(t);
        slots[rating] = Value::Number(value);
        slots[latency] = Value::Number(value);
        if (err) slots[error] = Value::String("bedrock");
        const uint8_t c = static_cast<uint8_t>(f.TypeClassOf(t));
        for (size_t p = 0; p < programs.size(); ++p) {
          const bool want = programs[p]->EvalBool(slots.data());
          EXPECT_EQ(programs[p]->Test(slots.data(), c), want) << "program " << p << " on " << t;
          EXPECT_EQ(programs[p]->Test(slots.data(), Program::kNoTypeClass), want);
          evaluated += want;
        }
      }
    }
  }
  EXPECT_GT(evaluated, 20);
}

TEST(TypeClassesTest, RulesThatNeverTestTypeGetNoClasses) {
  RuleLoadResult r = LoadRuleSources({{"r.yaml", R"yaml(
metrics:
  - metric: slow
    where: latency_ms > 1000 or type == "message"
    window: tumbling 1m
    value: count()
)yaml"}});
  ASSERT_TRUE(r.rules);
  EXPECT_EQ(r.rules->fields.TypeClassOf("message"), 0);
  std::vector<Value> slots(static_cast<size_t>(r.rules->fields.size()), Value::Missing());
  slots[*r.rules->fields.Find("type")] = Value::String("message");
  EXPECT_TRUE(r.rules->metrics[0].where.Test(slots.data(), 0));
}

}  // namespace
}  // namespace vigil
