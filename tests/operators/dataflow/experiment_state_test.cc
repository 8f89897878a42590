// Experiment state across checkpoints and reloads: a state of an earlier
// encoding restores; an experiment whose decision settings changed keeps
// its units' sums; one whose arms or metrics changed starts over, and its
// outputs from then on are partial.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/operators/dataflow/experiment_traffic.h"

namespace vigil {
namespace {

// The outputs of the window ending at `end`, "name{labels}" -> (value,
// partial).
std::map<std::string, std::pair<double, bool>> At(const std::vector<WindowResult>& results,
                                                  TimeMs end) {
  std::map<std::string, std::pair<double, bool>> out;
  for (const WindowResult& r : results) {
    if (r.end == end)
      out[StrCat(r.def->name, "{", StrJoin(r.labels, ","), "}")] = {r.value, r.partial};
  }
  return out;
}

// Adds the events of [from, to) to `h` and closes its windows up to `to`.
void AddThenClose(OperatorHarness& h, const std::vector<Line>& events, TimeMs from, TimeMs to,
                  std::vector<WindowResult>* results, std::vector<AlertNotice>* notices) {
  for (const Line& l : events) {
    if (l.ts >= from && l.ts < to) h.AddJson(l.json);
  }
  h.Close(to, results, notices);
}

// kRules with `line` added to the experiment (after its window).
std::string With(const std::string& line) {
  std::string rules = kRules;
  const std::string after = "    window: 1h\n";
  return rules.insert(rules.find(after) + after.size(), line);
}

TEST(ExperimentStateTest, AStateOfAnEarlierEncodingRestores) {
  OperatorHarness whole(kRules), restored(kRules);
  ASSERT_TRUE(whole.rules && restored.rules);
  const std::vector<Line> events = Traffic(5, 1.2, 2);
  std::vector<WindowResult> expected, got;
  std::vector<AlertNotice> notices;
  for (const Line& l : events) {
    if (l.ts < kHour) whole.AddJson(l.json);
  }
  whole.Close(kHour, &expected, &notices);
  // The state after the first hour, re-encoded as "/4" wrote it.
  std::vector<std::pair<std::string, std::string>> state;
  for (auto& [key, bytes] : whole.flow->EncodeState()) {
    if (key.rfind("experiment/6:", 0) != 0) {
      state.emplace_back(key, bytes);
      continue;
    }
    Decoder dec(bytes);
    Encoder old;
    ASSERT_EQ(dec.GetString(), key);
    const std::string legacy = StrCat("experiment/4:", dec.GetString());  // the whole fingerprint
    ASSERT_EQ(dec.GetVarint(), 0u);                                       // not started over
    old.PutString(legacy);
    for (int arm = 0; arm < 2; ++arm) old.PutSigned(dec.GetSigned());
    old.PutSigned(dec.GetSigned());                         // crossed
    for (int i = 0; i < 12; ++i) old.PutDouble(1e300 + i);  // `good`: two arms' six sums
    old.PutRaw(dec.rest());
    state.emplace_back(legacy, old.Release());
  }
  ASSERT_GT(restored.flow->DecodeState(state), 0);
  for (const Line& l : events) {
    if (l.ts >= kHour) {
      whole.AddJson(l.json);
      restored.AddJson(l.json);
    }
  }
  whole.Close(2 * kHour, &expected, &notices);
  restored.Close(2 * kHour, &got, &notices);
  expected.erase(std::remove_if(expected.begin(), expected.end(),
                                [](const WindowResult& r) { return r.end != 2 * kHour; }),
                 expected.end());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(Lines(got), Lines(expected));
}

// alpha is a setting of the decision, not of the sums: a restore under
// another alpha keeps every unit seen, and the units, values and
// differences at the next hour are those of an uninterrupted run under the
// new alpha.
TEST(ExperimentStateTest, AnotherAlphaKeepsTheUnitsSums) {
  const std::string tighter = With("    alpha: 0.01\n");
  OperatorHarness before(kRules), restored(tighter), clean(tighter);
  ASSERT_TRUE(before.rules && restored.rules && clean.rules);
  const std::vector<Line> events = Traffic(7, 1.2, 2);
  std::vector<WindowResult> got, want;
  std::vector<AlertNotice> notices;
  for (const Line& l : events) {
    if (l.ts < kHour) before.AddJson(l.json);
    clean.AddJson(l.json);
  }
  before.Close(kHour, &got, &notices);
  ASSERT_GT(restored.flow->DecodeState(before.flow->EncodeState()), 0);
  for (const Line& l : events) {
    if (l.ts >= kHour) restored.AddJson(l.json);
  }
  got.clear();
  restored.Close(2 * kHour, &got, &notices);
  clean.Close(2 * kHour, &want, &notices);
  const auto g = At(got, 2 * kHour), w = At(want, 2 * kHour);
  ASSERT_EQ(g.at("experiment_units{e1,c}").first, 200);  // both hours' units
  for (const auto& [name, value] : w) {
    if (!name.starts_with("experiment_units") && !name.starts_with("experiment_value") &&
        !name.starts_with("experiment_difference")) {
      continue;
    }
    ASSERT_TRUE(g.contains(name)) << name;
    EXPECT_EQ(g.at(name), value) << name;
  }
}

// A metric added to the experiment: the checkpoint's sums cannot be kept,
// so the experiment starts over at the restore (and at a reload), and every
// output after it is partial: its units are the second hour's only.
TEST(ExperimentStateTest, AnExperimentThatStartsOverHasPartialOutputs) {
  const std::string more =
      With("") + "      - {name: slow, value: ratio(ms > 700), goal: decrease}\n";
  OperatorHarness before(kRules), restored(more);
  ASSERT_TRUE(before.rules && restored.rules);
  const std::vector<Line> events = Traffic(7, 1.2, 3);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  AddThenClose(before, events, 0, kHour, &results, &notices);
  EXPECT_EQ(At(results, kHour).at("experiment_units{e1,c}"), std::make_pair(100.0, false));
  restored.flow->DecodeState(before.flow->EncodeState());
  for (const Line& l : events) {
    if (l.ts >= kHour && l.ts < 2 * kHour) restored.AddJson(l.json);
  }
  results.clear();
  restored.Close(2 * kHour, &results, &notices);
  const auto second = At(results, 2 * kHour);
  ASSERT_FALSE(second.empty());
  for (const auto& [name, value] : second) EXPECT_TRUE(value.second) << name;
  EXPECT_EQ(second.at("experiment_units{e1,c}").first, 100);
  // Through a checkpoint and a reload of the same rules, it stays so.
  OperatorHarness again(more);
  again.flow->DecodeState(restored.flow->EncodeState());
  OperatorHarness reloaded(more);
  reloaded.flow->AdoptState(*again.flow);
  for (const Line& l : events) {
    if (l.ts >= 2 * kHour) reloaded.AddJson(l.json);
  }
  results.clear();
  reloaded.Close(3 * kHour, &results, &notices);
  const auto third = At(results, 3 * kHour);
  ASSERT_FALSE(third.empty());
  for (const auto& [name, value] : third) EXPECT_TRUE(value.second) << name;
  EXPECT_EQ(third.at("experiment_units{e1,c}").first, 200);
}

// An alert on the outputs of an experiment that starts over: they decide
// nothing from then on, so what it held ends at the restore, as that of a
// changed alert (resolved at its last evaluation, no resolved value), not
// an hour later for want of data. Another experiment's group keeps its
// state: no second page.
TEST(ExperimentStateTest, AnAlertOnAnExperimentThatStartsOverIsResolvedAtTheRestore) {
  std::string two = kRules;
  two += std::string(kRules).substr(std::string(kRules).find("  - experiment: e1"));
  two.replace(two.rfind("experiment: e1"), 14, "experiment: e2");
  const std::string alert = R"yaml(
alerts:
  - alert: Guardrail
    severity: P2
    expr: experiment_decision == 2
)yaml";
  std::string more = two;
  more.insert(more.find("  - experiment: e2"),
              "      - {name: slow, value: ratio(ms > 700), goal: decrease}\n");
  OperatorHarness before(two + alert), restored(more + alert);
  ASSERT_TRUE(before.rules && restored.rules);
  const std::vector<Line> events = Traffic(5, 1.5, 2);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  AddThenClose(before, events, 0, kHour, &results, &notices);
  // "Alert transition experiment/metric @end" per notice.
  const auto described = [](const std::vector<AlertNotice>& all) {
    std::vector<std::string> out;
    for (const AlertNotice& n : all) {
      out.push_back(StrCat(n.def->name, " ", TransitionName(n.transition), " ",
                           n.labels.at("experiment"), "/", n.labels.at("metric"), " @", n.at));
    }
    return out;
  };
  ASSERT_EQ(described(notices), (std::vector<std::string>{"Guardrail firing e1/lat @3600000",
                                                          "Guardrail firing e2/lat @3600000"}));

