#include "runtime/watermark.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(WatermarkTest, MaxSeenMinusOutOfOrderness) {
  WatermarkTracker wm(1, 5000, 30000, /*live=*/false);
  EXPECT_EQ(wm.Current(), kMinTime);
  wm.Observe(0, 100'000, 0);
  EXPECT_EQ(wm.Current(), 95'000);
  wm.Observe(0, 90'000, 0);  // out of order: no regression
  EXPECT_EQ(wm.Current(), 95'000);
  wm.Observe(0, 120'000, 0);
  EXPECT_EQ(wm.Current(), 115'000);
}

TEST(WatermarkTest, MinimumOverInputs) {
  WatermarkTracker wm(3, 1000, 30000, false);
  wm.Observe(0, 50'000, 0);
  wm.Observe(1, 20'000, 0);
  EXPECT_EQ(wm.Current(), kMinTime);  // input 2 has not delivered
  wm.Observe(2, 40'000, 0);
  EXPECT_EQ(wm.Current(), 19'000);
  wm.Observe(1, 60'000, 0);
  EXPECT_EQ(wm.Current(), 39'000);
}

TEST(WatermarkTest, EndOfBoundedInputIsInfinity) {
  WatermarkTracker wm(2, 1000, 30000, false);
  wm.Observe(0, 50'000, 0);
  wm.Observe(1, 10'000, 0);
  wm.End(1, 0);
  EXPECT_EQ(wm.Current(), 49'000);
  wm.End(0, 0);
  EXPECT_EQ(wm.Current(), kMaxTime);
  EXPECT_TRUE(wm.AllEnded());
}

TEST(WatermarkTest, BoundedInputsNeverConsultTheClock) {
  WatermarkTracker wm(1, 1000, 10, false);
  wm.Observe(0, 50'000, 0);
  wm.Tick(1'000'000'000);
  EXPECT_EQ(wm.Current(), 49'000);
}

TEST(WatermarkTest, IdleLiveInputStopsHoldingTheJobBack) {
  WatermarkTracker wm(2, 1000, /*idle_timeout=*/30'000, /*live=*/true);
  const TimeMs t0 = 1'000'000;
  wm.Observe(0, 500'000, t0);
  wm.Observe(1, 100'000, t0);
  EXPECT_EQ(wm.Current(), 99'000);
  // Input 0 keeps delivering; input 1 goes quiet, read to its head.
  wm.SetCaughtUp(1, true);
  wm.Observe(0, 600'000, t0 + 20'000);
  wm.Tick(t0 + 20'000);
  EXPECT_EQ(wm.Current(), 99'000);
  wm.Observe(0, 700'000, t0 + 31'000);
  wm.Tick(t0 + 31'000);
  EXPECT_TRUE(wm.idle(1));
  EXPECT_EQ(wm.Current(), 699'000);
}

TEST(WatermarkTest, InputThatNeverDeliversBecomesIdle) {
  WatermarkTracker wm(2, 0, 30'000, true);
  wm.SetCaughtUp(1, true);
  wm.Tick(0);
  wm.Observe(0, 5'000, 1);
  EXPECT_EQ(wm.Current(), kMinTime);
  wm.Tick(30'001);
  wm.Observe(0, 6'000, 30'001);
  EXPECT_EQ(wm.Current(), 6'000);
}

TEST(WatermarkTest, AllIdleFollowsTheProcessingClock) {
  WatermarkTracker wm(1, 2000, 10'000, true);
  wm.SetCaughtUp(0, true);
  wm.Observe(0, 1'000'000, 1'000'000);
  EXPECT_EQ(wm.Current(), 998'000);
  wm.Tick(1'005'000);
  EXPECT_EQ(wm.Current(), 998'000);  // not idle yet
  wm.Tick(1'020'000);
  EXPECT_EQ(wm.Current(), 1'018'000);  // clock minus out-of-orderness
  wm.Tick(1'080'000);
  EXPECT_EQ(wm.Current(), 1'078'000);
  // Data resumes with older event times: the watermark does not go back.
  wm.Observe(0, 1'050'000, 1'081'000);
  EXPECT_EQ(wm.Current(), 1'078'000);
}

// A partition taken over from an instance that read it to its end and
// stopped there: idle once caught up, without the idle timeout, so that it
// does not hold every key at the start of time; an event makes it hold
// again as any other.
TEST(WatermarkTest, AQuietInputIdlesAsSoonAsItIsCaughtUp) {
  WatermarkTracker wm(2, 1000, 30'000, true);
  const TimeMs t0 = 1'000'000;
  wm.Observe(0, 500'000, t0);
  wm.SetQuiet(1);
  wm.Tick(t0 + 1);
  EXPECT_FALSE(wm.idle(1));  // not read to its head yet
  EXPECT_EQ(wm.Current(), kMinTime);
  wm.SetCaughtUp(1, true);
  wm.Tick(t0 + 2);
  EXPECT_TRUE(wm.idle(1));
  EXPECT_EQ(wm.Current(), 499'000);
  wm.Observe(1, 450'000, t0 + 3);  // it delivers: it holds as any input
  wm.Tick(t0 + 4);
  EXPECT_FALSE(wm.idle(1));
  wm.Observe(0, 600'000, t0 + 5);
  EXPECT_EQ(wm.Current(), 499'000);
  wm.Tick(t0 + 29'000);
  EXPECT_FALSE(wm.idle(1));  // the idle timeout again
}

// A partition with a backlog may be silent for long (the consumer waits
// for its fetch, or reads another partition first): silence alone must not
// let the job's time run past the records still to come.
TEST(WatermarkTest, AnInputBehindItsHeadNeverGoesIdle) {
  WatermarkTracker wm(2, 1000, 30'000, true);
  const TimeMs t0 = 1'000'000;
  wm.Observe(0, 500'000, t0);
  wm.Observe(1, 100'000, t0);
  wm.SetCaughtUp(0, true);
  wm.Tick(t0 + 3'600'000);
  EXPECT_FALSE(wm.idle(1));
  EXPECT_TRUE(wm.idle(0));
  EXPECT_EQ(wm.Current(), 99'000);  // input 1 holds it, silent or not
  wm.SetCaughtUp(1, true);          // now read to its head: it may idle
  wm.Tick(t0 + 3'600'001);
  EXPECT_EQ(wm.Current(), t0 + 3'600'001 - 1000);
}

// A consumer that lost its partitions, or has none yet (waiting for the
// group to drop its dead predecessor), owns nothing: its time stands still.
TEST(WatermarkTest, AJobOwningNoInputHoldsItsWatermark) {
  WatermarkTracker wm(2, 1000, 30'000, true);
  const TimeMs t0 = 1'000'000;
  wm.Observe(0, 500'000, t0);
  wm.Observe(1, 400'000, t0);
  EXPECT_EQ(wm.Current(), 399'000);
  wm.SetActive(0, false, t0);
  wm.SetActive(1, false, t0);
  wm.Tick(t0 + 3'600'000);
  EXPECT_EQ(wm.Current(), 399'000);
  // The placeholder of a consumer before its first assignment: likewise.
  WatermarkTracker fresh(1, 1000, 30'000, true);
  fresh.RestoreWatermark(250'000);
  fresh.SetActive(0, false, t0);
  fresh.Tick(t0 + 3'600'000);
  EXPECT_EQ(fresh.Current(), 250'000);
}

TEST(WatermarkTest, AHoldCapsTheWatermarkAndStopsTheClockRule) {
  WatermarkTracker wm(1, 1000, 30'000, true);
  const TimeMs t0 = 1'000'000;
  wm.SetHold(300'000);
  wm.Observe(0, 500'000, t0);
  EXPECT_EQ(wm.Current(), 300'000);
  wm.SetCaughtUp(0, true);
  wm.Tick(t0 + 3'600'000);  // idle, but held: no clock
  EXPECT_EQ(wm.Current(), 300'000);
  wm.SetHold(kMaxTime);
  wm.Tick(t0 + 3'600'000);
  EXPECT_EQ(wm.Current(), t0 + 3'600'000 - 1000);
}

}  // namespace
}  // namespace vigil
