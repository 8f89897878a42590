#include "operators/generator/generator_months.h"

#include <charconv>
#include <string>
#include <utility>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/strings.h"

namespace vigil {
namespace {

// The share of sessions whose user asks for a human in the model's own
// traffic (generator_traffic.cc, kWantsHuman).
constexpr double kModelAsks = 0.0625;

constexpr std::pair<std::string_view, double MonthProfile::*> kKeys[] = {
    {"escalation", &MonthProfile::escalation},
    {"resolution", &MonthProfile::resolution},
    {"thumbs_up", &MonthProfile::thumbs_up},
    {"conversion", &MonthProfile::conversion},
};

// "12%" or "0.12".
bool ParseShare(std::string_view s, double* out) {
  const bool percent = !s.empty() && s.back() == '%';
  if (percent) s.remove_suffix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return false;
  if (percent) v /= 100;
  if (!(v >= 0 && v <= 1)) return false;
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<MonthProfile> ParseMonthProfile(std::string_view spec) {
  MonthProfile p;
  for (std::string_view part : StrSplit(spec, ',')) {
    const size_t eq = part.find('=');
    const std::string_view key = part.substr(0, eq);
    double MonthProfile::*field = nullptr;
    for (const auto& [name, f] : kKeys) {
      if (name == key) field = f;
    }
    if (field == nullptr || eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("month '", spec, "': '", part,
                 "' is not KEY=SHARE with KEY escalation, resolution, thumbs_up or conversion "
                 "(e.g. escalation=12%,resolution=71%,thumbs_up=62%,conversion=4.1%)"));
    }
    if (!ParseShare(part.substr(eq + 1), &(p.*field))) {
      return absl::InvalidArgumentError(StrCat("month '", spec, "': ", key, " '",
                                               part.substr(eq + 1),
                                               "' is not a share such as 12% or 0.12"));
    }
  }
  if ((p.escalation < 0) != (p.resolution < 0)) {
    return absl::InvalidArgumentError(
        StrCat("month '", spec, "': escalation and resolution go together"));
  }
  return p;
}

MonthPlan PlanMonth(const MonthProfile& profile) {
  MonthPlan plan;
  plan.thumbs_up = profile.thumbs_up;
  plan.conversion = profile.conversion;
  if (profile.escalation < 0) return plan;
  const double e = profile.escalation;
  const double never = 1 - profile.resolution;  // escalated share of those who never asked
  double asks = kModelAsks;
  double asked = 0;
  if ((1 - asks) * never > e) {
    // Too many escalations among those who never asked: more users ask,
    // and none of them reach a human.
    asks = 1 - e / never;
  } else {
    asked = (e - (1 - asks) * never) / asks;
    if (asked > 1) {
      asks = (e - never) / (1 - never);
      asked = 1;
    }
  }
  plan.asks = asks;
  plan.escalates_asked = asked;
  plan.escalates_never = never;
  return plan;
}

namespace generator_internal {

MonthOf MonthAt(TimeMs origin, TimeMs t) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilMonth first = absl::ToCivilMonth(absl::FromUnixMillis(origin), utc);
  const absl::CivilMonth month = absl::ToCivilMonth(absl::FromUnixMillis(t), utc);
  return {static_cast<int>(month - first), absl::ToUnixMillis(absl::FromCivil(month, utc)),
          absl::ToUnixMillis(absl::FromCivil(month + 1, utc))};
}

}  // namespace generator_internal
}  // namespace vigil