  ASSERT_GT(restored.flow->DecodeState(before.flow->EncodeState()), 0);
  ASSERT_TRUE(restored.alerts->DecodeState(before.alerts->EncodeState()));
  EXPECT_EQ(restored.flow->ExperimentsStartedOver(), std::vector<std::string>{"e1"});
  restored.alerts->StartOverExperiments(restored.flow->ExperimentsStartedOver());
  const std::vector<AlertNotice> ended = restored.alerts->TakeRestoredResolutions();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].def->name, "Guardrail");
  EXPECT_EQ(ended[0].transition, Transition::kResolved);
  EXPECT_EQ(ended[0].at, kHour);
  EXPECT_EQ(ended[0].labels.at("experiment"), "e1");
  EXPECT_FALSE(ended[0].resolved_value.has_value());
  EXPECT_TRUE(ended[0].notify);

  // The next hour: e1's outputs are partial and change nothing; e2 is
  // still breached and stays firing without a second page.
  for (const Line& l : events) {
    if (l.ts >= kHour) restored.AddJson(l.json);
  }
  results.clear();
  notices.clear();
  restored.Close(2 * kHour, &results, &notices);
  EXPECT_EQ(described(notices), std::vector<std::string>{});
  EXPECT_EQ(restored.alerts->FiringCount(Severity::kP2), 1);
}

