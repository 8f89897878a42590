// RecordOutputs: records written in order once the frontier passes them,
// one file per output and day, and a restore from a checkpoint that cuts
// the files back to what the checkpoint had written.
#include "runtime/record_outputs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

constexpr TimeMs kDay1 = 1'767'225'600'000 - 60'000;  // 2025-12-31T23:59:00Z
constexpr TimeMs kDay2 = 1'767'225'600'000 + 60'000;  // 2026-01-01T00:01:00Z

class RecordOutputsTest : public ::testing::Test {
 protected:
  RecordOutputsTest() {
    RuleLoadResult r = LoadRuleSources({{"r.yaml", R"(
outputs:
  - output: turns
    fields: [turn_id]
  - output: other-turns
    fields: [turn_id]
)"}});
    for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
    rules_ = std::move(r.rules);
    dir_ = TempPath(
        std::string("recout_") + ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        "");
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<RecordOutputs> Open(const std::optional<std::string>& state) {
    absl::StatusOr<std::unique_ptr<RecordOutputs>> out = RecordOutputs::Open(dir_, *rules_, state);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::move(*out) : nullptr;
  }
  void Add(RecordOutputs& out, TimeMs ts, uint32_t output, const std::string& id) {
    std::vector<TappedRecord> taps = {
        {ts, output, StrCat("{\"ts\":\"", FormatTimestamp(ts), "\",\"turn_id\":\"", id, "\"}"),
         id}};
    out.Add(*rules_, &taps);
  }
  std::string State(RecordOutputs& out) {
    CheckpointData data;
    EXPECT_TRUE(out.Prepare(1, &data).ok());
    for (const auto& [key, bytes] : data.panes) {
      if (key == RecordOutputs::kStateKey) return bytes;
    }
    ADD_FAILURE() << "no state";
    return "";
  }
  std::string File(const std::string& output, const std::string& day) {
    return ReadFile(StrCat(dir_, "/", output, "/", day, ".ndjson"));
  }
  bool Exists(const std::string& output, const std::string& day) {
    return std::filesystem::exists(StrCat(dir_, "/", output, "/", day, ".ndjson"));
  }

  std::unique_ptr<RuleSet> rules_;
  std::string dir_;
};

TEST_F(RecordOutputsTest, WritesInOrderOnceTheFrontierPassesOneFilePerOutputAndDay) {
  auto out = Open(std::nullopt);
  Add(*out, kDay2, 0, "c");
  Add(*out, kDay1 + 1, 0, "b");
  Add(*out, kDay1, 1, "x");
  Add(*out, kDay1, 0, "a");
  ASSERT_TRUE(out->Flush(kDay1 + 1).ok());  // a and x only
  EXPECT_EQ(out->written(), 2u);
  EXPECT_EQ(out->pending(), 2u);
  ASSERT_TRUE(out->Flush(kMaxTime).ok());
  EXPECT_EQ(File("turns", "2025-12-31"),
            "{\"ts\":\"2025-12-31T23:59:00.000Z\",\"turn_id\":\"a\"}\n"
            "{\"ts\":\"2025-12-31T23:59:00.001Z\",\"turn_id\":\"b\"}\n");
  EXPECT_EQ(File("turns", "2026-01-01"),
            "{\"ts\":\"2026-01-01T00:01:00.000Z\",\"turn_id\":\"c\"}\n");
  EXPECT_EQ(File("other-turns", "2025-12-31"),
            "{\"ts\":\"2025-12-31T23:59:00.000Z\",\"turn_id\":\"x\"}\n");
  EXPECT_FALSE(Exists("other-turns", "2026-01-01"));
}

// A session record past year 9999 (a gap of years after an event near its
// end) gets a file of its day, and a restore orders its days by time, not
// by their text ("10000-01-02" is after "9999-12-31").
TEST_F(RecordOutputsTest, DaysPastYear9999HaveTheirOwnFilesInOrder) {
  constexpr TimeMs kLastDay = 253'402'214'400'000;      // 9999-12-31T00:00:00Z
  constexpr TimeMs kAfter = kLastDay + 2 * 86'400'000;  // 10000-01-02
  std::string state;
  {
    auto out = Open(std::nullopt);
    Add(*out, kLastDay, 0, "a");
    ASSERT_TRUE(out->Flush(kLastDay + 1).ok());
    state = State(*out);
    Add(*out, kAfter, 0, "b");
    Add(*out, kAfter + 86'400'000, 0, "c");
    ASSERT_TRUE(out->Flush(kMaxTime).ok());
    EXPECT_TRUE(Exists("turns", "10000-01-02"));
    EXPECT_TRUE(Exists("turns", "10000-01-03"));
  }
  auto out = Open(state);
  EXPECT_EQ(File("turns", "9999-12-31"),
            "{\"ts\":\"9999-12-31T00:00:00.000Z\",\"turn_id\":\"a\"}\n");
  EXPECT_FALSE(Exists("turns", "10000-01-02"));
  EXPECT_FALSE(Exists("turns", "10000-01-03"));
}

TEST_F(RecordOutputsTest, ARestoreCutsTheFilesBackToTheCheckpointAndKeepsItsPendingRecords) {
  std::string state;
  {
    auto out = Open(std::nullopt);
    Add(*out, kDay1, 0, "a");
    Add(*out, kDay2 + 5, 0, "later");  // not written yet at the checkpoint
    ASSERT_TRUE(out->Flush(kDay1 + 1).ok());
    state = State(*out);
    // After the checkpoint: more of day 1, a day-2 file, a first file of
    // the other output; then the job dies.
    Add(*out, kDay1 + 2, 0, "b");
    Add(*out, kDay2, 0, "c");
    Add(*out, kDay2, 1, "y");
    ASSERT_TRUE(out->Flush(kMaxTime).ok());
    EXPECT_TRUE(Exists("turns", "2026-01-01"));
    EXPECT_TRUE(Exists("other-turns", "2026-01-01"));
  }
  auto out = Open(state);
  EXPECT_EQ(File("turns", "2025-12-31"),
            "{\"ts\":\"2025-12-31T23:59:00.000Z\",\"turn_id\":\"a\"}\n");
  EXPECT_FALSE(Exists("turns", "2026-01-01"));
  EXPECT_FALSE(Exists("other-turns", "2026-01-01"));
  EXPECT_EQ(out->pending(), 1u);
  // The input after the checkpoint, read again.
  Add(*out, kDay1 + 2, 0, "b");
  Add(*out, kDay2, 0, "c");
  Add(*out, kDay2, 1, "y");
  ASSERT_TRUE(out->Flush(kMaxTime).ok());
  EXPECT_EQ(File("turns", "2025-12-31"),
            "{\"ts\":\"2025-12-31T23:59:00.000Z\",\"turn_id\":\"a\"}\n"
            "{\"ts\":\"2025-12-31T23:59:00.002Z\",\"turn_id\":\"b\"}\n");
  EXPECT_EQ(File("turns", "2026-01-01"),
            "{\"ts\":\"2026-01-01T00:01:00.000Z\",\"turn_id\":\"c\"}\n"
            "{\"ts\":\"2026-01-01T00:01:00.005Z\",\"turn_id\":\"later\"}\n");
  EXPECT_EQ(File("other-turns", "2026-01-01"),
            "{\"ts\":\"2026-01-01T00:01:00.000Z\",\"turn_id\":\"y\"}\n");
}

TEST_F(RecordOutputsTest, WithoutACheckpointFilesAreAppendedTo) {
  {
    auto out = Open(std::nullopt);
    Add(*out, kDay1, 0, "a");
    ASSERT_TRUE(out->Flush(kMaxTime).ok());
  }
  auto out = Open(std::nullopt);
  Add(*out, kDay1, 0, "a");
  ASSERT_TRUE(out->Flush(kMaxTime).ok());
  EXPECT_EQ(Lines(File("turns", "2025-12-31")).size(), 2u);
}

TEST_F(RecordOutputsTest, AnUnreadableStateIsRefused) {
  auto first = Open(std::nullopt);
  std::string state = State(*first);
  state.resize(state.size() - 1);
  absl::StatusOr<std::unique_ptr<RecordOutputs>> out = RecordOutputs::Open(dir_, *rules_, state);
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace vigil
