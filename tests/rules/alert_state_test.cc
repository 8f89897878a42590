#include "rules/alert_state.h"

#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

constexpr DurationMs kMinute = 60'000;

// Timing of an alert evaluated every minute.
AlertTiming For(DurationMs for_duration, DurationMs keep_firing_for = 0, bool has_resolve = false) {
  return AlertTiming{for_duration, keep_firing_for, has_resolve, kMinute};
}

// Steps a 1-minute tumbling window ending at `end`.
Transition Minute(AlertState* s, bool holds, TimeMs end, const AlertTiming& timing,
                  bool resolves = false, double value = 1) {
  return s->Step(holds, resolves, end, value, timing);
}

TEST(AlertStateTest, PendingThenFiringAtTheFifthMinute) {
  const AlertTiming timing = For(5 * kMinute);
  AlertState s;
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
  EXPECT_EQ(Minute(&s, true, 60'000, timing), Transition::kPending);
  EXPECT_EQ(s.phase, AlertPhase::kPending);
  EXPECT_EQ(s.active_since, 0);
  EXPECT_EQ(s.fired_at, kMinTime);
  for (TimeMs end : {120'000, 180'000, 240'000}) {
    EXPECT_EQ(Minute(&s, true, end, timing), Transition::kNone) << end;
    EXPECT_EQ(s.phase, AlertPhase::kPending) << end;
  }
  EXPECT_EQ(Minute(&s, true, 300'000, timing), Transition::kFiring);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(s.active_since, 0);
  EXPECT_EQ(s.fired_at, 300'000);
  EXPECT_EQ(s.last_eval, 300'000);
  // Stays firing without a new transition.
  EXPECT_EQ(Minute(&s, true, 360'000, timing), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(s.fired_at, 300'000);
}

TEST(AlertStateTest, NotFiringOneWindowEarly) {
  const AlertTiming timing = For(5 * kMinute);
  AlertState s;
  for (TimeMs end = 60'000; end <= 240'000; end += kMinute) Minute(&s, true, end, timing);
  EXPECT_EQ(s.phase, AlertPhase::kPending);
  EXPECT_EQ(s.fired_at, kMinTime);
}

TEST(AlertStateTest, FalseWindowInBetweenResets) {
  const AlertTiming timing = For(5 * kMinute);
  AlertState s;
  for (TimeMs end = 60'000; end <= 240'000; end += kMinute) Minute(&s, true, end, timing);
  ASSERT_EQ(s.phase, AlertPhase::kPending);
  EXPECT_EQ(Minute(&s, false, 300'000, timing), Transition::kInactive);
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
  EXPECT_EQ(s.active_since, kMinTime);
  // The run starts over at the next true window.
  EXPECT_EQ(Minute(&s, true, 360'000, timing), Transition::kPending);
  EXPECT_EQ(s.active_since, 300'000);
  for (TimeMs end = 420'000; end <= 540'000; end += kMinute) {
    EXPECT_EQ(Minute(&s, true, end, timing), Transition::kNone) << end;
  }
  // Five true windows from 300000: held 5m at 600000.
  EXPECT_EQ(Minute(&s, true, 600'000, timing), Transition::kFiring);
  EXPECT_EQ(s.fired_at, 600'000);
  EXPECT_EQ(s.active_since, 300'000);
}

TEST(AlertStateTest, FalseWhileInactiveChangesNothing) {
  const AlertTiming timing = For(0);
  AlertState s;
  EXPECT_EQ(Minute(&s, false, 60'000, timing, false, 0.5), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
  EXPECT_EQ(s.last_eval, 60'000);
  EXPECT_EQ(s.value, 0.5);
}

TEST(AlertStateTest, ForZeroFiresAtTheFirstTrueWindow) {
  const AlertTiming timing = For(0);
  AlertState s;
  EXPECT_EQ(Minute(&s, true, 120'000, timing), Transition::kFiring);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(s.active_since, 60'000);
  EXPECT_EQ(s.fired_at, 120'000);
}

TEST(AlertStateTest, ResolvesAtTheFirstFalseWindow) {
  const AlertTiming timing = For(0);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing), Transition::kFiring);
  EXPECT_EQ(Minute(&s, true, 120'000, timing), Transition::kNone);
  EXPECT_EQ(Minute(&s, false, 180'000, timing), Transition::kResolved);
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
  EXPECT_EQ(s.last_eval, 180'000);
  EXPECT_EQ(s.active_since, kMinTime);
  EXPECT_EQ(s.cleared_since, kMinTime);
  // A new run after resolution starts pending/firing afresh.
  EXPECT_EQ(Minute(&s, true, 240'000, timing), Transition::kFiring);
  EXPECT_EQ(s.active_since, 180'000);
  EXPECT_EQ(s.fired_at, 240'000);
}

TEST(AlertStateTest, SlidingWindowsHoldOneSlidePerEvaluation) {
  // sliding 10m every 1m, for: 5m: pending at the end of the first true
  // window (600000), firing 4 minutes later at the fifth true evaluation.
  {
    const AlertTiming timing = For(5 * kMinute);
    AlertState s;
    EXPECT_EQ(s.Step(true, false, 600'000, 1, timing), Transition::kPending);
    EXPECT_EQ(s.active_since, 540'000);
    for (TimeMs end : {660'000, 720'000, 780'000}) {
      EXPECT_EQ(s.Step(true, false, end, 1, timing), Transition::kNone) << end;
    }
    EXPECT_EQ(s.Step(true, false, 840'000, 1, timing), Transition::kFiring);
    EXPECT_EQ(s.fired_at, 840'000);
  }
  {
    // for: 12m needs twelve true evaluations, not two slides past the window.
    const AlertTiming timing = For(12 * kMinute);
    AlertState s;
    EXPECT_EQ(s.Step(true, false, 600'000, 1, timing), Transition::kPending);
    for (TimeMs end = 660'000; end < 600'000 + 11 * kMinute; end += kMinute) {
      EXPECT_EQ(s.Step(true, false, end, 1, timing), Transition::kNone) << end;
    }
    EXPECT_EQ(s.Step(true, false, 600'000 + 11 * kMinute, 1, timing), Transition::kFiring);
  }
  {
    // for: 90s on a 1m slide rounds up to two evaluations.
    const AlertTiming timing = For(90'000);
    AlertState s;
    EXPECT_EQ(s.Step(true, false, 600'000, 1, timing), Transition::kPending);
    EXPECT_EQ(s.Step(true, false, 660'000, 1, timing), Transition::kFiring);
  }
}

TEST(AlertStateTest, HysteresisKeepsFiringUntilResolveHolds) {
  // Fire at p99 > 10 s, resolve only below 8 s.
  const AlertTiming timing = For(0, 0, /*has_resolve=*/true);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing, false, 12'000), Transition::kFiring);
  // 9 s: the alert condition is false, but resolve (< 8 s) is too.
  EXPECT_EQ(Minute(&s, false, 120'000, timing, false, 9'000), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(Minute(&s, false, 180'000, timing, false, 8'500), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(s.value, 8'500);
  EXPECT_EQ(s.peak, 12'000);
  EXPECT_EQ(Minute(&s, false, 240'000, timing, true, 7'000), Transition::kResolved);
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
}

TEST(AlertStateTest, WithoutResolveExpressionTheResolveFlagIsIgnored) {
  const AlertTiming timing = For(0);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing), Transition::kFiring);
  EXPECT_EQ(Minute(&s, true, 120'000, timing, /*resolves=*/true), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
}

TEST(AlertStateTest, KeepFiringForDelaysResolutionInEventTime) {
  const AlertTiming timing = For(0, 3 * kMinute);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing), Transition::kFiring);
  // The condition stops holding at 60000 (start of the first false window).
  EXPECT_EQ(Minute(&s, false, 120'000, timing), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(s.cleared_since, 60'000);
  EXPECT_EQ(Minute(&s, false, 180'000, timing), Transition::kNone);
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(Minute(&s, false, 240'000, timing), Transition::kResolved);
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
}

TEST(AlertStateTest, KeepFiringForRestartsWhenTheConditionReturns) {
  const AlertTiming timing = For(0, 2 * kMinute);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing), Transition::kFiring);
  EXPECT_EQ(Minute(&s, false, 120'000, timing), Transition::kNone);
  EXPECT_EQ(Minute(&s, true, 180'000, timing), Transition::kNone);
  EXPECT_EQ(s.cleared_since, kMinTime);
  EXPECT_EQ(Minute(&s, false, 240'000, timing), Transition::kNone);
  EXPECT_EQ(s.cleared_since, 180'000);
  EXPECT_EQ(Minute(&s, false, 300'000, timing), Transition::kResolved);
  EXPECT_EQ(s.fired_at, 60'000);
}

TEST(AlertStateTest, KeepFiringForIsMeasuredInEventTimeNotSteps) {
  // One late window far in event time resolves at once.
  const AlertTiming timing = For(0, 10 * kMinute);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing), Transition::kFiring);
  EXPECT_EQ(s.Step(false, false, 60'000 + 10 * kMinute, 0, timing), Transition::kResolved);
}

TEST(AlertStateTest, KeepFiringForOnSlidingWindowsCountsFromTheLastTrueEvaluation) {
  // 5-minute windows every minute: a false window's start lies 5 minutes
  // back, but the condition held until the previous evaluation.
  const AlertTiming timing = For(0, 2 * kMinute);
  AlertState s;
  ASSERT_EQ(s.Step(true, false, 300'000, 1, timing), Transition::kFiring);
  EXPECT_EQ(s.Step(false, false, 360'000, 0, timing), Transition::kNone);
  EXPECT_EQ(s.cleared_since, 300'000);
  EXPECT_EQ(s.Step(false, false, 420'000, 0, timing), Transition::kResolved);
}

TEST(AlertStateTest, PeakTracksTheLargestValueWhileActive) {
  const AlertTiming timing = For(2 * kMinute);
  AlertState s;
  Minute(&s, true, 60'000, timing, false, 5);
  Minute(&s, true, 120'000, timing, false, 9);
  Minute(&s, true, 180'000, timing, false, 7);
  EXPECT_EQ(s.peak, 9);
  EXPECT_EQ(s.value, 7);
}

TEST(AlertStateTest, FiredValueIsTheValueOfTheLastFiringEvaluation) {
  // Fires at 12 s, holds at 15 s, stops holding at 9 s (kept firing 2m),
  // resolves at 3 s: notifications on resolve render 15 s.
  const AlertTiming timing = For(0, 2 * kMinute);
  AlertState s;
  ASSERT_EQ(Minute(&s, true, 60'000, timing, false, 12'000), Transition::kFiring);
  EXPECT_EQ(s.fired_value, 12'000);
  EXPECT_EQ(Minute(&s, true, 120'000, timing, false, 15'000), Transition::kNone);
  EXPECT_EQ(Minute(&s, false, 180'000, timing, false, 9'000), Transition::kNone);
  EXPECT_EQ(s.fired_value, 15'000);
  EXPECT_EQ(Minute(&s, false, 240'000, timing, false, 3'000), Transition::kResolved);
  EXPECT_EQ(s.fired_value, 15'000);
  EXPECT_EQ(s.value, 3'000);
}

// Calendar days count as their longest, 25 hours, per evaluation: two true
// days hold 50 hours although their ends are 24 hours apart, so for: 50h
// fires at the second; the held time starts at the first day's start.
TEST(AlertStateTest, CalendarWindowsHoldTheirLongestLengthPerEvaluation) {
  constexpr DurationMs kHour = 60 * kMinute, kDay = 24 * kHour;
  for (DurationMs for_duration : {49 * kHour + 30 * kMinute, 50 * kHour, 51 * kHour}) {
    SCOPED_TRACE(for_duration);
    AlertTiming timing{for_duration, 0, false, 25 * kHour};
    timing.calendar = true;
    AlertState s;
    timing.window_start = 10 * kDay;
    EXPECT_EQ(s.Step(true, false, 11 * kDay, 1, timing), Transition::kPending);
    EXPECT_EQ(s.active_since, 10 * kDay);
    timing.window_start = 11 * kDay;
    EXPECT_EQ(s.Step(true, false, 12 * kDay, 1, timing),
              for_duration <= 50 * kHour ? Transition::kFiring : Transition::kNone);
    timing.window_start = 12 * kDay;
    if (for_duration > 50 * kHour) {
      EXPECT_EQ(s.Step(true, false, 13 * kDay, 1, timing), Transition::kFiring);
    }
    EXPECT_EQ(s.active_since, 10 * kDay);
  }
  // A pending state restored from before evaluations were kept counts by
  // time, as it did: ends 24 hours apart hold 24 hours more each.
  AlertTiming timing{50 * kHour, 0, false, 25 * kHour};
  timing.calendar = true;
  AlertState s;
  s.phase = AlertPhase::kPending;
  s.active_since = 11 * kDay - 25 * kHour;
  s.last_eval = 11 * kDay;
  EXPECT_EQ(s.Step(true, false, 12 * kDay, 1, timing), Transition::kNone);  // 49 hours
  EXPECT_EQ(s.Step(true, false, 13 * kDay, 1, timing), Transition::kFiring);
}

TEST(AlertStateTest, StatesEncodedWithoutFiredValueStillDecode) {
  // The layout before fired_value: phase, four times, value, peak.
  Encoder enc;
  enc.PutByte(static_cast<uint8_t>(AlertPhase::kFiring));
  for (TimeMs t : {0L, 60'000L, kMinTime, 60'000L}) enc.PutSigned(t);
  enc.PutDouble(12.5);
  enc.PutDouble(13.5);
  Decoder dec(enc.data());
  AlertState s;
  ASSERT_TRUE(s.Decode(&dec));
  EXPECT_TRUE(dec.empty());
  EXPECT_EQ(s.phase, AlertPhase::kFiring);
  EXPECT_EQ(s.fired_at, 60'000);
  EXPECT_EQ(s.peak, 13.5);
  EXPECT_EQ(s.fired_value, 12.5);
}

TEST(AlertStateTest, EncodeDecodeRoundTrip) {
  const AlertTiming timing = For(5 * kMinute, 2 * kMinute);
  std::vector<AlertState> states;
  AlertState s;
  states.push_back(s);
  Minute(&s, true, 60'000, timing, false, 11.5);
  states.push_back(s);
  for (TimeMs end = 120'000; end <= 300'000; end += kMinute) Minute(&s, true, end, timing);
  Minute(&s, false, 360'000, timing, false, -0.25);
  ASSERT_EQ(s.phase, AlertPhase::kFiring);
  ASSERT_EQ(s.cleared_since, 300'000);
  states.push_back(s);
  for (const AlertState& original : states) {
    Encoder enc;
    original.Encode(&enc);
    Decoder dec(enc.data());
    AlertState restored;
    restored.phase = AlertPhase::kFiring;
    restored.value = 99;
    ASSERT_TRUE(restored.Decode(&dec));
    EXPECT_TRUE(dec.empty());
    EXPECT_EQ(restored, original);
  }

  // A restored state continues exactly where the original would.
  Encoder enc;
  s.Encode(&enc);
  Decoder dec(enc.data());
  AlertState restored;
  ASSERT_TRUE(restored.Decode(&dec));
  EXPECT_EQ(Minute(&restored, false, 420'000, timing), Minute(&s, false, 420'000, timing));
  EXPECT_EQ(restored, s);
  EXPECT_EQ(s.phase, AlertPhase::kInactive);
}

TEST(AlertStateTest, DecodeRejectsBadInput) {
  AlertState s;
  Minute(&s, true, 60'000, For(0));
  Encoder enc;
  s.Encode(&enc);
  const std::string& data = enc.data();
  for (size_t n = 0; n < data.size(); ++n) {
    Decoder dec(std::string_view(data).substr(0, n));
    AlertState restored;
    EXPECT_FALSE(restored.Decode(&dec)) << "truncated at " << n;
  }
  std::string bad = data;
  bad[0] = static_cast<char>(0x87);  // not a phase
  Decoder dec(bad);
  AlertState restored;
  EXPECT_FALSE(restored.Decode(&dec));
}

TEST(AlertStateTest, TransitionNames) {
  EXPECT_EQ(TransitionName(Transition::kNone), "none");
  EXPECT_EQ(TransitionName(Transition::kPending), "pending");
  EXPECT_EQ(TransitionName(Transition::kFiring), "firing");
  EXPECT_EQ(TransitionName(Transition::kResolved), "resolved");
  EXPECT_EQ(TransitionName(Transition::kInactive), "inactive");
}

}  // namespace
}  // namespace vigil
