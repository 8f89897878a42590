#include "runtime/checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/strings.h"
#include "rules/rule_set.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

// A part that logs what the checkpointer asks of it.
class LogPart : public CheckpointPart {
 public:
  LogPart(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  absl::Status Restore(const CheckpointData& d) override {
    log_->push_back(StrCat(name_, ".restore ", d.epoch));
    for (const auto& [key, state] : d.panes) {
      if (key == name_) restored_ = state;
    }
    return absl::OkStatus();
  }
  absl::Status Prepare(uint64_t epoch, CheckpointData* d) override {
    log_->push_back(StrCat(name_, ".prepare ", epoch));
    if (!answer_.ok()) return answer_;
    d->panes.emplace_back(name_, StrCat(name_, "@", epoch));
    return absl::OkStatus();
  }
  void Committed(const CheckpointData& d) override {
    log_->push_back(StrCat(name_, ".committed ", d.epoch));
  }
  absl::Status answer_ = absl::OkStatus();
  std::string restored_;

 private:
  std::string name_;
  std::vector<std::string>* log_;
};

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        TempPath("checkpointer_", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    RuleLoadResult loaded = LoadRuleSources(
        {{"r.yaml", "metrics:\n  - metric: m\n    window: tumbling 1m\n    value: count()\n"}});
    ASSERT_TRUE(loaded.ok());
    rules_ = std::move(loaded.rules);
    metrics_ = std::make_unique<JobMetrics>(*rules_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<RuleSet> rules_;
  std::unique_ptr<JobMetrics> metrics_;
};

TEST_F(CheckpointerTest, PartsPrepareInOrderAndHearOfTheWriteInReverse) {
  std::vector<std::string> log;
  LogPart state("state", &log), results("results", &log), sink("sink", &log);
  Checkpointer cp(dir_, metrics_.get());
  cp.Add(&state);
  cp.Add(&results);
  cp.Add(&sink);
  EXPECT_EQ(cp.Write(1000), Checkpointer::kWritten);
  EXPECT_EQ(log, (std::vector<std::string>{"state.prepare 1", "results.prepare 1", "sink.prepare 1",
                                           "sink.committed 1", "results.committed 1",
                                           "state.committed 1"}));
  EXPECT_EQ(cp.epoch(), 1u);
  EXPECT_EQ(cp.last_written(), 1000);

  // A new job over the same directory restores each part's state.
  std::vector<std::string> log2;
  LogPart state2("state", &log2), results2("results", &log2);
  Checkpointer again(dir_, metrics_.get());
  again.Add(&state2);
  again.Add(&results2);
  absl::StatusOr<std::optional<CheckpointData>> d = again.Load(false);
  ASSERT_TRUE(d.ok() && d->has_value());
  ASSERT_TRUE(again.Restore(**d).ok());
  EXPECT_EQ(state2.restored_, "state@1");
  EXPECT_EQ(results2.restored_, "results@1");
  EXPECT_EQ(again.epoch(), 1u);
  EXPECT_EQ(again.restored_epoch(), 1u);
  EXPECT_EQ(again.Write(2000), Checkpointer::kWritten);
  EXPECT_EQ(again.epoch(), 2u);
}

TEST_F(CheckpointerTest, UnavailableSkipsTheCheckpointAndAnyOtherErrorFailsIt) {
  std::vector<std::string> log;
  LogPart state("state", &log), archive("archive", &log), sink("sink", &log);
  Checkpointer cp(dir_, metrics_.get());
  cp.Add(&state);
  cp.Add(&archive);
  cp.Add(&sink);
  archive.answer_ = absl::UnavailableError("the archive is behind");
  EXPECT_EQ(cp.Write(1000), Checkpointer::kSkipped);
  // Nobody hears of a checkpoint that was not written; later parts are
  // not asked.
  EXPECT_EQ(log, (std::vector<std::string>{"state.prepare 1", "archive.prepare 1"}));
  EXPECT_EQ(cp.epoch(), 0u);
  EXPECT_EQ(cp.last_attempt(), 1000);
  EXPECT_EQ(cp.last_written(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_) && !std::filesystem::is_empty(dir_));

  archive.answer_ = absl::OkStatus();
  sink.answer_ = absl::InternalError("the Kafka sink could not commit");
  EXPECT_EQ(cp.Write(2000), Checkpointer::kFailed);
  EXPECT_EQ(cp.epoch(), 0u);

  sink.answer_ = absl::OkStatus();
  EXPECT_EQ(cp.Write(3000), Checkpointer::kWritten);
  EXPECT_EQ(cp.epoch(), 1u);  // the epochs skipped are not used up
}

TEST_F(CheckpointerTest, OnlyUnreadableCheckpointsAreAnErrorUnlessAFreshStartIsAllowed) {
  Checkpointer none(dir_, metrics_.get());
  absl::StatusOr<std::optional<CheckpointData>> d = none.Load(false);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());

  std::vector<std::string> log;
  LogPart state("state", &log);
  Checkpointer cp(dir_, metrics_.get());
  cp.Add(&state);
  ASSERT_EQ(cp.Write(1000), Checkpointer::kWritten);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ofstream(entry.path(), std::ios::trunc) << "garbage";
  }
  d = Checkpointer(dir_, metrics_.get()).Load(false);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("--allow-fresh-start"), std::string::npos)
      << d.status();
  d = Checkpointer(dir_, metrics_.get()).Load(true);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());
}

}  // namespace
}  // namespace vigil
