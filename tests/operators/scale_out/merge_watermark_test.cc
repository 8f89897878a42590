// The partials topic's heartbeats and the merge watermark they give: the
// minimum over the partitions instances report, held by partitions no one
// reported yet, never moving back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/codec.h"
#include "operators/scale_out/merge_stage.h"
#include "operators/scale_out/partial_state.h"
#include "operators/scale_out/partials.h"
#include "tests/operators/dataflow/operator_harness.h"
#include "tests/operators/scale_out/heartbeats.h"
#include "tests/operators/scale_out/scale_out_rules.h"

namespace vigil {
namespace {

const char* const kRules = kScaleOutRules;

TEST(PartialsTest, HeartbeatsRoundTrip) {
  PartialHeartbeat hb;
  hb.instance = "vigil-1";
  hb.epoch = 7;
  hb.watermark = 123'456;
  hb.leaving = true;
  hb.inputs = {{"events/0", 1000, false, 42}, {"events/3", kMinTime, true, -1}};
  PartialHeartbeat back;
  ASSERT_TRUE(DecodeHeartbeat(EncodeHeartbeat(hb), &back));
  EXPECT_EQ(back.instance, "vigil-1");
  EXPECT_EQ(back.epoch, 7u);
  EXPECT_EQ(back.watermark, 123'456);
  EXPECT_TRUE(back.leaving);
  EXPECT_EQ(back.inputs, hb.inputs);
  EXPECT_TRUE(back.all_inputs.empty());
  EXPECT_EQ(PeekPartial(EncodeHeartbeat(hb)), PartialKind::kHeartbeat);
  EXPECT_EQ(back.last_ts, kMinTime);  // no event read
  hb.all_inputs = {"events/0", "events/1", "events/2", "events/3"};
  hb.last_ts = 130'000;
  ASSERT_TRUE(DecodeHeartbeat(EncodeHeartbeat(hb), &back));
  EXPECT_EQ(back.all_inputs, hb.all_inputs);
  EXPECT_EQ(back.inputs, hb.inputs);
  EXPECT_EQ(back.last_ts, 130'000);
  EXPECT_EQ(back.publication, 0u);
  hb.publication = 0xfedcba9876543210;
  ASSERT_TRUE(DecodeHeartbeat(EncodeHeartbeat(hb), &back));
  EXPECT_EQ(back.publication, 0xfedcba9876543210);
}

// Heartbeats from before partitions carried their next offset decode with
// none (-1), with and without the full partition list.
TEST(PartialsTest, OlderHeartbeatsDecodeWithoutOffsets) {
  for (bool with_all : {false, true}) {
    Encoder enc;
    enc.PutString("vigil-1");
    enc.PutVarint(3);
    enc.PutSigned(5000);
    enc.PutByte(0);
    enc.PutVarint(1);
    enc.PutString("events/2");
    enc.PutSigned(4000);
    enc.PutByte(0);
    if (with_all) {
      enc.PutVarint(1);
      enc.PutString("events/2");
    }
    PartialHeartbeat back;
    ASSERT_TRUE(DecodeHeartbeat("VPH1" + enc.data(), &back)) << with_all;
    ASSERT_EQ(back.inputs.size(), 1u);
    EXPECT_EQ(back.inputs[0].name, "events/2");
    EXPECT_EQ(back.inputs[0].watermark, 4000);
    EXPECT_EQ(back.inputs[0].next_offset, -1);
    EXPECT_EQ(back.all_inputs.size(), with_all ? 1u : 0u);
    EXPECT_EQ(back.last_ts, kMinTime);
  }
}

class MergeWatermarkTest : public ::testing::Test {
 protected:
  MergeWatermarkTest() : h_(kRules), merge_(h_.flow.get()) {}
  void Beat(const std::string& instance, TimeMs wm, std::vector<PartialHeartbeat::Input> inputs,
            bool leaving = false, const std::string& part = "p/0",
            std::vector<std::string> all_inputs = {}) {
    ASSERT_EQ(merge_.Apply(
                  Heartbeat(instance, wm, std::move(inputs), leaving, std::move(all_inputs)), part),
              MergeStage::Outcome::kHeartbeat);
  }
  TimeMs Wm(const std::vector<std::string>& parts = {"p/0"}) const {
    return merge_.Watermark(parts);
  }
  OperatorHarness h_;
  MergeStage merge_;
};

TEST_F(MergeWatermarkTest, MinimumOverActivePartitionsOfEveryInstance) {
  EXPECT_EQ(Wm(), kMinTime);  // nothing heard
  Beat("a", 9'000'000, {});   // an instance with no assignment yet
  EXPECT_EQ(Wm(), kMinTime);
  Beat("b", 20'000, {{"e/2", 20'000, false}});
  EXPECT_EQ(Wm(), 20'000);
  Beat("a", 50'000, {{"e/0", 50'000, false}, {"e/1", 70'000, false}});
  EXPECT_EQ(Wm(), 20'000);                     // b's partition holds it
  Beat("b", 90'000, {{"e/2", 20'000, true}});  // idle partitions do not hold it
  EXPECT_EQ(Wm(), 50'000);
  EXPECT_EQ(Wm({"p/0", "p/1"}), kMinTime);  // p/1 has heard nothing yet
}

// Instance b starts late on a backlog: until it reports the partitions it
// was given, the merge must not close windows on a's data alone.
TEST_F(MergeWatermarkTest, APartitionNoInstanceReportedYetHoldsTheWatermark) {
  const std::vector<std::string> all = {"e/0", "e/1", "e/2", "e/3"};
  Beat("a", 500'000, {{"e/0", 500'000, false}, {"e/1", 480'000, false}}, false, "p/0", all);
  EXPECT_EQ(Wm(), kMinTime);  // e/2 and e/3: nobody has spoken for them
  Beat("b", 20'000, {{"e/2", 20'000, false}}, false, "p/0", all);
  EXPECT_EQ(Wm(), kMinTime);  // e/3 still unreported
  Beat("b", 30'000, {{"e/2", 30'000, false}, {"e/3", 25'000, false}}, false, "p/0", all);
  EXPECT_EQ(Wm(), 25'000);
  // The list also holds through a checkpoint of the merge.
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.Watermark({"p/0"}), 25'000);
  MergeStage other(h_.flow.get());
  ASSERT_EQ(other.Apply(Heartbeat("a", 500'000, {{"e/0", 500'000, false}}, false, all), "p/0"),
            MergeStage::Outcome::kHeartbeat);
  MergeStage other_restored(h_.flow.get());
  ASSERT_TRUE(other_restored.Decode(other.Encode()));
  EXPECT_EQ(other_restored.Watermark({"p/0"}), kMinTime);
}

TEST_F(MergeWatermarkTest, AllIdleFollowsTheLatestInstanceWatermark) {
  Beat("a", 100'000, {{"e/0", 40'000, true}});
  Beat("b", 300'000, {{"e/1", 60'000, true}});
  EXPECT_EQ(Wm(), 300'000);
  // b leaves: it no longer speaks for the clock, but the watermark does not
  // go back; a's clock moves it on once past.
  Beat("b", 300'000, {{"e/1", 60'000, true}}, /*leaving=*/true);
  EXPECT_EQ(Wm(), 300'000);
  Beat("a", 250'000, {{"e/0", 40'000, true}});
  EXPECT_EQ(Wm(), 300'000);
  Beat("a", 350'000, {{"e/0", 40'000, true}});
  EXPECT_EQ(Wm(), 350'000);
}

