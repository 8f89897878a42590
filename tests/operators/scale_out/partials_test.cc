// Scale-out without Kafka: instances' panes drained into messages and
// applied to a merge stage must give exactly the windows of one operator
// fed every event (heartbeats and the merge watermark:
// merge_watermark_test.cc).
#include "operators/scale_out/partials.h"

#include <gtest/gtest.h>

#include <map>

#include "base/codec.h"
#include "operators/scale_out/merge_stage.h"
#include "operators/scale_out/partial_state.h"
#include "tests/operators/dataflow/operator_harness.h"
#include "tests/operators/scale_out/heartbeats.h"
#include "tests/operators/scale_out/scale_out_rules.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

const char* const kRules = kScaleOutRules;

std::string Fields(int i) {
  static const char* kIntents[] = {"faq", "order", "returns"};
  return StrCat("\"intent\":\"", kIntents[i % 3], "\",\"latency_ms\":", 100 + (i * 37) % 900,
                ",\"user_id\":\"u", i % 11, "\"");
}

std::vector<std::string> Formatted(const std::vector<WindowResult>& results) {
  std::vector<std::string> out;
  for (const WindowResult& r : results) {
    out.push_back(StrCat(r.def->name, " ", r.group, " ", r.end, " ", r.value));
  }
  return out;
}

// The windows `merged` closes at the end are those of `single`, and there
// are at least `at_least` of them.
void ExpectTheWindowsOf(OperatorHarness& single, OperatorHarness& merged, size_t at_least) {
  std::vector<WindowResult> want, got;
  std::vector<AlertNotice> notices;
  single.Close(kMaxTime, &want, &notices);
  merged.Close(kMaxTime, &got, &notices);
  EXPECT_GE(want.size(), at_least);
  EXPECT_EQ(Formatted(got), Formatted(want));
}

// Moves every pane of `from` into `merge` through the message codec.
void Publish(OperatorHarness& from, const std::string& instance, MergeStage& merge,
             const std::string& part = "p/0") {
  DrainPanes(from.flow.get(), instance, 0, [&](std::string_view, std::string_view value) {
    EXPECT_EQ(merge.Apply(value, part), MergeStage::Outcome::kPanes);
  });
}

TEST(PartialsTest, TwoInstancesMergedGiveTheWindowsOfOne) {
  OperatorHarness single(kRules), a(kRules), b(kRules), merged(kRules);
  MergeStage merge(merged.flow.get());
  // 600 events over 10 minutes; even ones to a, odd ones to b; a publishes
  // three times along the way, b once at the end.
  for (int i = 0; i < 600; ++i) {
    const TimeMs ts = i * 1000;
    single.Add(ts, Fields(i));
    (i % 2 == 0 ? a : b).Add(ts, Fields(i));
    if (i % 200 == 199) Publish(a, "a", merge);
  }
  Publish(a, "a", merge);
  Publish(b, "b", merge);
  // The instances' stores are empty after a publication.
  for (const auto& op : a.flow->metric_ops()) EXPECT_EQ(op->store().pane_count(), 0u);

  // Counts, integer sums, sketches and distinct counts merge exactly.
  ExpectTheWindowsOf(single, merged, 41);
}

