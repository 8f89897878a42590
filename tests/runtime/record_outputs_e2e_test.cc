// Record outputs end to end with the binary and the reference rules: the
// labeling queue holds exactly the thumbs-down ratings whose turn arrived
// within the hour before them, once each, with the turn's text; the files
// are the same bytes with any number of workers; a job killed with SIGKILL
// part-way and restarted from its checkpoint writes each record once.
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/operators/notify/recording_receiver.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

class RecordOutputsE2eTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    return TempPath(std::string("records_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  void SetUp() override {
    // 40 minutes across midnight: records of two days.
    events_ = Path("events.ndjson");
    ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 40m --seed 8 --start 2025-12-31T23:40:00Z " +
                 "--out " + events_)
                  .exit_code,
              0);
    lines_ = Lines(ReadFile(events_));
    ASSERT_EQ(lines_.size(), 48000u);
  }
  // `vigil run` over the events file with the reference rules.
  Result Run(const std::string& dir, const std::string& flags = "") {
    std::filesystem::remove_all(dir);
    return Sh(kVigil + " run --input " + events_ + " --record-dir " + dir +
              " --output json --http off --no-progress" + flags + " 2>" + Path("run.log"));
  }
  // `vigil run` with `flags` and checkpoints in ckpt/, killed with SIGKILL
  // after the first 30000 records (through a named pipe, so that the kill
  // lands after them and a checkpoint of them; midnight is at record
  // 24000); then run again over the whole file with `restart_flags`,
  // resuming from the checkpoint (`between` runs before). Its stderr is in
  // run2.log.
  Result KilledAndRestarted(const std::string& flags, const std::string& restart_flags,
                            const std::function<void()>& between = {}) {
    const std::string input = Path("input.ndjson"), ckpt = Path("ckpt");
    EXPECT_EQ(::mkfifo(input.c_str(), 0600), 0);
    const pid_t job = Spawn(StrCat(kVigil, " run --input ", input, " --checkpoint-dir ", ckpt,
                                   " --checkpoint-interval 20ms --output json --http off "
                                   "--no-progress",
                                   flags),
                            Path("run1.log"));
    {
      std::ofstream pipe(input);
      for (size_t i = 0; i < 30000; ++i) pipe << lines_[i] << '\n';
      pipe.flush();
      ::usleep(1'500'000);
      ::kill(job, SIGKILL);
      EXPECT_EQ(WaitExit(job), -SIGKILL);
    }
    ::unlink(input.c_str());
    if (between) between();
    EXPECT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
    return Sh(StrCat(kVigil, " run --input ", input, " --checkpoint-dir ", ckpt,
                     " --output json --http off --no-progress", restart_flags, " 2>",
                     Path("run2.log")));
  }
  // Every file of `output` under `dir`, in day order, concatenated.
  static std::string Output(const std::string& dir, const std::string& output) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(StrCat(dir, "/", output))) {
      files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const std::string& f : files) all += ReadFile(f);
    return all;
  }
  std::string events_;
  std::vector<std::string> lines_;
};