// An experiment over a stream's records keeps its sums when only the
// stream changed (here it emits one more field), but its outputs from then
// on mix records of the two definitions: partial, as the metrics reading
// the stream are.
TEST(ExperimentStateTest, AnExperimentOverAChangedStreamHasPartialOutputs) {
  const std::string stream = R"yaml(
streams:
  - stream: visits
    key: user
    window: session 10m
    emit:
      variant: first(variant)
      oks: count(ok)
)yaml";
  const std::string experiment = R"yaml(
experiments:
  - experiment: e2
    arm: variant
    control: c
    split: {c: 0.5, t: 0.5}
    unit: user
    window: 1h
    metrics:
      - {name: oks, from: visits, value: avg(oks), goal: increase, min_effect: 0.5}
)yaml";
  OperatorHarness before(stream + experiment);
  OperatorHarness after(stream + "      slowest: max(ms)\n" + experiment);
  ASSERT_TRUE(before.rules && after.rules);
  const std::vector<Line> events = Traffic(7, 1.2, 2);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  AddThenClose(before, events, 0, kHour, &results, &notices);
  ASSERT_FALSE(At(results, kHour).empty());
  for (const auto& [name, value] : At(results, kHour)) EXPECT_FALSE(value.second) << name;
  after.flow->DecodeState(before.flow->EncodeState());
  for (const Line& l : events) {
    if (l.ts >= kHour) after.AddJson(l.json);
  }
  results.clear();
  after.Close(2 * kHour, &results, &notices);
  const auto second = At(results, 2 * kHour);
  ASSERT_FALSE(second.empty());
  for (const auto& [name, value] : second) EXPECT_TRUE(value.second) << name;
}

}  // namespace
}  // namespace vigil
