// Rule changes under scale-out, end to end over the Kafka protocol on
// loopback: instances and the merge stage reloading rules while they run
// (operators/scale_out/partials.h on what rule versions share).
#include <signal.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "tests/runtime/scale_out_e2e.h"

namespace vigil::scale_out_test {
namespace {

// Two metrics over one operator's panes, and the same with a third added
// to it (what the panes aggregate changes).
constexpr char kTwoMetrics[] = R"(
metrics:
  - metric: messages
    where: type == "message"
    window: tumbling 1m
    value: count()
  - metric: latency_p95
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.95, latency_ms)
)";
constexpr char kThreeMetrics[] = R"(
  - metric: latency_max
    where: type == "message"
    window: tumbling 1m
    value: max(latency_ms)
)";

class ScaleOutReloadE2eTest : public ScaleOutE2eTest {
 protected:
  // Instance "a" over the events topic with `rules`, publishing only when
  // asked (a reload, a stop), once it reads all four partitions; its pid
  // and HTTP base.
  void StartInstance(const std::string& rules, pid_t* pid, std::string* base) {
    *pid = Spawn(kVigil + " run --input " + Url("events") + " --group one --partials " +
                     Url("partials") + " --instance-id a --rules " + rules +
                     " --checkpoint-interval 1h --idle-timeout 1h --http 127.0.0.1:0"
                     " --no-console" +
                     kGroupProps,
                 Path("a.log"));
    guards_.push_back(std::make_unique<ChildGuard>(*pid));
    *base = JobHttpBase(Path("a.log"));
    ASSERT_FALSE(base->empty()) << ReadFile(Path("a.log"));
    ASSERT_TRUE(WaitFor([&] { return ActiveInputs(*base) == 4; }, 30)) << ReadFile(Path("a.log"));
  }
};

// A rolling rule change: an instance that reloads rules changing what an
// operator aggregates first publishes what it held under the old rules, so
// nothing it read is lost; a merge on the old rules gives the windows of
// one job on them, and a merge on the new ones too (its new metric has
// none of the events read before the reload: PartialsTest has the windows
// this marks partial).
TEST_F(ScaleOutReloadE2eTest, AnInstanceReloadingRulesPublishesWhatItHeldFirst) {
  const std::string rules = Path("rules.yaml"), old_rules = Path("old_rules.yaml"),
                    new_rules = Path("new_rules.yaml");
  std::ofstream(rules) << kTwoMetrics;
  std::ofstream(old_rules) << kTwoMetrics;
  std::ofstream(new_rules) << kTwoMetrics << kThreeMetrics;
  // Nothing is published on a timer before the reload.
  pid_t a = 0;
  std::string base;
  StartInstance(rules, &a, &base);
  if (HasFatalFailure()) return;
  Result gen = Sh(kVigil + kGen + " --to " + Url("events") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base) == kEvents; }, 60));
  std::ofstream(rules) << kTwoMetrics << kThreeMetrics;
  ASSERT_EQ(::kill(a, SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(Path("a.log")).find("rules reloaded") != std::string::npos; }, 30))
      << ReadFile(Path("a.log"));
  ::kill(a, SIGTERM);
  ASSERT_EQ(WaitExit(a), 0) << ReadFile(Path("a.log"));

  const pid_t single = Spawn(kVigil + " run --input " + Url("events") + " --rules " + new_rules +
                                 " --group single --exit-at-end --output json --results " +
                                 Path("single.ndjson") + " --http off --no-progress" + kGroupProps,
                             Path("single.log"));
  ASSERT_EQ(WaitExit(single), 0) << ReadFile(Path("single.log"));
  auto merge = [&](const std::string& name, const std::string& rule_file) {
    const pid_t pid = Spawn(kVigil + " run --merge " + Url("partials") + " --rules " + rule_file +
                                " --group " + name + " --exit-at-end --output json --results " +
                                Path(name + ".ndjson") + " --http off --no-progress" + kGroupProps,
                            Path(name + ".log"));
    EXPECT_EQ(WaitExit(pid), 0) << ReadFile(Path(name + ".log"));
  };
  merge("merge_old", old_rules);
  merge("merge_new", new_rules);
  const std::vector<std::string> want = Windows(Path("single.ndjson"), {"latency_max"});
  EXPECT_EQ(want.size(), 62u);  // 31 minutes (the last one partial), two metrics
  EXPECT_EQ(Windows(Path("merge_old.ndjson"), {}), want);
  EXPECT_EQ(Windows(Path("merge_new.ndjson"), {"latency_max"}), want);
  // Every event was read before the reload and went out without a max:
  // the merge on the new rules knows, and has no latency_max window.
  EXPECT_TRUE(Windows(Path("merge_new.ndjson"), {"messages", "latency_p95"}).empty());
  EXPECT_NE(ReadFile(Path("merge_new.log")).find("those metrics' windows holding them are partial"),
            std::string::npos)
      << ReadFile(Path("merge_new.log"));
  EXPECT_EQ(ReadFile(Path("merge_old.log")).find("partial aggregates"), std::string::npos)
      << ReadFile(Path("merge_old.log"));
}

