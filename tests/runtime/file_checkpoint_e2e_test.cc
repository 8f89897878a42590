// Checkpoints of file and stdin jobs, end to end with the binary: a job
// killed with SIGKILL part-way through its input and restarted on the same
// input resumes after the record its checkpoint saw, so the windows and
// alerts equal those of one uninterrupted run; another input is refused;
// a directory of unreadable checkpoints is refused unless
// --allow-fresh-start. The input arrives through a named pipe, so the kill
// lands at a known point.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

class FileCheckpointE2eTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    return TempPath(std::string("fileckpt_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  void SetUp() override {
    events_ = Path("events.ndjson");
    ASSERT_EQ(Sh(kVigil +
                 " gen --rate 20 --duration 30m --seed 5 "
                 "--incident latency_spike@5m+10m --out " +
                 events_)
                  .exit_code,
              0);
    lines_ = Lines(ReadFile(events_));
    ASSERT_EQ(lines_.size(), 36000u);
    clean_ = Path("clean.ndjson");
    Result c = Sh(kVigil + " run --input " + events_ + " --results " + clean_ +
                  " --output json --http off --no-progress 2>/dev/null");
    ASSERT_EQ(c.exit_code, 0);
    clean_console_ = c.out;
  }
  // Starts `vigil run` reading `input` (a named pipe, given as a file or as
  // stdin), writes the first `count` events into it, waits for a checkpoint
  // after them, and kills the job with SIGKILL while the pipe is still open.
  void RunAndKill(const std::string& input, bool as_stdin, size_t count, const std::string& ckpt,
                  const std::string& results, const std::string& log,
                  const std::string& flags = "") {
    ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
    const std::string in = as_stdin ? " --input - < " + input : " --input " + input;
    const pid_t job = Spawn(kVigil + " run" + in + " --checkpoint-dir " + ckpt +
                                " --checkpoint-interval 20ms --results " + results +
                                " --output json --http off --no-progress" + flags,
                            log);
    {
      std::ofstream pipe(input);
      for (size_t i = 0; i < count; ++i) pipe << lines_[i] << '\n';
      pipe.flush();
      // The job takes the records and checkpoints every 20 ms while it
      // does; then it waits on the open pipe.
      ::usleep(1'500'000);
      ::kill(job, SIGKILL);
      EXPECT_EQ(WaitExit(job), -SIGKILL);
    }
    ::unlink(input.c_str());
    EXPECT_FALSE(Sh("ls " + ckpt + "/checkpoint-*.vck 2>/dev/null").out.empty()) << ReadFile(log);
  }
  // A job on `before` killed after 20,000 events of input.ndjson, then
  // restarted from its checkpoint on `after` over the whole file; the
  // restart's log is run2.log, the results results.ndjson.
  Result RestartUnderOtherRules(const std::string& before, const std::string& after,
                                const std::string& flags = "") {
    const std::string input = Path("input.ndjson"), ckpt = Path("ckpt");
    RunAndKill(input, /*as_stdin=*/false, 20000, ckpt, Path("results.ndjson"), Path("run1.log"),
               " --rules " + before + flags);
    EXPECT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
    return Sh(kVigil + " run --input " + input + " --rules " + after + " --checkpoint-dir " + ckpt +
              " --results " + Path("results.ndjson") + flags +
              " --output json --http off --no-progress 2>" + Path("run2.log"));
  }
  std::vector<std::string> AlertLines(const std::string& console) {
    std::vector<std::string> out;
    for (const std::string& l : Lines(console)) {
      if (l.find("\"alert\":") != std::string::npos) out.push_back(l);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  std::string events_, clean_, clean_console_;
  std::vector<std::string> lines_;
};

// A checkpoint directory that cannot be one stops the job at start, not
// every checkpoint it would write.
TEST_F(FileCheckpointE2eTest, ACheckpointDirectoryThatIsAFileIsRefusedAtStart) {
  const std::string file = Path("not_a_dir");
  std::ofstream(file) << "x";
  const std::string run = kVigil + " run --input " + events_ +
                          " --no-console --http off --no-progress --checkpoint-dir ";
  Result r = Sh(run + file + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "vigil: checkpoint directory " + file + " is not a directory\n");
  Result under = Sh(run + file + "/sub 2>&1");
  EXPECT_EQ(under.exit_code, 2);
  EXPECT_EQ(under.out, "vigil: creating " + file + "/sub: Not a directory\n");
}

TEST_F(FileCheckpointE2eTest, AFileJobKilledPartWayResumesAtTheRecordItReached) {
  const std::string input = Path("input.ndjson"), ckpt = Path("ckpt"),
                    results = Path("results.ndjson");
  RunAndKill(input, /*as_stdin=*/false, 20000, ckpt, results, Path("run1.log"));
  const size_t before = Lines(ReadFile(results)).size();
  EXPECT_GT(before, 100u);
  EXPECT_LT(before, Lines(ReadFile(clean_)).size());
  // The same input at the same path: a regular file now.
  ASSERT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
  Result r = Sh(kVigil + " run --input " + input + " --checkpoint-dir " + ckpt + " --results " +
                results + " --output json --http off --no-progress 2>" + Path("run2.log"));
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << log;
  EXPECT_NE(log.find("vigil: restored checkpoint"), std::string::npos) << log;
  EXPECT_NE(log.find("36000 records"), std::string::npos) << log;
  EXPECT_NE(log.find("36000 processed"), std::string::npos) << log;
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean_)));
  EXPECT_EQ(AlertLines(ReadFile(Path("run1.log")) + r.out), AlertLines(clean_console_));
}