TEST_F(MergeWatermarkTest, AHandedOverPartitionNeverMovesBack) {
  Beat("a", 80'000, {{"e/0", 80'000, false}, {"e/1", 90'000, false}});
  EXPECT_EQ(Wm(), 80'000);
  // e/0 moves to b, which has not read it yet: a's word on it stands.
  Beat("a", 90'000, {{"e/1", 90'000, false}});
  Beat("b", kMinTime, {{"e/0", kMinTime, false}});
  EXPECT_EQ(Wm(), 80'000);
  Beat("b", 95'000, {{"e/0", 95'000, false}});
  EXPECT_EQ(Wm(), 90'000);
}

// An idle partition that wakes up behind the watermark (its instance
// judges its events by the partition's own progress) does not move it back:
// windows the merge closed stay closed, and which further windows close
// does not depend on when the merge happened to look.
TEST_F(MergeWatermarkTest, APartitionThatWakesUpBehindDoesNotMoveItBack) {
  Beat("a", 50'000, {{"e/0", 50'000, false}, {"e/1", 70'000, false}});
  EXPECT_EQ(Wm(), 50'000);
  Beat("a", 90'000, {{"e/0", 50'000, true}, {"e/1", 90'000, false}});
  EXPECT_EQ(Wm(), 90'000);
  Beat("a", 95'000, {{"e/0", 52'000, false}, {"e/1", 95'000, false}});
  EXPECT_EQ(Wm(), 90'000);
  EXPECT_EQ(merge_.Holder({"p/0"}), "e/1 (instance a)");
  // So through a checkpoint.
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.Watermark({"p/0"}), 90'000);
  // Past it again, the woken partition holds as any other.
  Beat("a", 120'000, {{"e/0", 99'000, false}, {"e/1", 120'000, false}});
  EXPECT_EQ(Wm(), 99'000);
  // Every partition idle, every instance gone: the latest word, but not back.
  Beat("a", 120'000, {{"e/0", 99'000, true}, {"e/1", 120'000, true}}, /*leaving=*/true);
  EXPECT_EQ(Wm(), 120'000);
}

TEST_F(MergeWatermarkTest, EverythingIsInWhenNoPartitionHasARunningOwner) {
  Beat("a", 80'000, {{"e/0", 80'000, false}, {"e/1", 90'000, false}});
  Beat("b", 70'000, {{"e/2", 70'000, false}});
  EXPECT_FALSE(merge_.AllLeft({"p/0"}));
  // a is killed; b takes its partitions over and later leaves: a owns
  // nothing any more, b has left.
  Beat("b", 95'000, {{"e/0", 95'000, false}, {"e/1", 95'000, false}, {"e/2", 95'000, false}});
  EXPECT_FALSE(merge_.AllLeft({"p/0"}));
  Beat("b", 99'000, {{"e/0", 99'000, false}, {"e/1", 99'000, false}, {"e/2", 99'000, false}},
       /*leaving=*/true);
  EXPECT_TRUE(merge_.AllLeft({"p/0"}));
  EXPECT_FALSE(merge_.AllLeft({"p/0", "p/1"}));
}

// A shard closed by a resharding and read to its end: its owner stops
// reporting it and the stream no longer lists it, so it holds nothing back.
// A partition an instance stops reporting that is still listed (revoked in
// a rebalance) holds the watermark until its next owner reports it.
TEST_F(MergeWatermarkTest, AnInputThatEndedHoldsNothingBack) {
  Beat("a", 10'000, {{"s0", 50'000, false}, {"s1", 10'000, false}}, false, "p/0", {"s0", "s1"});
  EXPECT_EQ(Wm(), 10'000);
  // s1 read out; its child s2 is read from its start.
  Beat("a", 40'000, {{"s0", 60'000, false}, {"s2", 40'000, false}}, false, "p/0", {"s0", "s2"});
  EXPECT_EQ(Wm(), 40'000);
  // An instance listing the stream before s1 closed does not bring it back.
  Beat("b", 70'000, {{"s3", 70'000, false}}, false, "p/0", {"s0", "s1", "s2", "s3"});
  EXPECT_EQ(Wm(), 40'000);
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.Watermark({"p/0"}), 40'000);
  Beat("a", 90'000, {{"s0", 90'000, false}, {"s2", 90'000, false}}, false, "p/0",
       {"s0", "s2", "s3"});
  EXPECT_EQ(Wm(), 70'000);
  // b no longer reports s3, which is still listed: it holds.
  Beat("b", 95'000, {}, false, "p/0", {"s0", "s2", "s3"});
  EXPECT_EQ(Wm(), 70'000);
}

// What holds the watermark back, named for the stall check.
TEST_F(MergeWatermarkTest, TheHolderIsTheLowestActivePartitionAndItsOwner) {
  EXPECT_EQ(merge_.Holder({"p/0"}), "p/0 (no heartbeat yet)");
  Beat("a", 50'000, {{"e/0", 50'000, false}, {"e/1", 70'000, false}}, false, "p/0",
       {"e/0", "e/1", "e/2"});
  EXPECT_EQ(merge_.Holder({"p/0"}), "e/2 (no instance has reported it)");
  Beat("b", 20'000, {{"e/2", 20'000, false}}, false, "p/0", {"e/0", "e/1", "e/2"});
  EXPECT_EQ(merge_.Holder({"p/0"}), "e/2 (instance b)");
  Beat("b", 90'000, {{"e/2", 90'000, true}}, false, "p/0", {"e/0", "e/1", "e/2"});
  EXPECT_EQ(merge_.Holder({"p/0"}), "e/0 (instance a)");
  EXPECT_EQ(merge_.Holder({"p/0", "p/1"}), "p/1 (no heartbeat yet)");
  Beat("a", 50'000, {{"e/0", 80'000, true}, {"e/1", 80'000, true}}, false, "p/0",
       {"e/0", "e/1", "e/2"});
  EXPECT_EQ(merge_.Holder({"p/0"}), "");  // every partition idle
}

TEST_F(MergeWatermarkTest, StateSurvivesACheckpoint) {
  Beat("a", 50'000, {{"e/0", 50'000, false}, {"e/1", 70'000, true}});
  Beat("b", 20'000, {{"e/2", 20'000, false}}, false, "p/1");
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.Watermark({"p/0"}), 50'000);
  EXPECT_EQ(restored.Watermark({"p/0", "p/1"}), 20'000);
  EXPECT_EQ(restored.Instances(), (std::vector<std::string>{"a", "b"}));
  // Cut short: inside the partitions' highest watermarks, the last bytes.
  const std::string bytes = merge_.Encode();
  EXPECT_FALSE(restored.Decode(bytes.substr(0, bytes.size() - 3)));
}

// The input's last event time is the latest any instance read, kept in the
// merge's checkpoints.
TEST_F(MergeWatermarkTest, TheLastEventTimeIsTheLatestOfAnyInstance) {
  EXPECT_EQ(merge_.last_ts(), kMinTime);
  PartialHeartbeat a;
  ASSERT_TRUE(DecodeHeartbeat(Heartbeat("a", 50'000, {{"e/0", 50'000, false}}), &a));
  a.last_ts = 55'000;
  ASSERT_EQ(merge_.Apply(EncodeHeartbeat(a), "p/0"), MergeStage::Outcome::kHeartbeat);
  PartialHeartbeat b;
  ASSERT_TRUE(DecodeHeartbeat(Heartbeat("b", 20'000, {{"e/1", 20'000, false}}), &b));
  b.last_ts = 25'000;
  ASSERT_EQ(merge_.Apply(EncodeHeartbeat(b), "p/1"), MergeStage::Outcome::kHeartbeat);
  EXPECT_EQ(merge_.last_ts(), 55'000);
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.last_ts(), 55'000);
}

// One instance's hand-over of `state` for event partition `input` on
// partials partition `part`: its pieces, then the heartbeat naming them.
void HandOver(MergeStage& merge, const std::string& instance, uint64_t id, const std::string& input,
              const std::string& state, const std::string& part) {
  for (const std::string& m : EncodeStateChunks(instance, id, input, state, 4)) {
    ASSERT_EQ(merge.Apply(m, part), MergeStage::Outcome::kState);
  }
  PartialHeartbeat hb;
  ASSERT_TRUE(DecodeHeartbeat(Heartbeat(instance, 50'000, {{input, 50'000, false, 10}}), &hb));
  hb.handover_id = id;
  hb.inputs[0].state_chunks = static_cast<uint32_t>((state.size() + 3) / 4);
  ASSERT_EQ(merge.Apply(EncodeHeartbeat(hb), part), MergeStage::Outcome::kHeartbeat);
}

// State handed over with a partition is the merge's to close only while no
// instance has taken it over: a later heartbeat naming the partition claims
// it; only the newest hand-over of a partition counts. Each partials
// partition says so of the state on it.
TEST_F(MergeWatermarkTest, OnlyStateNoInstanceTookOverIsUnclaimed) {
  HandOver(merge_, "a", 1, "e/0", "first state of e/0", "p/0");
  HandOver(merge_, "a", 2, "e/0", "second state of e/0", "p/0");
  HandOver(merge_, "a", 3, "e/1", "state of e/1", "p/0");
  HandOver(merge_, "a", 4, "e/2", "state of e/2", "p/0");
  // b took e/1 over and reported it; a heartbeat on another partition
  // says nothing of the state on p/0.
  Beat("b", 60'000, {{"e/1", 60'000, false}});
  Beat("b", 60'000, {{"e/2", 60'000, false}}, false, "p/1");
  const std::map<std::string, std::string> want = {{"e/0", "second state of e/0"},
                                                   {"e/2", "state of e/2"}};
  // A merge restored from a checkpoint has it too.
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.TakeUnclaimedState({"p/0", "p/1"}), want);
  EXPECT_EQ(merge_.TakeUnclaimedState({"p/0"}), want);
  EXPECT_TRUE(merge_.TakeUnclaimedState({"p/0"}).empty());  // taken
  EXPECT_STREQ(MergeStage::OutcomeName(MergeStage::Outcome::kState), "state");
}

