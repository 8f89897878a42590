#include "runtime/record_checks.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr TimeMs kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

ParseAhead::Parsed Event(TimeMs ts) {
  ParseAhead::Parsed p;
  p.ok = true;
  p.ev.ts = ts;
  return p;
}

Record Rec() {
  Record r;
  r.data = "{}";
  r.size = 2;
  return r;
}

RecordChecks Checks() {
  RecordChecks::Options o;
  o.max_record_bytes = 100;
  o.from = kT;
  o.to = kT + 3'600'000;
  o.max_future = 60'000;
  o.allowed_lateness = 5'000;
  return RecordChecks(o);
}

TEST(RecordChecksTest, AnEventInsideEveryBoundIsAccepted) {
  const RecordChecks::Verdict v = Checks().Check(Rec(), Event(kT + 1000), kT, kT + 2000);
  EXPECT_EQ(v.outcome, RecordChecks::kAccept);
  EXPECT_EQ(v.detail, "");
}

TEST(RecordChecksTest, OversizedComesFirstAndIgnoresTheParse) {
  Record r = Rec();
  r.oversized = true;
  r.size = 250;
  ParseAhead::Parsed failed;  // not parsed at all
  const RecordChecks::Verdict v = Checks().Check(r, failed, kMinTime, kT);
  EXPECT_EQ(v.outcome, RecordChecks::kDeadLetter);
  EXPECT_EQ(v.reason, DeadReason::kOversized);
  EXPECT_EQ(v.detail, "record of 250 bytes is over the limit of 100");
}

TEST(RecordChecksTest, AParseErrorKeepsTheParsersReason) {
  ParseAhead::Parsed p;
  p.err = {DeadReason::kMissingTs, "no \"ts\" field"};
  const RecordChecks::Verdict v = Checks().Check(Rec(), p, kMinTime, kT);
  EXPECT_EQ(v.outcome, RecordChecks::kDeadLetter);
  EXPECT_EQ(v.reason, DeadReason::kMissingTs);
  EXPECT_EQ(v.detail, "no \"ts\" field");
}

TEST(RecordChecksTest, OutsideTheTimeRangeIsSkippedNotRefused) {
  const RecordChecks c = Checks();
  EXPECT_EQ(c.Check(Rec(), Event(kT - 1), kMinTime, kT).outcome, RecordChecks::kSkip);
  EXPECT_EQ(c.Check(Rec(), Event(kT + 3'600'000), kMinTime, kT).outcome, RecordChecks::kSkip);
  EXPECT_EQ(c.Check(Rec(), Event(kT + 3'599'999), kMinTime, kT + 3'599'999).outcome,
            RecordChecks::kAccept);
  // The range decides before lateness: a skipped event is not late too.
  EXPECT_EQ(c.Check(Rec(), Event(kT - 60'000), kT + 60'000, kT).outcome, RecordChecks::kSkip);
}

TEST(RecordChecksTest, TheFutureBoundIsExact) {
  const RecordChecks c = Checks();
  EXPECT_EQ(c.Check(Rec(), Event(kT + 60'000), kMinTime, kT).outcome, RecordChecks::kAccept);
  const RecordChecks::Verdict v = c.Check(Rec(), Event(kT + 60'001), kMinTime, kT);
  EXPECT_EQ(v.outcome, RecordChecks::kDeadLetter);
  EXPECT_EQ(v.reason, DeadReason::kFuture);
  EXPECT_EQ(v.ts, kT + 60'001);
  EXPECT_EQ(v.detail,
            "event time 2026-01-01T00:01:00.001Z is more than 1m ahead of the clock "
            "(2026-01-01T00:00:00.000Z)");
  RecordChecks::Options unbounded;
  unbounded.to = kMaxTime;
  EXPECT_EQ(RecordChecks(unbounded).Check(Rec(), Event(kT + 86'400'000), kMinTime, kT).outcome,
            RecordChecks::kAccept);
}

TEST(RecordChecksTest, LatenessIsJudgedAgainstTheGivenWatermarkWithItsAllowance) {
  const RecordChecks c = Checks();
  const TimeMs wm = kT + 600'000;
  EXPECT_EQ(c.Check(Rec(), Event(wm - 5'000), wm, wm).outcome, RecordChecks::kAccept);
  const RecordChecks::Verdict v = c.Check(Rec(), Event(wm - 5'001), wm, wm);
  EXPECT_EQ(v.outcome, RecordChecks::kDeadLetter);
  EXPECT_EQ(v.reason, DeadReason::kLate);
  EXPECT_EQ(v.ts, wm - 5'001);
  EXPECT_EQ(v.detail,
            "event time 2026-01-01T00:09:54.999Z is behind the watermark "
            "2026-01-01T00:10:00.000Z by more than the allowed lateness");
  // No watermark yet: nothing is late.
  EXPECT_EQ(c.Check(Rec(), Event(kT), kMinTime, kT).outcome, RecordChecks::kAccept);
}

}  // namespace
}  // namespace vigil
