#include "runtime/checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/codec.h"
#include "base/hash.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

CheckpointData Sample(uint64_t epoch) {
  CheckpointData d;
  d.epoch = epoch;
  d.written_at = 1'790'000'000'000;
  d.source = "kafka:events";
  d.positions = "events/0 17\nevents/1 4\n";
  d.watermark = 1'767'225'600'000;
  d.input_max_ts = {{"events/0", 1'767'225'605'000}, {"events/1", kMinTime}};
  d.frontier = 1'767'225'600'000;
  d.panes = {{"stream-a", std::string("\0\1\2panes", 8)}, {"stream-b", ""}};
  d.alerts = "alert-state";
  d.outputs = {{"results.ndjson", 12345}};
  d.counters.records = 100;
  d.counters.processed = 97;
  d.counters.dead_lettered = 3;
  d.counters.late = 1;
  d.counters.windows = 12;
  d.counters.firing_transitions = 2;
  d.counters.skipped = 5;
  d.counters.dead_letters[static_cast<int>(DeadReason::kLate)] = 1;
  d.counters.dead_letters[static_cast<int>(DeadReason::kMalformedJson)] = 2;
  return d;
}

TEST(CheckpointCodecTest, RoundTripsEveryField) {
  absl::StatusOr<CheckpointData> d = DecodeCheckpoint(EncodeCheckpoint(Sample(7)));
  ASSERT_TRUE(d.ok()) << d.status();
  const CheckpointData want = Sample(7);
  EXPECT_EQ(d->epoch, 7u);
  EXPECT_EQ(d->written_at, want.written_at);
  EXPECT_EQ(d->source, want.source);
  EXPECT_EQ(d->positions, want.positions);
  EXPECT_EQ(d->watermark, want.watermark);
  EXPECT_EQ(d->input_max_ts, want.input_max_ts);
  EXPECT_EQ(d->frontier, want.frontier);
  EXPECT_EQ(d->panes, want.panes);
  EXPECT_EQ(d->alerts, want.alerts);
  EXPECT_EQ(d->outputs, want.outputs);
  EXPECT_EQ(d->counters.records, 100u);
  EXPECT_EQ(d->counters.processed, 97u);
  EXPECT_EQ(d->counters.dead_lettered, 3u);
  EXPECT_EQ(d->counters.late, 1u);
  EXPECT_EQ(d->counters.windows, 12u);
  EXPECT_EQ(d->counters.firing_transitions, 2u);
  EXPECT_EQ(d->counters.skipped, 5u);
  EXPECT_EQ(d->counters.dead_letters, want.counters.dead_letters);
  EXPECT_EQ(d->counters.dead_letters_for(DeadReason::kMalformedJson), 2u);
}

// Per-reason counts ride as a state under their own key: a checkpoint
// without it (written before they were kept) reads back with zeros, and the
// key never reaches the operators' states.
TEST(CheckpointCodecTest, DeadLetterCountsByReasonAreOptional) {
  absl::StatusOr<CheckpointData> back = DecodeCheckpoint(EncodeCheckpoint(Sample(3)));
  ASSERT_TRUE(back.ok()) << back.status();
  for (const auto& [key, state] : back->panes) EXPECT_NE(key, "vigil.dead-letters");

  // The layout before per-reason counts were kept, written out by hand.
  Encoder enc;
  enc.PutVarint(4);                  // epoch
  enc.PutSigned(1'790'000'000'000);  // written_at
  enc.PutString("file:events.ndjson");
  enc.PutString("12 34\n");          // positions
  enc.PutSigned(1'767'225'600'000);  // watermark
  enc.PutVarint(0);                  // input_max_ts
  enc.PutSigned(1'767'225'600'000);  // frontier
  enc.PutVarint(1);                  // states
  enc.PutString("stream-a");
  enc.PutString("panes");
  enc.PutString("alert-state");
  enc.PutVarint(0);                                           // outputs
  for (uint64_t n : {9, 7, 2, 1, 3, 0, 0}) enc.PutVarint(n);  // totals
  std::string old = "VIGILCK1" + enc.data();
  const uint64_t sum = HashBytes(old);
  for (int i = 0; i < 8; ++i) old.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  absl::StatusOr<CheckpointData> before = DecodeCheckpoint(old);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->counters.records, 9u);
  EXPECT_EQ(before->counters.late, 1u);
  EXPECT_EQ(before->panes.size(), 1u);
  EXPECT_EQ(before->counters.dead_letters_for(DeadReason::kLate), 0u);

  JobCounters counts;
  counts.DeadLetter(DeadReason::kLate);
  counts.DeadLetter(DeadReason::kLate);
  counts.DeadLetter(DeadReason::kBadTs);
  JobCounters restored;
  ASSERT_TRUE(restored.DecodeDeadLetters(counts.EncodeDeadLetters()));
  EXPECT_EQ(restored.dead_letters_for(DeadReason::kLate), 2u);
  EXPECT_EQ(restored.dead_letters_for(DeadReason::kBadTs), 1u);
  EXPECT_EQ(restored.dead_letters_for(DeadReason::kMissingTs), 0u);
  EXPECT_EQ(counts.late, 2u);
  EXPECT_EQ(counts.dead_lettered, 3u);
  EXPECT_FALSE(restored.DecodeDeadLetters("\x05garbage"));
  EXPECT_EQ(restored.dead_letters_for(DeadReason::kLate), 2u);  // unchanged
}

