// rules/silence.h
//
// Maintenance windows as code: a silence mutes the notifications of the
// alerts its matchers select while event time is inside it. A matching
// alert keeps its state (it shows on the status page and in /api/alerts as
// silenced); an alert still firing when the silence ends is notified then
// (operators/dataflow/alert_operator.h).
//
// Rule files declare silences (`silences:`), in the shape of Alertmanager's
// matchers and time_intervals:
//
//   silences:
//     - silence: nightly-reindex
//       matchers: ['alertname=~"LatencyP9.*"', 'severity!="P1"']
//       time_intervals:
//         - times: [{start_time: "02:00", end_time: "04:00"}]
//           weekdays: ['monday:friday']
//           location: Europe/Berlin
//     - silence: migration
//       matchers: ['alertname="ErrorRateCritical"']
//       starts_at: 2026-03-01T02:00:00Z
//       ends_at: 2026-03-01T04:00:00Z
//
// A time interval holds when every field it gives holds: times of day
// ([start, end), "HH:MM", end up to "24:00"), weekdays (names or
// "monday:friday"), days_of_month (1..31, negative from the month's end,
// ranges "1:5"), months (names or 1..12, ranges), years (ranges), in
// `location` (an IANA time zone from the system's tzdata; default UTC).
// Ad hoc silences (`POST /api/silences` on a running job) have a fixed
// [starts_at, ends_at) and live in a SilenceBook, checkpointed.
//
// Example:
//   SilenceBook book;
//   book.SetRuleSilences(rules.silences);
//   std::string id = book.Add(adhoc);          // from the admin API thread
//   book.Match(labels, event_time);            // "nightly-reindex", or ""
#ifndef VIGIL_RULES_SILENCE_H_
#define VIGIL_RULES_SILENCE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/time.h"
#include "re2/re2.h"
#include "rules/source_pos.h"
#include "rules/template.h"

namespace vigil {

// name="v", name!="v", name=~"re", name!~"re" (the regex in RE2 syntax, as
// Alertmanager's, and anchored at both ends as there). A missing label has
// the value "".
struct LabelMatcher {
  enum class Op : uint8_t { kEq, kNe, kRe, kNotRe };
  std::string name;
  Op op = Op::kEq;
  std::string value;
  std::shared_ptr<const re2::RE2> re;  // kRe, kNotRe
  bool Matches(const Labels& labels) const;
  std::string ToString() const;  // name=~"value"
};
// Parses one matcher; nullopt with *error set when it is malformed.
std::optional<LabelMatcher> ParseLabelMatcher(std::string_view text, std::string* error);
// Builds one from its parts (the admin API's {name, value, isRegex, isEqual}).
std::optional<LabelMatcher> MakeLabelMatcher(std::string name, LabelMatcher::Op op,
                                             std::string value, std::string* error);

// One entry of `time_intervals:`. Empty lists mean "any".
struct TimeInterval {
  std::vector<std::pair<int, int>> minutes;        // [start, end) minutes of the day
  std::vector<std::pair<int, int>> weekdays;       // 0 = Sunday .. 6, inclusive ranges
  std::vector<std::pair<int, int>> days_of_month;  // 1..31 or -31..-1, inclusive
  std::vector<std::pair<int, int>> months;         // 1..12, inclusive
  std::vector<std::pair<int, int>> years;          // inclusive
  std::string location = "UTC";
  absl::TimeZone zone = absl::UTCTimeZone();
  bool Contains(TimeMs t) const;
};

struct SilenceDef {
  std::string name;  // rule files: `silence:`; ad hoc: its id
  SourcePos pos;
  std::vector<LabelMatcher> matchers;
  std::vector<TimeInterval> intervals;  // rule files; or the fixed range:
  TimeMs starts_at = kMinTime;
  TimeMs ends_at = kMaxTime;
  std::string comment, created_by;  // ad hoc ones
  bool Active(TimeMs t) const;
  bool Matches(const Labels& labels) const;
};

// The silences a job applies: those of its rule files and the ad hoc ones.
// Thread-safe: the admin API adds and expires while the job thread matches.
class SilenceBook {
 public:
  void SetRuleSilences(std::vector<SilenceDef> silences);
  // Adds an ad hoc silence (its name is set to a new id, returned: s1, s2,
  // ..., skipping the names of the rule files' silences).
  std::string Add(SilenceDef silence);
  // Ends an ad hoc silence now (event time `at`); false when unknown.
  bool Expire(std::string_view id, TimeMs at);
  // The name of the first silence active at `t` that matches, or "".
  std::string Match(const Labels& labels, TimeMs t) const;
  // Every silence, rule-file ones first; ad hoc ones that ended before
  // `now` - 1h are dropped as a side effect (they expire by themselves).
  std::vector<SilenceDef> List(TimeMs now);
  bool empty() const;
  size_t RuleSilenceCount() const;
  // Counts the ad hoc changes (Add, Expire): a job checkpoints when it
  // differs from the count its last checkpoint held.
  uint64_t changes() const;

  // The ad hoc silences, for checkpoints. Decode returns false on malformed
  // input, leaving the book as it was.
  std::string EncodeAdHoc() const;
  bool DecodeAdHoc(std::string_view data);
  static constexpr std::string_view kStateKey = "vigil.silences";

 private:
  mutable absl::Mutex mu_;
  std::vector<SilenceDef> rule_ ABSL_GUARDED_BY(mu_);
  std::vector<SilenceDef> adhoc_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vigil

#endif  // VIGIL_RULES_SILENCE_H_