// An instance reloading rules that start a metric over (a new filter):
// what it read before went out under the old rules, so the merge on the
// new ones marks the metric's windows that could hold it partial, as one
// job reloading the same rules would (the window spanning the reload holds
// only the events read after it).
TEST_F(ScaleOutReloadE2eTest, AMetricStartingOverOnAnInstanceIsPartialAtTheMerge) {
  const std::string rules = Path("rules.yaml"), new_rules = Path("new_rules.yaml");
  const std::string metric =
      "metrics:\n  - metric: latency_max\n    window: tumbling 1m\n    value: max(latency_ms)\n"
      "    where: type == \"message\"";
  std::ofstream(rules) << metric << "\n";
  std::ofstream(new_rules) << metric << " and latency_ms > 100\n";
  auto produce = [&](const std::string& name, const std::vector<std::string>& lines) {
    const std::string file = Path(name);
    std::ofstream out(file);
    for (const std::string& l : lines) out << l << "\n";
    out.close();
    Result r = Sh("kcat -b " + broker_->bootstrap() + " -P -t events -p 0 -l " + file + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  };
  auto event = [](const std::string& at, int latency) {
    return "{\"ts\":\"2026-01-01T00:" + at +
           "Z\",\"type\":\"message\",\"latency_ms\":" + std::to_string(latency) + "}";
  };
  pid_t a = 0;
  std::string base;
  StartInstance(rules, &a, &base);
  if (HasFatalFailure()) return;
  produce("before.ndjson", {event("01:10", 300), event("09:50", 500)});
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base) == 2; }, 60));
  std::ofstream(rules) << metric << " and latency_ms > 100\n";
  ASSERT_EQ(::kill(a, SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(Path("a.log")).find("rules reloaded") != std::string::npos; }, 30))
      << ReadFile(Path("a.log"));
  produce("after.ndjson", {event("09:52", 400), event("10:30", 200), event("11:30", 250)});
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base) == 5; }, 60));
  ::kill(a, SIGTERM);
  ASSERT_EQ(WaitExit(a), 0) << ReadFile(Path("a.log"));

  const pid_t merge = Spawn(kVigil + " run --merge " + Url("partials") + " --rules " + new_rules +
                                " --group merge --exit-at-end --results " + Path("merge.ndjson") +
                                " --no-console --http off --no-progress" + kGroupProps,
                            Path("merge.log"));
  ASSERT_EQ(WaitExit(merge), 0) << ReadFile(Path("merge.log"));
  // [00:09, 00:10) lacks the 500 read before the reload; [00:01, 00:02)
  // went out under the old rules only.
  const std::string w = R"({"metric":"latency_max","start":"2026-01-01T00:)";
  EXPECT_EQ(
      Windows(Path("merge.ndjson"), {}),
      (std::vector<std::string>{
          w + R"(09:00.000Z","end":"2026-01-01T00:10:00.000Z","labels":{},"value":400,"partial":true})",
          w + R"(10:00.000Z","end":"2026-01-01T00:11:00.000Z","labels":{},"value":200})",
          w + R"(11:00.000Z","end":"2026-01-01T00:12:00.000Z","labels":{},"value":250,"partial":true})",
      }));
}