// The labeling queue computed from the events file alone: each thumbs-down
// whose turn_id names a turn at most an hour earlier, as the line the
// output writes, in the output's order (time, then line).
std::vector<std::string> ExpectedLabelingQueue(const std::vector<std::string>& lines) {
  simdjson::dom::parser parser;
  struct Turn {
    TimeMs ts;
    std::string fields;  // intent through response, as JSON members
  };
  std::map<std::string, Turn> turns;
  std::vector<std::pair<TimeMs, std::string>> out;
  auto json = [](std::string_view s) {
    std::string q;
    AppendJsonString(s, &q);
    return q;
  };
  auto nullable = [&](simdjson::dom::element e) {
    return e.is_null() ? std::string("null") : json(e.get_string().value());
  };
  // Turns first: a rating may come before its turn in the file.
  for (const std::string& l : lines) {
    simdjson::dom::element e = parser.parse(l).value();
    if (std::string_view(e["type"].get_string().value()) != "message") continue;
    const TimeMs ts = *ParseRfc3339(e["ts"].get_string().value());
    turns[std::string(e["turn_id"].get_string().value())] = {
        ts, StrCat(",\"intent\":", json(e["intent"].get_string().value()), ",\"topic\":",
                   nullable(e["topic"]), ",\"variant\":", json(e["variant"].get_string().value()),
                   ",\"user_message\":", json(e["user_message"].get_string().value()),
                   ",\"response\":", json(e["response"].get_string().value()))};
  }
  for (const std::string& l : lines) {
    simdjson::dom::element e = parser.parse(l).value();
    if (std::string_view(e["type"].get_string().value()) != "feedback") continue;
    if (e["rating"].get_int64().value() != -1) continue;
    const std::string id(e["turn_id"].get_string().value());
    const TimeMs ts = *ParseRfc3339(e["ts"].get_string().value());
    auto t = turns.find(id);
    if (t == turns.end() || ts < t->second.ts || ts > t->second.ts + 3'600'000) continue;
    const TimeMs at = std::max(ts, t->second.ts);
    out.emplace_back(
        at, StrCat("{\"ts\":\"", FormatTimestamp(at), "\",\"turn_id\":", json(id), t->second.fields,
                   ",\"rating\":-1,\"comment\":", json(e["comment"].get_string().value()), "}"));
  }
  std::sort(out.begin(), out.end());
  std::vector<std::string> lines_out;
  for (auto& [ts, line] : out) lines_out.push_back(line);
  return lines_out;
}

