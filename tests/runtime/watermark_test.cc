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
  WatermarkTracker wm(2, 1000, /*idle=*/30'000, /*live=*/true);
  const TimeMs t0 = 1'000'000;
  wm.Observe(0, 500'000, t0);
  wm.Observe(1, 100'000, t0);
  EXPECT_EQ(wm.Current(), 99'000);
  // Input 0 keeps delivering; input 1 goes quiet.
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
  wm.Tick(0);
  wm.Observe(0, 5'000, 1);
  EXPECT_EQ(wm.Current(), kMinTime);
  wm.Tick(30'001);
  wm.Observe(0, 6'000, 30'001);
  EXPECT_EQ(wm.Current(), 6'000);
}

TEST(WatermarkTest, AllIdleFollowsTheProcessingClock) {
  WatermarkTracker wm(1, 2000, 10'000, true);
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

}  // namespace
}  // namespace vigil