// An instance sends the state it hands over to every partials partition,
// so a merge instance reading any of them finds it; what is claimed is
// what the partitions it reads say, whatever order their reads interleave
// in. Partitions it does not read now say nothing.
TEST_F(MergeWatermarkTest, HandedOverStateTravelsOnEveryPartialsPartition) {
  // p/1 is read ahead of p/0: the hand-over of e/0, then b's claim of it.
  HandOver(merge_, "a", 1, "e/0", "state of e/0", "p/1");
  HandOver(merge_, "a", 1, "e/1", "state of e/1", "p/1");
  Beat("b", 60'000, {{"e/0", 60'000, false}}, false, "p/1");
  // p/0 catches up with the same hand-over; the claim is still ahead.
  HandOver(merge_, "a", 1, "e/0", "state of e/0", "p/0");
  HandOver(merge_, "a", 1, "e/1", "state of e/1", "p/0");
  MergeStage ahead(h_.flow.get());
  ASSERT_TRUE(ahead.Decode(merge_.Encode()));
  // Read to the claim on p/0 too, the partitions agree.
  Beat("b", 60'000, {{"e/0", 60'000, false}}, false, "p/0");
  const std::map<std::string, std::string> want = {{"e/1", "state of e/1"}};
  MergeStage restored(h_.flow.get());
  ASSERT_TRUE(restored.Decode(merge_.Encode()));
  EXPECT_EQ(restored.TakeUnclaimedState({"p/0"}), want);
  EXPECT_EQ(merge_.TakeUnclaimedState({"p/1"}), want);
  // Before p/0 had the claim, reading p/1 alone already knew it; a
  // partition not read now (p/0, behind) is not asked.
  EXPECT_EQ(ahead.TakeUnclaimedState({"p/1"}), want);
  // A partition read behind another names an older hand-over: the newer
  // one's pieces, which the other names, stay.
  MergeStage lagging(h_.flow.get());
  HandOver(lagging, "a", 1, "e/0", "old state", "p/0");
  HandOver(lagging, "b", 2, "e/0", "new state", "p/0");
  HandOver(lagging, "a", 1, "e/0", "old state", "p/1");
  EXPECT_EQ(lagging.TakeUnclaimedState({"p/0"}),
            (std::map<std::string, std::string>{{"e/0", "new state"}}));
  // A hand-over whose pieces are not on the partitions read (an earlier
  // version sent them to partition 0 alone): named, not closed.
  MergeStage older(h_.flow.get());
  PartialHeartbeat hb;
  ASSERT_TRUE(DecodeHeartbeat(Heartbeat("a", 50'000, {{"e/0", 50'000, false, 10}}), &hb));
  hb.handover_id = 1;
  hb.inputs[0].state_chunks = 3;
  ASSERT_EQ(older.Apply(EncodeHeartbeat(hb), "p/1"), MergeStage::Outcome::kHeartbeat);
  std::vector<std::string> missing;
  EXPECT_TRUE(older.TakeUnclaimedState({"p/1"}, &missing).empty());
  EXPECT_EQ(missing, std::vector<std::string>{"e/0"});
}

}  // namespace
}  // namespace vigil
