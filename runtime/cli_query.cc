// `vigil query METRIC`: one metric's windows over a range of event time
// (runtime/history_query.h), from the results database (--database), from
// window results files (PATH...) or from a running job (--url, its
// /api/query).
#include <simdjson.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/warehouse/warehouse_sink.h"
#include "runtime/cli_args.h"
#include "runtime/history_query.h"
#include "runtime/window_results_file.h"

namespace vigil::cli {
namespace {

// The windows of /api/query's JSON into `out`; false when it is not that.
bool AddApiQuery(std::string_view json, const std::string& metric, HistoryResult* out) {
  simdjson::dom::parser parser;
  simdjson::dom::array series;
  if (parser.parse(json).get(series) != simdjson::SUCCESS) {
    simdjson::dom::element doc;
    if (parser.parse(json).get(doc) != simdjson::SUCCESS || doc["series"].get(series)) return false;
  }
  for (simdjson::dom::element s : series) {
    StoredWindow w;
    w.metric = metric;
    simdjson::dom::object labels;
    simdjson::dom::array windows;
    if (s["labels"].get(labels) || s["windows"].get(windows)) return false;
    for (auto [k, v] : labels) {
      std::string_view text;
      if (v.get(text)) return false;
      w.labels.emplace_back(std::string(k), std::string(text));
    }
    for (simdjson::dom::element e : windows) {
      std::string_view start, end;
      if (e["start"].get(start) || e["end"].get(end)) return false;
      w.start = ParseRfc3339(start).value_or(0);
      w.end = ParseRfc3339(end).value_or(0);
      if (e["value"].get(w.value)) w.value = std::nan("");
      bool partial = false;
      w.partial = !e["partial"].get(partial) && partial;
      out->Add(w);
    }
  }
  return true;
}

int FromJob(const std::string& url, const HistoryQuery& q, const std::string& labels,
            const std::string& step, HistoryResult* out) {
  std::string path = StrCat("/api/query?metric=", q.metric);
  if (!labels.empty()) StrAppend(&path, "&labels=", PercentEncode(labels));
  if (q.from != kMinTime) StrAppend(&path, "&from=", FormatTimestamp(q.from));
  if (q.to != kMaxTime) StrAppend(&path, "&to=", FormatTimestamp(q.to));
  if (!step.empty()) StrAppend(&path, "&step=", step);
  std::optional<std::string> body = FetchFromJob(url, path);
  if (!body) return 1;
  if (!AddApiQuery(*body, q.metric, out)) {
    std::fprintf(stderr, "vigil: the job's /api/query did not answer with series\n");
    return 1;
  }
  return 0;
}

}  // namespace

int Query(int argc, char** argv) {
  Args a(argc, argv, 2);
  HistoryQuery q;
  std::string format = "text", database, url, labels, step, err, v;
  std::vector<std::string> paths;
  while (!a.Done()) {
    if (a.Value("--labels", &v, &err)) {
      labels = v;
      if (absl::Status s = ParseLabelFilter(v, &q.labels); !s.ok()) {
        err = StrCat("--", std::string(s.message()));
      }
    } else if (a.Value("--from", &v, &err)) {
      RangeBoundFlag(v, &q.from, &err);
    } else if (a.Value("--to", &v, &err)) {
      RangeBoundFlag(v, &q.to, &err);
    } else if (a.Value("--step", &v, &err)) {
      step = v;
      DurationFlag("--step", v, &q.step, &err);
      if (err.empty() && q.step <= 0) err = "--step must be positive";
    } else if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "json" && v != "csv") err = "--output must be text, json or csv";
      format = v;
    } else if (a.Value("--database", &v, &err)) {
      database = v;
      if (absl::StatusOr<WarehouseUrl> w = ParseWarehouseUrl(v); !w.ok()) {
        err = StrCat("--database: ", std::string(w.status().message()));
      }
    } else if (a.Value("--url", &v, &err)) {
      url = v;
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown("query"));
    } else if (q.metric.empty()) {
      q.metric = a.Take();
    } else {
      paths.push_back(a.Take());
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (q.metric.empty()) return Usage("query needs a metric: vigil query METRIC ...");
  if (q.from >= q.to) return Usage("--from must be before --to");
  if ((!database.empty()) + (!url.empty()) + (!paths.empty()) != 1) {
    return Usage("query reads one of --database URL, --url URL or window results files");
  }
  HistoryResult result(q);
  if (!database.empty()) {
    absl::StatusOr<std::vector<StoredWindow>> rows =
        QueryWarehouse(database, q.metric, q.from, q.to);
    if (!rows.ok()) return Failed(rows.status());
    for (const StoredWindow& w : *rows) result.Add(w);
  } else if (!url.empty()) {
    if (int code = FromJob(url, q, labels, step, &result)) return code;
  } else {
    uint64_t malformed = 0;
    std::set<std::string> metrics;  // the files hold
    for (const std::string& p : paths) {
      absl::StatusOr<bool> is = IsWindowResultsFile(p);
      if (!is.ok()) return Failed(is.status());  // unreadable: the message names the file and why
      if (!*is) {
        // The results file of a run that closed no window: no windows.
        absl::StatusOr<bool> empty = HoldsNoRecord(p);
        if (empty.ok() && *empty) continue;
        return Usage(StrCat(p, " is not a window results file (--results FILE writes one)"));
      }
      absl::Status s = ReadWindowResults(
          p,
          [&](const StoredWindow& w) {
            if (metrics.empty() || *metrics.rbegin() != w.metric) metrics.insert(w.metric);
            result.Add(w);
          },
          &malformed);
      if (!s.ok()) {
        std::fprintf(stderr, "vigil: %s: %s\n", p.c_str(), std::string(s.message()).c_str());
        return 1;
      }
    }
    if (malformed > 0) {
      std::fprintf(stderr, "vigil: skipped %llu lines that are not window results\n",
                   static_cast<unsigned long long>(malformed));
    }
    // A misspelt metric reads as an empty range: say so.
    if (!metrics.empty() && !metrics.contains(q.metric)) {
      const std::string close =
          Suggest(q.metric, std::vector<std::string>(metrics.begin(), metrics.end()));
      std::fprintf(stderr, "vigil: the files hold no window of '%s'%s\n", q.metric.c_str(),
                   close.empty() ? StrCat(" (they hold ", metrics.size(), " other metrics)").c_str()
                                 : StrCat("; did you mean '", close, "'?").c_str());
    }
  }
  const std::string out = format == "json"  ? result.ToJson() + "\n"
                          : format == "csv" ? result.ToCsv()
                                            : result.ToText();
  Print(out);
  return 0;
}

}  // namespace vigil::cli