// A restart that names the results file another way (relative to the
// directory it runs in, through `./`) resumes it: the file was emptied and
// only the windows after the checkpoint written again.
TEST_F(FileCheckpointE2eTest, TheResultsFileNamedAnotherWayIsResumedNotStartedOver) {
  const std::string input = Path("input.ndjson"), ckpt = Path("ckpt"),
                    results = Path("results.ndjson");
  RunAndKill(input, /*as_stdin=*/false, 20000, ckpt, results, Path("run1.log"));
  EXPECT_GT(Lines(ReadFile(results)).size(), 100u);
  ASSERT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
  const size_t slash = results.rfind('/');
  Result r = Sh("cd " + results.substr(0, slash) + " && " + kVigil + " run --input " + input +
                " --checkpoint-dir " + ckpt + " --results ./" + results.substr(slash + 1) +
                " --output json --http off --no-progress 2>" + Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run2.log"));
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean_)));
}

// The checkpoint holds the state of one job, whatever the number of
// workers that wrote it: it restores with any other number.
TEST_F(FileCheckpointE2eTest, AJobKilledWithSomeWorkersResumesWithAnotherNumber) {
  for (const auto& [before, after] : std::vector<std::pair<int, int>>{{2, 1}, {1, 2}, {4, 2}}) {
    const std::string tag = std::to_string(before) + "to" + std::to_string(after);
    const std::string input = Path(tag + ".ndjson"), ckpt = Path(tag + "_ckpt"),
                      results = Path(tag + "_results.ndjson"), log1 = Path(tag + "_run1.log");
    RunAndKill(input, /*as_stdin=*/false, 20000, ckpt, results, log1,
               " --workers " + std::to_string(before));
    ASSERT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
    Result r = Sh(StrCat(kVigil, " run --input ", input, " --checkpoint-dir ", ckpt, " --results ",
                         results, " --workers ", after,
                         " --output json --http off --no-progress 2>", Path(tag + "_run2.log")));
    const std::string log = ReadFile(Path(tag + "_run2.log"));
    ASSERT_EQ(r.exit_code, 0) << log;
    EXPECT_NE(log.find("vigil: restored checkpoint"), std::string::npos) << tag << log;
    EXPECT_NE(log.find("36000 processed"), std::string::npos) << tag << log;
    EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean_))) << tag;
    EXPECT_EQ(AlertLines(ReadFile(log1) + r.out), AlertLines(clean_console_)) << tag;
  }
}

// A restart under edited rules: a sum added next to a running count (the
// same panes) and a new count with an alert. The count keeps its panes and
// its windows are those of an uninterrupted run; the new metrics hold only
// the events after the checkpoint, so their window holding it is partial
// and pages nothing, where its low count would otherwise page.
TEST_F(FileCheckpointE2eTest, ARestartUnderEditedRulesMarksWhatStartedOverPartial) {
  const std::string head = R"(metrics:
  - metric: n
    where: type == "message"
    window: tumbling 1m
    value: count()
)";
  const std::string added = R"(  - metric: s
    where: type == "message"
    window: tumbling 1m
    value: sum(latency_ms)
  - metric: low
    where: type == "message" and latency_ms >= 0
    window: tumbling 1m
    value: count()
