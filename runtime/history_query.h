// runtime/history_query.h
//
// `vigil query` and GET /api/query: one metric's windows over a range of
// event time, from the results database (operators/warehouse/
// warehouse_query.h), from window results files (runtime/
// window_results_file.h) or from a running job, as text, JSON or CSV.
//
//   vigil query latency_p95_ms --labels intent=faq --step 1d
//     --from 2026-03-01T00:00:00Z --to 2026-04-01T00:00:00Z
//     --database postgresql://vigil@db/metrics
//
// A window is in the range when it starts in [from, to). Labels select the
// series that carry every given label with the given value. With a step,
// each series keeps one window per step: the last one that ends in each
// step-long interval of the Unix epoch. Series are ordered by their labels
// (sorted by name), windows by start.
//
// Example:
//   HistoryQuery q{.metric = "error_rate", .from = from, .to = to};
//   HistoryResult r(q);
//   for (const StoredWindow& w : windows) r.Add(w);
//   std::string json = r.ToJson();
#ifndef VIGIL_RUNTIME_HISTORY_QUERY_H_
#define VIGIL_RUNTIME_HISTORY_QUERY_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/warehouse/warehouse_query.h"

namespace vigil {

struct HistoryQuery {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;  // all must match
  TimeMs from = kMinTime, to = kMaxTime;
  DurationMs step = 0;  // 0: every window
};

// "k=v,k2=v2" into labels; an error names the bad part. In a value, `\,`
// is a comma and `\\` a backslash (a lone backslash stays as it is).
absl::Status ParseLabelFilter(std::string_view text,
                              std::vector<std::pair<std::string, std::string>>* out);
// The query of GET /api/query?metric=M&labels=k=v,…&from=T&to=T&step=D.
absl::StatusOr<HistoryQuery> ParseHistoryQuery(std::string_view query_string);

class HistoryResult {
 public:
  explicit HistoryResult(HistoryQuery query) : query_(std::move(query)) {}
  // Keeps `w` when it is the query's metric, in its range and labels; a
  // later window of the same series and start replaces an earlier one.
  void Add(const StoredWindow& w);
  size_t windows() const;

  // series → windows by start (the step applied).
  using Series =
      std::map<std::vector<std::pair<std::string, std::string>>, std::map<TimeMs, StoredWindow>>;
  Series Result() const;

  // "latency_p95_ms{intent="faq"}" then a line per window: end, value,
  // "partial" when it is.
  std::string ToText() const;
  // {"metric":…,"series":[{"labels":{…},"windows":[{"start","end","value"
  // [,"partial":true]}]}]}
  std::string ToJson() const;
  // metric,<one column per label name>,start,end,value,partial
  std::string ToCsv() const;

 private:
  HistoryQuery query_;
  Series series_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_HISTORY_QUERY_H_
