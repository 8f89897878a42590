// operators/generator/generator_months.h
//
// Month-by-month figures for generated traffic (`vigil gen --month`): the
// columns of the runbook's monthly improvement tracker. Month i of the
// profile list is the i-th calendar month (UTC) counted from the month of the
// generator's start; the last profile holds for every later month.
//
// The figures follow the reference rules' definitions (deploy/rules/
// chatbot.yaml, the `*_monthly` metrics):
//   escalation  share of sessions that reach a human agent (an `escalation`
//               event);
//   resolution  1 - escalated sessions / sessions, over the sessions whose
//               user never asked for a human (no message with the
//               `escalation` intent);
//   thumbs_up   share of feedback events rated 1;
//   conversion  share of sessions with a `recommendation` turn that reach
//               add-to-cart.
// The model meets them with quotas rather than coin flips (MonthQuota), so
// that each month's counts are the figures to within one session or rating.
//
// Escalation and resolution are given together. The sessions in which the
// user asks for a human keep the model's share (6.25%) when the two figures
// allow it. When the resolution figure needs more escalations among the
// sessions that never asked than the escalation rate holds, the only way
// both figures are true under these definitions is that more users ask for
// a human without reaching one: the plan raises the asking share to
// 1 - escalation / (1 - resolution) and lets none of them escalate. The
// runbook's 12% escalation and 71% resolution need 59% of sessions to ask.
//
// Example:
//   absl::StatusOr<MonthProfile> jan =
//       ParseMonthProfile("escalation=12%,resolution=71%,thumbs_up=62%,conversion=4.1%");
//   MonthPlan plan = PlanMonth(*jan);  // plan.asks 0.586, plan.escalates_asked 0
#ifndef VIGIL_OPERATORS_GENERATOR_GENERATOR_MONTHS_H_
#define VIGIL_OPERATORS_GENERATOR_GENERATOR_MONTHS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time.h"

namespace vigil {

// A share in [0, 1] per column; a negative one leaves the model's own
// behaviour for that column.
struct MonthProfile {
  double escalation = -1;
  double resolution = -1;
  double thumbs_up = -1;
  double conversion = -1;
};

// Parses "escalation=12%,resolution=71%,thumbs_up=62%,conversion=4.1%": any
// of the four keys, each a percentage or a fraction ("0.12"), escalation and
// resolution together. An error names the bad part.
absl::StatusOr<MonthProfile> ParseMonthProfile(std::string_view spec);

// What the traffic model does to meet a profile; shares of sessions, or of
// ratings for thumbs_up. A negative share leaves the model's own draw.
struct MonthPlan {
  double asks = -1;             // sessions whose user asks for a human
  double escalates_asked = -1;  // of those, the share that reach one
  double escalates_never = -1;  // of the others, the share that reach one
  double thumbs_up = -1;        // feedback rated 1
  double conversion = -1;       // sessions with a recommendation that add to cart
};
MonthPlan PlanMonth(const MonthProfile& profile);

namespace generator_internal {

// A quota of yes answers at a share p: Take(p) answers yes exactly when the
// running total of p passes a whole number, so n calls give round(n * p)
// yes answers to within one, whatever n. Deterministic; draws no random
// number.
class MonthQuota {
 public:
  bool Take(double p) {
    acc_ += p;
    if (acc_ < 1) return false;
    acc_ -= 1;
    return true;
  }

 private:
  double acc_ = 0.5;
};

// The calendar month (UTC) that holds `t`: its index counted from the month
// of `origin` (0 for the same month, 1 for the next, -1 for the one before)
// and its bounds [begin, end).
struct MonthOf {
  int index;
  TimeMs begin;
  TimeMs end;
};
MonthOf MonthAt(TimeMs origin, TimeMs t);

}  // namespace generator_internal
}  // namespace vigil

#endif  // VIGIL_OPERATORS_GENERATOR_GENERATOR_MONTHS_H_