alerts:
  - alert: LowTraffic
    severity: P2
    expr: low < )";
  const std::string before = Path("before.yaml"), after = Path("after.yaml");
  std::ofstream(before) << head;
  // The lowest complete `low` of an uninterrupted run, less the first
  // minute's: no page there after the first minute.
  std::ofstream(after) << head << added << "0\n";
  const std::string clean = Path("clean_after.ndjson");
  ASSERT_EQ(Sh(kVigil + " run --input " + events_ + " --rules " + after + " --results " + clean +
               " --output json --http off --no-progress 2>/dev/null")
                .exit_code,
            0);
  auto lines_of = [](const std::string& file, const std::string& metric) {
    std::vector<std::string> out;
    for (const std::string& l : Lines(ReadFile(file))) {
      if (l.find("{\"metric\":\"" + metric + "\"") == 0) out.push_back(l);
    }
    return out;
  };
  auto value = [](const std::string& line) {
    return std::stod(line.substr(line.find("\"value\":") + 8));
  };
  // (The first minute holds the few events before the generator's start.)
  double lowest = 1e18;
  for (const std::string& l : lines_of(clean, "low")) {
    if (l.find("\"partial\":true") == std::string::npos && value(l) > 100) {
      lowest = std::min(lowest, value(l));
    }
  }
  ASSERT_LT(lowest, 1e18);
  std::ofstream(after) << head << added << lowest << "\n";

  const std::string results = Path("results.ndjson");
  Result r = RestartUnderOtherRules(before, after);
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << log;
  EXPECT_NE(log.find("1 of 2 operator states"), std::string::npos) << log;
  EXPECT_EQ(lines_of(results, "n"), lines_of(clean, "n"));
  for (const std::string metric : {"s", "low"}) {
    const std::vector<std::string> got = lines_of(results, metric);
    const std::vector<std::string> want = lines_of(clean, metric);
    ASSERT_GE(got.size(), 3u) << metric;
    // The first window, holding the checkpoint, and the last, past the end.
    EXPECT_NE(got.front().find("\"partial\":true"), std::string::npos) << got.front();
    EXPECT_NE(got.back().find("\"partial\":true"), std::string::npos) << got.back();
    // Every other one as in the uninterrupted run.
    EXPECT_EQ(std::vector<std::string>(got.begin() + 1, got.end() - 1),
              std::vector<std::string>(want.end() - static_cast<std::ptrdiff_t>(got.size()) + 1,
                                       want.end() - 1))
        << metric;
  }
  EXPECT_LT(value(lines_of(results, "low").front()), lowest);
  EXPECT_EQ(r.out.find("LowTraffic"), std::string::npos) << r.out;
}

// A restart under an SLO whose `good:` changed, with two workers: the
// job's SLO panes are restored under other aggregates (new panes), and
// the workers count their groups there; the burn rates of the windows
// after the checkpoint are those of an uninterrupted run.
TEST_F(FileCheckpointE2eTest, ARestartUnderAnSloWithAnotherGoodGoesOnWithTwoWorkers) {
  const std::string slo = R"(slos:
  - slo: lat
    objective: 99%
    window: 30d
    good: latency_ms < GOOD
    valid: type == "message"
    alerting: {page: P1, ticket: P3}
)";
  const std::string before = Path("before.yaml"), after = Path("after.yaml");
  std::string text = slo;
  std::ofstream(before) << text.replace(text.find("GOOD"), 4, "5000");
  text = slo;
  std::ofstream(after) << text.replace(text.find("GOOD"), 4, "4000");
  const std::string clean = Path("clean_after.ndjson");
  ASSERT_EQ(Sh(kVigil + " run --input " + events_ + " --rules " + after + " --results " + clean +
               " --workers 2 --output json --http off --no-progress 2>/dev/null")
                .exit_code,
            0);
  Result r = RestartUnderOtherRules(before, after, " --workers 2");
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << log;
  EXPECT_NE(log.find("1 of 1 operator states"), std::string::npos) << log;
  // The checkpoint is at 00:16:40 of event time: the 5-minute window
  // holding it starts over, partial; the next one is whole.
  const std::vector<std::string> want = Lines(ReadFile(clean));
  const std::string burn = R"({"metric":"slo_lat_burn_rate_5m","start":"2026-01-01T00:)";
  bool holding = false;
  size_t complete = 0;
  for (const std::string& l : Lines(ReadFile(Path("results.ndjson")))) {
    if (l.find(burn + "15") == 0) holding = l.find(R"("partial":true)") != std::string::npos;
    if (l.find(burn + "2") != 0 || l.find(R"("partial":true)") != std::string::npos) continue;
    ++complete;
    EXPECT_NE(std::find(want.begin(), want.end(), l), want.end()) << l;
  }
  EXPECT_TRUE(holding);
  EXPECT_GE(complete, 1u);
}