TEST_F(RecordOutputsE2eTest, TheLabelingQueueHoldsEachThumbsDownOfAKnownTurnOnce) {
  const std::string dir = Path("out");
  Result r = Run(dir);
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run.log"));
  const std::vector<std::string> expected = ExpectedLabelingQueue(lines_);
  ASSERT_GT(expected.size(), 100u);
  EXPECT_EQ(Lines(Output(dir, "labeling-queue")), expected);
  // One file per day of the records' time.
  EXPECT_TRUE(std::filesystem::exists(dir + "/labeling-queue/2025-12-31.ndjson"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/labeling-queue/2026-01-01.ndjson"));
  for (const std::string& l : Lines(ReadFile(dir + "/labeling-queue/2025-12-31.ndjson"))) {
    EXPECT_EQ(l.substr(0, 18), "{\"ts\":\"2025-12-31T") << l;
  }
  // Thumbs-up turns go to the positive examples.
  const std::vector<std::string> positive = Lines(Output(dir, "positive-examples"));
  EXPECT_GT(positive.size(), expected.size());
  for (const std::string& l : positive) {
    EXPECT_EQ(l.find("\"rating\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"user_message\":\""), std::string::npos) << l;
  }
}

// --records http://…: the same records as the files, each output's in the
// files' order, POSTed in NDJSON batches of at most 500.
TEST_F(RecordOutputsE2eTest, AWebhookGetsTheRecordsOfTheFiles) {
  testing_util::RecordingReceiver rx;
  const std::string dir = Path("out");
  Result r = Run(dir, " --records " + rx.url("/records"));
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run.log"));
  std::map<std::string, std::vector<std::string>> posted;  // by output
  size_t posts = 0;
  simdjson::dom::parser parser;
  for (const testing_util::RecordedRequest& req : rx.Accepted()) {
    ++posts;
    EXPECT_EQ(req.target, "/records");
    const std::vector<std::string> lines = Lines(req.body);
    EXPECT_LE(lines.size(), 500u);
    for (const std::string& l : lines) {
      // {"output":NAME,"record":RECORD}: the record is the file's line.
      const size_t at = l.find(",\"record\":");
      ASSERT_NE(at, std::string::npos) << l;
      simdjson::dom::element e;
      ASSERT_EQ(parser.parse(l).get(e), simdjson::SUCCESS) << l;
      posted[std::string(e["output"].get_string().value())].push_back(
          l.substr(at + 10, l.size() - at - 11));
    }
  }
  EXPECT_GT(posts, 2u);
  for (const char* output : {"labeling-queue", "positive-examples"}) {
    const std::vector<std::string> file = Lines(Output(dir, output));
    EXPECT_FALSE(file.empty());
    EXPECT_EQ(posted[output], file) << output;
  }
}

TEST_F(RecordOutputsE2eTest, AnyNumberOfWorkersWritesTheSameBytes) {
  ASSERT_EQ(Run(Path("one"), " --workers 1").exit_code, 0) << ReadFile(Path("run.log"));
  ASSERT_EQ(Run(Path("two"), " --workers 2").exit_code, 0) << ReadFile(Path("run.log"));
  ASSERT_EQ(Run(Path("four"), " --workers 4").exit_code, 0) << ReadFile(Path("run.log"));
  for (const char* output : {"labeling-queue", "positive-examples"}) {
    const std::string one = Output(Path("one"), output);
    EXPECT_FALSE(one.empty());
    EXPECT_EQ(Output(Path("two"), output), one) << output;
    EXPECT_EQ(Output(Path("four"), output), one) << output;
  }
}

TEST_F(RecordOutputsE2eTest, WithoutADestinationTheJobSaysSoOnce) {
  for (const char* workers : {"1", "2"}) {
    const std::string log = Path(StrCat("nowhere", workers, ".log"));
    ASSERT_EQ(Sh(StrCat(kVigil, " run --input ", events_, " --workers ", workers,
                        " --no-console --http off --no-progress 2>", log))
                  .exit_code,
              0)
        << ReadFile(log);
    const std::string text = ReadFile(log);
    const std::string said =
        "the rule files declare outputs: but no destination is set (--record-dir DIR, "
        "--records kafka://BROKERS/PREFIX or --records http://URL); their records are not "
        "written";
    const size_t at = text.find(said);
    EXPECT_NE(at, std::string::npos) << text;
    EXPECT_EQ(text.find(said, at + 1), std::string::npos) << text;
  }
}

TEST_F(RecordOutputsE2eTest, AJobKilledPartWayWritesEachRecordOnce) {
  const std::string clean = Path("clean");
  ASSERT_EQ(Run(clean).exit_code, 0) << ReadFile(Path("run.log"));
  const std::string dir = Path("killed");
  const std::string records = " --record-dir " + dir;
  Result r = KilledAndRestarted(records, records, [&] {
    EXPECT_FALSE(Output(dir, "labeling-queue").empty()) << ReadFile(Path("run1.log"));
  });
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << log;
  EXPECT_NE(log.find("vigil: restored checkpoint"), std::string::npos) << log;
  for (const char* output : {"labeling-queue", "positive-examples"}) {
    EXPECT_EQ(Output(dir, output), Output(clean, output)) << output;
  }
}

// A labeling-queue line with the string `fields` null: the record of a turn
// (or rating) that waited through a restart turning record outputs on, of
// which only what metrics read was kept.
std::string Nulled(const std::string& line, const std::vector<std::string>& fields) {
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(line).value();
  std::string out = line;
  for (const std::string& field : fields) {
    std::string from = StrCat("\"", field, "\":");
    AppendJsonString(e[field].get_string().value(), &from);
    const size_t at = out.find(from);
    if (at != std::string::npos) out.replace(at, from.size(), StrCat("\"", field, "\":null"));
  }
  return out;
}

// A job that wrote no records keeps no turn text while turns wait; killed
// and restarted from its checkpoint with --record-dir, it writes the
// records from there on: those of turns (or ratings, or records found)
// that waited through the restart without the text only outputs read, the
// others whole, and the same windows as a job that wrote records
// throughout.
TEST_F(RecordOutputsE2eTest, AJobRestartedWithRecordOutputsWritesOnFromItsCheckpoint) {
  const std::string clean = Path("clean"), clean_results = Path("clean_results.ndjson");
  ASSERT_EQ(Run(clean, " --results " + clean_results).exit_code, 0) << ReadFile(Path("run.log"));
  const std::string dir = Path("restarted"), results = Path("results.ndjson");
  Result r =
      KilledAndRestarted(" --results " + results, " --results " + results + " --record-dir " + dir);
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << log;
  EXPECT_NE(log.find("vigil: restored checkpoint"), std::string::npos) << log;
  EXPECT_EQ(ReadFile(results), ReadFile(clean_results));
  const std::vector<std::string> all = Lines(Output(clean, "labeling-queue"));
  const std::vector<std::string> written = Lines(Output(dir, "labeling-queue"));
  ASSERT_FALSE(written.empty());
  // From the first record written on, every record of the clean run.
  const std::string first_ts = written[0].substr(0, 32);
  auto from = std::find_if(all.begin(), all.end(),
                           [&](const std::string& l) { return l.substr(0, 32) >= first_ts; });
  ASSERT_EQ(static_cast<size_t>(all.end() - from), written.size());
  size_t whole = 0, nulled = 0;
  for (size_t i = 0; i < written.size(); ++i, ++from) {
    if (written[i] == *from) {
      ++whole;
    } else {
      const std::string turn = Nulled(*from, {"user_message", "response"});
      const std::string rating = Nulled(*from, {"comment"});
      const std::string both = Nulled(turn, {"comment"});
      EXPECT_TRUE(written[i] == turn || written[i] == rating || written[i] == both)
          << written[i] << "\nfor\n"
          << *from;
      ++nulled;
    }
  }
  EXPECT_GT(whole, 0u);
  EXPECT_GT(nulled, 0u);
}

// A join with `unmatched_right: dead_letter`: a rating whose turn never
// came (or came after it) is a dead-letter line with reason `unmatched`,
// once, in time order, with 1 and 2 workers alike; the ratings still count
// as processed, not as dead-lettered.
TEST_F(RecordOutputsE2eTest, UnmatchedRightEventsGoToTheDeadLetterOutput) {
  const std::string rules = Path("rules.yaml"), input = Path("small.ndjson");
  std::ofstream(rules) << R"(joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 1m after
    unmatched_right: dead_letter
    emit: {intent: left.intent, rating: right.rating}
metrics:
  - metric: ratings
    from: rated
    window: tumbling 1h
    value: count()
)";
  std::ofstream(input)
      << R"({"ts":"2026-01-01T00:00:00Z","type":"message","turn_id":"t1","intent":"faq"})"
         "\n"
         R"({"ts":"2026-01-01T00:00:30Z","type":"feedback","turn_id":"t1","rating":1})"
         "\n"
         R"({"ts":"2026-01-01T00:00:40Z","type":"feedback","turn_id":"t7","rating":-1,"comment":"x"})"
         "\n"
         R"({"ts":"2026-01-01T00:00:50Z","type":"feedback","turn_id":"t2","rating":-1})"
         "\n"
         R"({"ts":"2026-01-01T00:01:00Z","type":"message","turn_id":"t2","intent":"faq"})"
         "\n";
  std::string first;
  for (const char* workers : {"1", "2"}) {
    const std::string dead = Path(std::string("dead_") + workers + ".ndjson");
    Result r = Sh(StrCat(kVigil, " run --rules ", rules, " --input ", input, " --dead-letter ",
                         dead, " --workers ", workers, " --output json --http off --no-progress 2>",
                         Path("run.log")));
    ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run.log"));
    EXPECT_NE(ReadFile(Path("run.log")).find("5 processed, 0 dead-lettered"), std::string::npos)
        << ReadFile(Path("run.log"));
    const std::vector<std::string> lines = Lines(ReadFile(dead));
    ASSERT_EQ(lines.size(), 2u) << ReadFile(dead);
    EXPECT_EQ(
        lines[0],
        R"({"reason":"unmatched","detail":"join rated: no left event with turn_id t7 in range",)"
        // Built by the join, not read: no input position to name.
        R"("source":"join:rated",)"
        R"("ts":"2026-01-01T00:00:40.000Z","record":"{\"ts\":\"2026-01-01T00:00:40.000Z\",)"
        R"(\"turn_id\":\"t7\",\"rating\":-1}"})");
    EXPECT_NE(lines[1].find("no left event with turn_id t2 in range"), std::string::npos);
    if (first.empty()) {
      first = ReadFile(dead);
    } else {
      EXPECT_EQ(ReadFile(dead), first);
    }
  }
}

}  // namespace
}  // namespace vigil