TEST(CheckpointCodecTest, EveryFlippedByteAndEveryTruncationIsDetected) {
  const std::string good = EncodeCheckpoint(Sample(1));
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_EQ(DecodeCheckpoint(bad).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
    EXPECT_EQ(DecodeCheckpoint(good.substr(0, i)).status().code(), absl::StatusCode::kDataLoss)
        << "length " << i;
  }
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath("ckpt_", "dir");
    Sh("rm -rf " + dir_);
  }
  std::string dir_;
};

TEST_F(CheckpointStoreTest, KeepsTheNewestThreeAndLoadsTheNewest) {
  CheckpointStore store(dir_);
  for (uint64_t e = 1; e <= 5; ++e) ASSERT_TRUE(store.Write(Sample(e)).ok());
  EXPECT_EQ(Lines(Sh("ls " + dir_).out),
            (std::vector<std::string>{"checkpoint-00000000000000000003.vck",
                                      "checkpoint-00000000000000000004.vck",
                                      "checkpoint-00000000000000000005.vck"}));
  std::vector<std::string> problems;
  absl::StatusOr<std::optional<CheckpointData>> d = store.LoadLatest(&problems);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->epoch, 5u);
  EXPECT_TRUE(problems.empty());
}

TEST_F(CheckpointStoreTest, ACorruptOrTruncatedNewestFallsBackToThePreviousGoodOne) {
  CheckpointStore store(dir_);
  for (uint64_t e = 1; e <= 3; ++e) ASSERT_TRUE(store.Write(Sample(e)).ok());
  const std::string newest = dir_ + "/checkpoint-00000000000000000003.vck";
  const std::string middle = dir_ + "/checkpoint-00000000000000000002.vck";
  ASSERT_EQ(Sh("truncate -s -5 " + newest).exit_code, 0);
  ASSERT_EQ(Sh("printf X | dd of=" + middle + " bs=1 seek=30 conv=notrunc status=none").exit_code,
            0);
  std::vector<std::string> problems;
  absl::StatusOr<std::optional<CheckpointData>> d = store.LoadLatest(&problems);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->epoch, 1u);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], newest + ": checksum mismatch (corrupt or truncated)");
  EXPECT_EQ(problems[1], middle + ": checksum mismatch (corrupt or truncated)");
}

TEST_F(CheckpointStoreTest, NoDirectoryOrOnlyBadFilesMeansNoCheckpoint) {
  CheckpointStore store(dir_);
  std::vector<std::string> problems;
  absl::StatusOr<std::optional<CheckpointData>> d = store.LoadLatest(&problems);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());
  ASSERT_TRUE(store.Write(Sample(1)).ok());
  std::ofstream(dir_ + "/checkpoint-00000000000000000001.vck") << "not a checkpoint";
  d = store.LoadLatest(&problems);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not a vigil checkpoint"), std::string::npos);
}

TEST_F(CheckpointStoreTest, NoTemporaryFileIsLeftBehind) {
  CheckpointStore store(dir_);
  ASSERT_TRUE(store.Write(Sample(1)).ok());
  EXPECT_EQ(Sh("ls " + dir_ + " | grep -c tmp").out, "0\n");
}

}  // namespace
}  // namespace vigil