// A restart under an experiment with a metric added: it starts over, its
// outputs are partial from then on, and an alert firing on them is
// resolved at the restart, stamped with its last evaluation (00:15, the
// checkpoint is at 00:16:40), not one window later for want of data.
TEST_F(FileCheckpointE2eTest, ARestartUnderAChangedExperimentResolvesItsAlertsAtTheRestart) {
  const std::string experiment = R"(experiments:
  - experiment: e
    arm: variant
    control: A
    split: {A: 0.5, B: 0.5}
    unit: user_id
    window: 5m
    metrics:
      - {name: slow, where: type == "message", value: ratio(latency_ms > 3000), goal: decrease}
)";
  const std::string added =
      "      - {name: fast, where: type == \"message\", value: ratio(latency_ms < 500), "
      "goal: increase}\n";
  const std::string alert = R"(alerts:
  - alert: Units
    severity: P3
    expr: experiment_units > 0
)";
  const std::string before = Path("before.yaml"), after = Path("after.yaml");
  std::ofstream(before) << experiment << alert;
  std::ofstream(after) << experiment << added << alert;
  Result r = RestartUnderOtherRules(before, after);
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run2.log"));
  std::vector<std::string> units;
  for (const std::string& l : AlertLines(r.out)) {
    if (l.find("\"alert\":\"Units\"") != std::string::npos) units.push_back(l);
  }
  ASSERT_EQ(units.size(), 2u) << r.out;  // arms A and B
  for (const std::string& l : units) {
    EXPECT_NE(l.find("\"at\":\"2026-01-01T00:15:00.000Z\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"state\":\"resolved\""), std::string::npos) << l;
    EXPECT_EQ(l.find("resolved_value"), std::string::npos) << l;
  }
  for (const std::string& l : Lines(ReadFile(Path("results.ndjson")))) {
    if (l.find("\"metric\":\"experiment_units\"") == std::string::npos ||
        l.find("\"end\":\"2026-01-01T00:2") == std::string::npos) {
      continue;
    }
    EXPECT_NE(l.find("\"partial\":true"), std::string::npos) << l;
  }
}

// A restart under rules that change a session stream: its open sessions
// are lost or cut short, so the windows of the metrics reading it up to
// the gap past the last event read are partial, though those metrics did
// not change: here the window holding the checkpoint and the next. (The
// generated sessions go on for minutes: those open at the checkpoint are
// emitted later with only their later events, as docs/commands.md says.)
TEST_F(FileCheckpointE2eTest, ARestartUnderAChangedStreamMarksItsMetricsPartialForItsGap) {
  const std::string stream = R"(streams:
  - stream: sessions
    key: session_id
    window: session 1m
    emit:
      turns: count(type == "message")
)";
  const std::string metric = R"(metrics:
  - metric: turns_closed
    from: sessions
    window: tumbling 1m
    value: sum(turns)
)";
  const std::string before = Path("before.yaml"), after = Path("after.yaml");
  std::ofstream(before) << stream << metric;
  std::ofstream(after) << stream << "      slowest: max(latency_ms)\n" << metric;
  const std::string results = Path("results.ndjson");
  Result r = RestartUnderOtherRules(before, after);
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run2.log"));
  // The checkpoint's watermark: its last event read is no earlier.
  const std::string log = ReadFile(Path("run2.log"));
  const size_t at = log.find("watermark 2026-");
  ASSERT_NE(at, std::string::npos) << log;
  const std::optional<TimeMs> watermark = ParseRfc3339(log.substr(at + 10, 24));
  ASSERT_TRUE(watermark.has_value()) << log;
  int leading = 0, complete = 0;
  for (const std::string& l : Lines(ReadFile(results))) {
    const std::optional<TimeMs> start = ParseRfc3339(l.substr(l.find("\"start\":\"") + 9, 24));
    const std::optional<TimeMs> end = ParseRfc3339(l.substr(l.find("\"end\":\"") + 7, 24));
    ASSERT_TRUE(start.has_value() && end.has_value()) << l;
    if (*end <= *watermark) continue;  // closed by the first run
    const bool partial = l.find("\"partial\":true") != std::string::npos;
    if (*start <= *watermark + 60'000) {
      EXPECT_TRUE(partial) << l;
      ++leading;
    } else if (!partial) {
      ++complete;
    }
  }
  EXPECT_GE(leading, 1);
  EXPECT_GE(complete, 10);
}