// The merge stage reloading rules that start a metric over (a quantile
// added next to a sliding count changes how its windows slide): the
// count's windows holding what the merge had before the reload are
// partial and page nothing; the later ones are those of one job.
TEST_F(ScaleOutE2eTest, AMergeReloadingRulesMarksWhatStartsOverPartial) {
  constexpr char kCount[] = R"(
metrics:
  - metric: messages
    where: type == "message"
    window: sliding 2m every 1m
    value: count()
)";
  constexpr char kQuantile[] = R"(
  - metric: latency_p95
    where: type == "message"
    window: sliding 2m every 1m
    value: quantile(0.95, latency_ms)
)";
  const std::string rules = Path("rules.yaml"), merge_rules = Path("merge_rules.yaml");
  std::ofstream(rules) << kCount;
  std::ofstream(merge_rules) << kCount;
  const pid_t a =
      Spawn(kVigil + " run --input " + Url("events") + " --group one --partials " +
                Url("partials") + " --instance-id a --rules " + rules +
                " --checkpoint-interval 200ms --http 127.0.0.1:0 --no-console" + kGroupProps,
            Path("a.log"));
  guards_.push_back(std::make_unique<ChildGuard>(a));
  const std::string base_a = JobHttpBase(Path("a.log"));
  ASSERT_FALSE(base_a.empty()) << ReadFile(Path("a.log"));
  const pid_t merge = Spawn(kVigil + " run --merge " + Url("partials") + " --rules " + merge_rules +
                                " --output json --results " + Path("merged.ndjson") +
                                " --http 127.0.0.1:0 --no-console" + kGroupProps,
                            Path("merge.log"));
  guards_.push_back(std::make_unique<ChildGuard>(merge));
  const std::string base = JobHttpBase(Path("merge.log"));
  ASSERT_FALSE(base.empty()) << ReadFile(Path("merge.log"));
  const std::string first = " gen --rate 20 --seed 5 --duration 10m";
  const std::string second = " gen --rate 20 --seed 6 --start 2026-01-01T00:10:00Z --duration 10m";
  Result gen = Sh(kVigil + first + " --to " + Url("events") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  // The merge has closed the windows up to the first part's last minutes.
  auto windows = [&] {
    std::smatch m;
    const std::string body = HttpGet(base, "/api/status").second;
    return std::regex_search(body, m, std::regex("\"windows\":(\\d+)")) ? std::stoll(m[1]) : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return windows() >= 8; }, 60))
      << ReadFile(Path("merge.log")) << HttpGet(base, "/api/status").second;
  std::ofstream(merge_rules) << kCount << kQuantile;
  ASSERT_EQ(::kill(merge, SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(Path("merge.log")).find("rules reloaded") != std::string::npos; }, 30))
      << ReadFile(Path("merge.log"));
  gen = Sh(kVigil + second + " --to " + Url("events") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base_a) == 24000; }, 60));
  ::kill(a, SIGTERM);
  ASSERT_EQ(WaitExit(a), 0) << ReadFile(Path("a.log"));
  // The instance has left: the merge closes the windows up to its last
  // watermark (0:19 and more of the second part).
  ASSERT_TRUE(WaitFor([&] { return windows() >= 18; }, 60))
      << ReadFile(Path("merge.log")) << HttpGet(base, "/api/status").second;
  ::kill(merge, SIGTERM);
  ASSERT_EQ(WaitExit(merge), 0) << ReadFile(Path("merge.log"));

  // One job over both parts, on the count alone.
  const pid_t single = Spawn(kVigil + " run --input " + Url("events") + " --rules " + rules +
                                 " --group single --exit-at-end --output json --results " +
                                 Path("single.ndjson") + " --http off --no-progress" + kGroupProps,
                             Path("single.log"));
  ASSERT_EQ(WaitExit(single), 0) << ReadFile(Path("single.log"));
  std::map<std::string, std::string> want;  // by window end
  for (const std::string& l : Windows(Path("single.ndjson"), {})) want[Field(l, "end")] = l;
  int partial = 0, complete = 0;
  for (const std::string& l : Windows(Path("merged.ndjson"), {"latency_p95"})) {
    if (l.find("\"partial\":true") != std::string::npos) {
      ++partial;
      // Started over at the reload: it misses what the merge had before.
      EXPECT_LT(Field(l, "start"), "2026-01-01T00:10:00.000Z") << l;
      continue;
    }
    ++complete;
    EXPECT_EQ(l, want[Field(l, "end")]);
  }
  // The windows open at the reload: [8m, 10m) and [9m, 11m), give or take
  // one that closed just before it.
  EXPECT_GE(partial, 1);
  EXPECT_LE(partial, 3);
  EXPECT_GE(complete, 15);
}

}  // namespace
}  // namespace vigil::scale_out_test