TEST(PartialsTest, APaneForClosedWindowsIsLateAndNotMerged) {
  OperatorHarness a(kRules), merged(kRules);
  MergeStage merge(merged.flow.get());
  a.Add(30'000, Fields(0));
  Publish(a, "a", merge);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  merged.Close(10 * kMin, &results, &notices);
  const size_t closed = results.size();
  ASSERT_GT(closed, 0u);
  // An event of minute 0 published after its windows closed (minute 0 is
  // in sliding windows up to the one ending at 5m).
  a.Add(40'000, Fields(1));
  DrainPanes(a.flow.get(), "a", 0, [&](std::string_view, std::string_view value) {
    EXPECT_EQ(merge.Apply(value, "p/0"), MergeStage::Outcome::kLate);
  });
  EXPECT_EQ(merge.late_panes(), 3u);  // one per operator
  results.clear();
  merged.Close(20 * kMin, &results, &notices);
  EXPECT_TRUE(results.empty());
  // Minute 19 after closing up to 20m: the windows ending at 20m, which
  // hold it, have fired; the sliding windows ending at 21m..24m hold it
  // too, but merging it would fire the 20m ones again.
  a.Add(19 * kMin + 1, Fields(1));
  DrainPanes(a.flow.get(), "a", 0, [&](std::string_view, std::string_view value) {
    EXPECT_EQ(merge.Apply(value, "p/0"), MergeStage::Outcome::kLate);
  });
  EXPECT_EQ(merge.late_panes(), 6u);
  // Minute 20 is in windows ending at 21m and later only: merged.
  a.Add(20 * kMin + 1, Fields(1));
  DrainPanes(a.flow.get(), "a", 0, [&](std::string_view, std::string_view value) {
    EXPECT_EQ(merge.Apply(value, "p/0"), MergeStage::Outcome::kPanes);
  });
  results.clear();
  merged.Close(30 * kMin, &results, &notices);
  EXPECT_EQ(
      Formatted(results),
      (std::vector<std::string>{
          "turns order 1260000 1", "latency_avg  1260000 137", "latency_p95  1260000 137",
          "users  1260000 1", "latency_avg  1320000 137", "latency_p95  1320000 137",
          "latency_avg  1380000 137", "latency_p95  1380000 137", "latency_avg  1440000 137",
          "latency_p95  1440000 137", "latency_avg  1500000 137", "latency_p95  1500000 137"}));
}

// A pane is judged late against the watermark of its own partials
// partition as of the heartbeat before it, not against the windows the
// merge has closed, which depend on how its reads of the partitions
// interleave: in either order the straggler is late and the windows agree.
TEST(PartialsTest, APaneBehindItsPartitionIsLateHoweverThePartitionsInterleave) {
  OperatorHarness a(kRules), single(kRules);
  std::vector<std::string> p0, p1;  // the messages of partials partitions 0 and 1
  auto publish = [&] {
    DrainPanes(a.flow.get(), "a", 0,
               [&](std::string_view, std::string_view value) { p0.emplace_back(value); });
  };
  for (int i = 0; i < 600; ++i) {  // minutes 0 to 9 of e/0
    a.Add(i * 1000, Fields(i));
    single.Add(i * 1000, Fields(i));
  }
  publish();
  for (auto* part : {&p0, &p1})
    part->push_back(Heartbeat("a", 10 * kMin, {{"e/0", 10 * kMin, false}}));
  a.Add(2 * kMin + 5, Fields(1));  // e/0 was idle and woke up behind
  publish();
  std::vector<WindowResult> want;
  std::vector<AlertNotice> notices;
  single.Close(kMaxTime, &want, &notices);
  for (bool p0_first : {true, false}) {
    OperatorHarness merged(kRules);
    MergeStage merge(merged.flow.get());
    std::vector<WindowResult> got;
    // As the job does: after every message, close up to the watermark.
    auto read = [&](const std::vector<std::string>& messages, const std::string& part) {
      for (const std::string& m : messages) {
        merge.Apply(m, part);
        const TimeMs wm = merge.Watermark({"p/0", "p/1"});
        if (wm != kMinTime) merged.Close(wm, &got, &notices);
      }
    };
    read(p0_first ? p0 : p1, p0_first ? "p/0" : "p/1");
    read(p0_first ? p1 : p0, p0_first ? "p/1" : "p/0");
    EXPECT_EQ(merge.late_panes(), 3u) << p0_first;  // one per operator
    merged.Close(kMaxTime, &got, &notices);
    EXPECT_EQ(Formatted(got), Formatted(want)) << p0_first;
  }
}

// An experiment's inputs go to one merge instance: all their messages have
// one key (so one partials partition); other metrics' keys differ by group.
TEST(PartialsTest, AnExperimentsInputsShareOneKey) {
  OperatorHarness a(R"(
metrics:
  - metric: turns
    window: tumbling 1m
    by: [variant]
    value: count()
experiments:
  - experiment: e
    arm: variant
    control: A
    split: {A: 0.5, B: 0.5}
    unit: user_id
    window: 1h
    metrics:
      - {name: turns_per_user, value: avg(n), goal: increase, min_effect: 1}
)");
  for (int i = 0; i < 6; ++i) {
    a.Add(1000 + i,
          StrCat("\"variant\":\"", i % 2 ? "A" : "B", "\",\"user_id\":\"u", i, "\",\"n\":", i));
  }
  std::set<std::string> experiment_keys, other_keys;
  size_t experiment_messages = 0;
  DrainPanes(a.flow.get(), "a", 0, [&](std::string_view key, std::string_view value) {
    if (key == kExperimentInputsKey) {
      ++experiment_messages;
    } else {
      other_keys.emplace(key);
    }
    EXPECT_FALSE(value.empty());
  });
  EXPECT_EQ(experiment_messages, 12u);  // per user, from each of the experiment's two inputs
  EXPECT_EQ(other_keys.size(), 2u);     // turns by variant: A and B
  // PanesKey names the same keys, from an operator and a group.
  std::set<std::string> named;
  std::string key;
  for (const auto& op : a.flow->metric_ops()) {
    for (const char* group : {"A", "B"}) {
      PanesKey(*op, op->grouped() ? group : "", &key);
      named.insert(key);
    }
  }
  std::set<std::string> want = other_keys;
  want.emplace(kExperimentInputsKey);
  EXPECT_EQ(named, want);
}

// Panes go to the partials partition librdkafka's consistent partitioner
// gives their key: the CRC-32 of the key, modulo the partition count.
TEST(PartialsTest, APanesMessagesPartitionIsTheCrcOfItsKey) {
  EXPECT_EQ(PanesPartition("123456789", 7), 5);  // CRC-32 0xCBF43926 % 7
  EXPECT_EQ(PanesPartition("123456789", 1), 0);
  EXPECT_EQ(PanesPartition(kExperimentInputsKey, 4), 1);
}

TEST(PartialsTest, UnknownMetricsAndMalformedMessagesAreCounted) {
  OperatorHarness a(kRules), other(R"(
metrics:
  - metric: errors
    where: type == "error"
    window: tumbling 1m
    value: count()
)");
  MergeStage merge(other.flow.get());
  a.Add(1000, Fields(0));
  std::vector<std::string> messages;
  DrainPanes(a.flow.get(), "a", 0,
             [&](std::string_view, std::string_view v) { messages.emplace_back(v); });
  ASSERT_EQ(messages.size(), 3u);  // latency avg and p95 share one operator
  for (const std::string& m : messages) {
    EXPECT_EQ(merge.Apply(m, "p/0"), MergeStage::Outcome::kUnknownMetric);
  }
  EXPECT_EQ(merge.Apply("{\"ts\":1}", "p/0"), MergeStage::Outcome::kMalformed);
  EXPECT_EQ(merge.Apply(messages[0].substr(0, messages[0].size() - 3), "p/0"),
            MergeStage::Outcome::kMalformed);
  EXPECT_EQ(merge.Apply("VPH1", "p/0"), MergeStage::Outcome::kMalformed);
  EXPECT_EQ(merge.Apply("", "p/0"), MergeStage::Outcome::kMalformed);
}

// kScaleOutRules with one more metric over the latency operator's panes.
const std::string kRulesWithMax = std::string(kScaleOutRules) + R"(  - metric: latency_max
    where: type == "message"
    window: sliding 5m every 1m
    value: max(latency_ms)
)";

std::vector<std::string> Without(std::vector<std::string> lines, const std::string& metric) {
  std::erase_if(lines, [&](const std::string& l) { return l.starts_with(metric + " "); });
  return lines;
}

int MetricIndex(const RuleSet& rules, const std::string& name) {
  for (size_t i = 0; i < rules.metrics.size(); ++i) {
    if (rules.metrics[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// A rolling reload: instance a still runs the old rules, instance b and the
// merge the new ones, which add latency_max to the operator of latency_avg
// and latency_p95. The merge adds every accumulator the two share, so the
// metrics both rules have are exact; latency_max misses a's events, and its
// windows holding a's panes are named for marking partial.
TEST(PartialsTest, InstancesOnOtherRulesMergeTheAccumulatorsTheyShare) {
  OperatorHarness single(kRulesWithMax), a(kRules), b(kRulesWithMax), merged(kRulesWithMax);
  MergeStage merge(merged.flow.get());
  for (int i = 0; i < 600; ++i) {
    single.Add(i * 1000, Fields(i));
    (i % 2 == 0 ? a : b).Add(i * 1000, Fields(i));
  }
  std::map<MergeStage::Outcome, int> outcomes;
  std::map<int, TimeMs> incomplete;
  auto publish = [&](OperatorHarness& from, const std::string& instance) {
    DrainPanes(from.flow.get(), instance, 0, [&](std::string_view, std::string_view value) {
      ++outcomes[merge.Apply(value, "p/0")];
      for (const auto& [m, start] : merge.incomplete()) {
        incomplete[m] = std::max(incomplete[m], start);
      }
    });
  };
  publish(a, "a");
  // a's latency panes lack max(latency_ms): one message, its 10 panes.
  EXPECT_EQ(outcomes[MergeStage::Outcome::kIncomplete], 1);
  EXPECT_EQ(outcomes[MergeStage::Outcome::kPanes], 4);  // turns by 3 intents, users
  ASSERT_EQ(incomplete.size(), 1u);
  EXPECT_EQ(incomplete.begin()->first, MetricIndex(*merged.rules, "latency_max"));
  EXPECT_EQ(incomplete.begin()->second, 9 * kMin);  // a's last pane starts at 9m
  incomplete.clear();
  publish(b, "b");
  EXPECT_TRUE(incomplete.empty());
  EXPECT_EQ(outcomes[MergeStage::Outcome::kPanes], 9);
  std::vector<WindowResult> want, got;
  std::vector<AlertNotice> notices;
  single.Close(kMaxTime, &want, &notices);
  merged.Close(kMaxTime, &got, &notices);
  EXPECT_GE(want.size(), 60u);
  EXPECT_EQ(Without(Formatted(got), "latency_max"), Without(Formatted(want), "latency_max"));

  // The other way round: the merge still on the old rules skips the
  // accumulator it does not know and misses nothing.
  OperatorHarness single_old(kRules), c(kRulesWithMax), merged_old(kRules);
  MergeStage old_merge(merged_old.flow.get());
  for (int i = 0; i < 600; ++i) {
    single_old.Add(i * 1000, Fields(i));
    c.Add(i * 1000, Fields(i));
  }
  DrainPanes(c.flow.get(), "c", 0, [&](std::string_view, std::string_view value) {
    EXPECT_EQ(old_merge.Apply(value, "p/0"), MergeStage::Outcome::kPanes);
    EXPECT_TRUE(old_merge.incomplete().empty());
  });
  ExpectTheWindowsOf(single_old, merged_old, 60);
}

// Panes messages of the older format ("VPP1": no accumulator keys, the
// operator named by its whole state key), as an older version's checkpoint
// holds them for publishing again, still merge.
TEST(PartialsTest, PanesOfTheOlderFormatStillMerge) {
  OperatorHarness single(kRules), a(kRules), merged(kRules);
  MergeStage merge(merged.flow.get());
  for (int i = 0; i < 300; ++i) {
    single.Add(i * 1000, Fields(i));
    a.Add(i * 1000, Fields(i));
  }
  for (const auto& op : a.flow->metric_ops()) {
    std::map<std::string, std::vector<std::pair<TimeMs, AccSet>>> groups;
    op->store().Drain([&](std::string_view g, TimeMs start, const AccSet& acc) {
      groups[std::string(g)].emplace_back(start, acc);
    });
    for (const auto& [group, panes] : groups) {
      std::vector<std::pair<TimeMs, const AccSet*>> refs;
      for (const auto& [start, acc] : panes) refs.emplace_back(start, &acc);
      const std::string message =
          EncodeLegacyPanes(PartialOperatorKey(op->state_key()), group, "a", 0, refs);
      ASSERT_TRUE(message.starts_with("VPP1"));
      EXPECT_EQ(merge.Apply(message, "p/0"), MergeStage::Outcome::kPanes);
    }
  }
  ExpectTheWindowsOf(single, merged, 30);
}

TEST(PartialsTest, ANumberedPublicationRepeatedAfterARestartIsMergedOnce) {
  OperatorHarness single(kRules), a(kRules), merged(kRules);
  MergeStage merge(merged.flow.get());
  auto publish = [&](uint64_t epoch, std::vector<std::string>* kept) {
    DrainPanes(a.flow.get(), "a", epoch,
               [&](std::string_view, std::string_view v) { kept->emplace_back(v); });
  };
  for (int i = 0; i < 100; ++i) {
    single.Add(i * 1000, Fields(i));
    a.Add(i * 1000, Fields(i));
  }
  std::vector<std::string> first;
  publish(1, &first);
  PartialHeartbeat hb;
  hb.instance = "a";
  hb.epoch = 1;
  hb.inputs = {{"shard-0", 95'000, false}};
  for (const std::string& m : first) EXPECT_EQ(merge.Apply(m, "p/0"), MergeStage::Outcome::kPanes);
  EXPECT_EQ(merge.Apply(EncodeHeartbeat(hb), "p/0"), MergeStage::Outcome::kHeartbeat);
  // The instance crashed after publishing epoch 1 and before its next
  // checkpoint landed: it publishes checkpoint 1's panes again.
  for (const std::string& m : first)
    EXPECT_EQ(merge.Apply(m, "p/0"), MergeStage::Outcome::kDuplicate);
  EXPECT_EQ(merge.Apply(EncodeHeartbeat(hb), "p/0"), MergeStage::Outcome::kDuplicate);
  // Epoch 2 is new; on another partials partition the epoch is not known yet.
  for (int i = 100; i < 200; ++i) {
    single.Add(i * 1000, Fields(i));
    a.Add(i * 1000, Fields(i));
  }
  std::vector<std::string> second;
  publish(2, &second);
  for (const std::string& m : second) EXPECT_EQ(merge.Apply(m, "p/0"), MergeStage::Outcome::kPanes);
  ExpectTheWindowsOf(single, merged, 20);
}

// What a kill -9 in the middle of a publication leaves on a broker that
// shows aborted transactions' messages (the development broker): some of
// the publication's panes and no heartbeat. The instance (or its
// partitions' next owner) then publishes the same aggregates again, with a
// heartbeat. Unnumbered (Kafka) and numbered (Kinesis, the same epoch
// again) publications both count once.
TEST(PartialsTest, APublicationCutShortByAKillIsDroppedForTheOneRepeatingIt) {
  for (uint64_t epoch : {0, 4}) {
    SCOPED_TRACE(epoch);
    OperatorHarness single(kRules), a(kRules), merged(kRules);
    MergeStage merge(merged.flow.get());
    for (int i = 0; i < 100; ++i) {
      single.Add(i * 1000, Fields(i));
      a.Add(i * 1000, Fields(i));
    }
    std::vector<std::string> drained;
    DrainPanes(a.flow.get(), "a", epoch,
               [&](std::string_view, std::string_view v) { drained.emplace_back(v); });
    ASSERT_EQ(drained.size(), 5u);  // turns: 3 intents; latency; users
    // The killed publication: three of five messages.
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(merge.Apply(WithPublication(drained[i], 11), "p/0"), MergeStage::Outcome::kHeld);
      EXPECT_TRUE(merge.settled().empty());
    }
    EXPECT_EQ(merge.held_messages(), 3u);
    // Published again, whole.
    EXPECT_EQ(merge.Apply(WithPublication(drained[0], 12), "p/0"), MergeStage::Outcome::kHeld);
    EXPECT_EQ(merge.settled(), std::vector<MergeStage::Outcome>(3, MergeStage::Outcome::kAborted));
    for (int i = 1; i < 5; ++i) {
      EXPECT_EQ(merge.Apply(WithPublication(drained[i], 12), "p/0"), MergeStage::Outcome::kHeld);
    }
    EXPECT_EQ(merge.held_messages(), 5u);
    PartialHeartbeat hb;
    hb.instance = "a";
    hb.epoch = epoch;
    hb.publication = 12;
    hb.inputs = {{"e/0", 99'000, false}};
    EXPECT_EQ(merge.Apply(EncodeHeartbeat(hb), "p/0"), MergeStage::Outcome::kHeartbeat);
    EXPECT_EQ(merge.settled(), std::vector<MergeStage::Outcome>(5, MergeStage::Outcome::kPanes));
    EXPECT_EQ(merge.held_messages(), 0u);
    ExpectTheWindowsOf(single, merged, 11);
  }
}

// Held panes wait in the merge's checkpoint; a heartbeat of another
// publication drops them; panes whose windows closed while they waited are
// late when their heartbeat comes.
// A heartbeat names the metrics that started over on its instance; the
// merge marks those of its rules incomplete up to the time given, and a
// heartbeat without any encodes as before.
TEST(PartialsTest, AHeartbeatNamesTheMetricsThatStartedOver) {
  OperatorHarness merged(kRules);
  MergeStage merge(merged.flow.get());
  PartialHeartbeat hb;
  hb.instance = "a";
  hb.inputs = {{"events/0", 95'000, false}};
  const std::string plain = EncodeHeartbeat(hb);
  hb.started_over = {{"latency_avg", 90'000}, {"not_in_the_merges_rules", 1}};
  const std::string with = EncodeHeartbeat(hb);
  EXPECT_EQ(with.substr(0, plain.size()), plain);
  PartialHeartbeat back;
  ASSERT_TRUE(DecodeHeartbeat(with, &back));
  EXPECT_EQ(back.started_over, hb.started_over);
  ASSERT_TRUE(DecodeHeartbeat(plain, &back));
  EXPECT_TRUE(back.started_over.empty());
  EXPECT_EQ(merge.Apply(with, "p/0"), MergeStage::Outcome::kHeartbeat);
  const std::optional<int> avg = merged.rules->FindMetric("latency_avg");
  ASSERT_TRUE(avg.has_value());
  EXPECT_EQ(merge.incomplete(), (std::map<int, TimeMs>{{*avg, 90'000}}));
}

TEST(PartialsTest, HeldPanesSurviveTheMergesCheckpointAndSettleByTheirHeartbeat) {
  OperatorHarness a(kRules), merged(kRules);
  MergeStage merge(merged.flow.get());
  a.Add(30'000, Fields(0));
  std::vector<std::string> drained;
  DrainPanes(a.flow.get(), "a", 0,
             [&](std::string_view, std::string_view v) { drained.emplace_back(v); });
  ASSERT_EQ(drained.size(), 3u);
  for (const std::string& m : drained) {
    EXPECT_EQ(merge.Apply(WithPublication(m, 7), "p/1"), MergeStage::Outcome::kHeld);
  }
  MergeStage restored(merged.flow.get());
  ASSERT_TRUE(restored.Decode(merge.Encode()));
  EXPECT_EQ(restored.held_messages(), 3u);
  // Not this publication's heartbeat: its panes were aborted.
  MergeStage other(merged.flow.get());
  ASSERT_TRUE(other.Decode(merge.Encode()));
  PartialHeartbeat hb;
  hb.instance = "a";
  hb.publication = 8;
  hb.inputs = {{"e/0", 100'000, false}};
  EXPECT_EQ(other.Apply(EncodeHeartbeat(hb), "p/1"), MergeStage::Outcome::kHeartbeat);
  EXPECT_EQ(other.settled(), std::vector<MergeStage::Outcome>(3, MergeStage::Outcome::kAborted));
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  merged.Close(2 * kMin, &results, &notices);
  EXPECT_TRUE(results.empty());
  // Its own heartbeat after windows holding minute 0 fired: late, as
  // panes merged then would have been.
  hb.publication = 7;
  EXPECT_EQ(restored.Apply(EncodeHeartbeat(hb), "p/1"), MergeStage::Outcome::kHeartbeat);
  EXPECT_EQ(restored.settled(), std::vector<MergeStage::Outcome>(3, MergeStage::Outcome::kLate));
  EXPECT_EQ(restored.late_panes(), 3u);
  EXPECT_EQ(restored.held_messages(), 0u);
  merged.Close(kMaxTime, &results, &notices);
  EXPECT_TRUE(results.empty());
}

}  // namespace
}  // namespace vigil