TEST_F(FileCheckpointE2eTest, AStdinJobResumesWhenTheSameStreamIsPipedAgain) {
  const std::string input = Path("pipe"), ckpt = Path("ckpt"), results = Path("results.ndjson");
  RunAndKill(input, /*as_stdin=*/true, 15000, ckpt, results, Path("run1.log"));
  Result r =
      Sh("cat " + events_ + " | " + kVigil + " run --input - --checkpoint-dir " + ckpt +
         " --results " + results + " --output json --http off --no-progress 2>" + Path("run2.log"));
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << log;
  EXPECT_NE(log.find("36000 records"), std::string::npos) << log;
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean_)));
  EXPECT_EQ(AlertLines(ReadFile(Path("run1.log")) + r.out), AlertLines(clean_console_));
}

TEST_F(FileCheckpointE2eTest, AnotherStreamOnStdinIsRefused) {
  const std::string input = Path("pipe"), ckpt = Path("ckpt"), results = Path("results.ndjson");
  RunAndKill(input, /*as_stdin=*/true, 15000, ckpt, results, Path("run1.log"));
  const std::string other = Path("other.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 30m --seed 6 --out " + other).exit_code, 0);
  Result r = Sh(kVigil + " run --input - --checkpoint-dir " + ckpt + " --results " + results +
                " --output json --http off --no-progress < " + other + " 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("is not the record the checkpoint was taken after"), std::string::npos)
      << r.out;
  // A shorter stream ends before the checkpoint's record.
  Result short_run =
      Sh("head -100 " + events_ + " | " + kVigil + " run --input - --checkpoint-dir " + ckpt +
         " --results " + results + " --no-console --http off --no-progress 2>&1");
  EXPECT_EQ(short_run.exit_code, 1) << short_run.out;
  EXPECT_NE(short_run.out.find("ended before line"), std::string::npos) << short_run.out;
}

// A run that read its input to the end closed every window, partial ones
// too: the same input again is fine (nothing is left to do), a longer one
// is refused rather than dead-lettered as late event by event.
TEST_F(FileCheckpointE2eTest, AnInputThatGoesOnPastAnEndedRunIsRefused) {
  const std::string head = Path("head.ndjson"), ckpt = Path("ckpt"),
                    results = Path("results.ndjson");
  ASSERT_EQ(Sh("head -20000 " + events_ + " > " + head).exit_code, 0);
  const std::string run = kVigil + " run --input - --checkpoint-dir " + ckpt + " --results " +
                          results + " --no-console --http off --no-progress 2>&1 < ";
  ASSERT_EQ(Sh(run + head).exit_code, 0);
  Result again = Sh(run + head);
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("watermark the end of its input, windows closed up to the end of its "
                           "input"),
            std::string::npos)
      << again.out;
  Result longer = Sh(run + events_);
  EXPECT_EQ(longer.exit_code, 1) << longer.out;
  EXPECT_NE(longer.out.find("stdin goes on past line 20000, where the checkpoint was written when "
                            "its input had ended: every window is closed, and what follows would "
                            "all be late (use another checkpoint directory, or none)"),
            std::string::npos)
      << longer.out;
  // Nothing was dead-lettered as late on the way.
  EXPECT_NE(longer.out.find("0 dead-lettered (0 late)"), std::string::npos) << longer.out;
}

TEST_F(FileCheckpointE2eTest, EveryCheckpointUnreadableRefusesToStartUnlessAllowed) {
  const std::string ckpt = Path("ckpt"), results = Path("results.ndjson");
  Result first = Sh(kVigil + " run --input " + events_ + " --checkpoint-dir " + ckpt +
                    " --results " + results + " --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  for (const std::string& f : Lines(Sh("ls " + ckpt + "/checkpoint-*.vck").out)) {
    ASSERT_EQ(
        Sh("printf 'garbage' | dd of=" + f + " bs=1 seek=40 conv=notrunc status=none").exit_code,
        0);
  }
  const std::string cmd = kVigil + " run --input " + events_ + " --checkpoint-dir " + ckpt +
                          " --results " + results + " --no-console --http off --no-progress";
  Result refused = Sh(cmd + " 2>&1");
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.out.find("checksum mismatch"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("can be read"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("--allow-fresh-start"), std::string::npos) << refused.out;
  Result fresh = Sh(cmd + " --allow-fresh-start 2>&1");
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out;
  EXPECT_NE(fresh.out.find("36000 processed"), std::string::npos) << fresh.out;
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean_)));
}

TEST_F(FileCheckpointE2eTest, AMissingJobFileIsNamed) {
  const std::string missing = Path("no-such-job.yaml");
  Result r = Sh(kVigil + " run --config " + missing + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(missing), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vigil
