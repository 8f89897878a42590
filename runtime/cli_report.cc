// `vigil report escalations`: the monthly escalation review
// (runtime/escalation_review.h) from event files or archives: the NDJSON of
// every escalated session of the month, and a summary per review category.
// `vigil report tracker`: the monthly improvement table
// (runtime/tracker_report.h), and `vigil experiment report`: the experiment
// table (runtime/experiment_report.h), from a replay of event files, from
// window results files (runtime/window_results_file.h) or from a running
// job.
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "runtime/cli_args.h"
#include "runtime/escalation_review.h"
#include "runtime/experiment_report.h"
#include "runtime/job.h"
#include "runtime/replay.h"
#include "runtime/tracker_report.h"
#include "runtime/window_results_file.h"

namespace vigil::cli {
namespace {

// Which of `paths` are window results files, told apart by their first
// line: the last one of each kind ("" for none). A directory holds events.
struct InputKinds {
  std::string results, events;
};
absl::StatusOr<InputKinds> KindsOf(const std::vector<std::string>& paths) {
  InputKinds kinds;
  for (const std::string& p : paths) {
    absl::StatusOr<bool> r = std::filesystem::is_directory(p) ? false : IsWindowResultsFile(p);
    if (!r.ok()) return r.status();
    (*r ? kinds.results : kinds.events) = p;
  }
  return kinds;
}

int Escalations(Args& a) {
  std::string month, zone = "UTC", out_path, format = "text", err, v;
  std::vector<std::string> paths;
  while (!a.Done()) {
    if (a.Value("--month", &v, &err)) {
      month = v;
    } else if (a.Value("--timezone", &v, &err)) {
      zone = v;
    } else if (a.Value("--out", &v, &err)) {
      out_path = v;
    } else if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "json") err = "--output must be text or json";
      format = v;
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown("report escalations"));
    } else {
      paths.push_back(a.Take());
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (month.empty()) return Usage("report escalations needs --month YYYY-MM");
  if (paths.empty()) return Usage("report escalations needs event files or directories");
  if (std::find(paths.begin(), paths.end(), "-") != paths.end()) {
    return Usage(
        "report escalations reads its events twice (the escalations, then their sessions' "
        "turns), so not from stdin: save them to a file first");
  }
  absl::StatusOr<MonthRange> range = ParseMonth(month, zone);
  if (!range.ok()) return Usage(std::string(range.status().message()));
  absl::StatusOr<InputKinds> kinds = KindsOf(paths);
  if (!kinds.ok()) return Failed(kinds.status());
  if (!kinds->results.empty()) {
    return Usage(StrCat(kinds->results,
                        " holds window results: the escalation review lists sessions and "
                        "their turns, from event files"));
  }
  absl::StatusOr<std::vector<std::string>> files = ExpandEventPaths(paths);
  if (!files.ok()) return Failed(files.status());  // a file or directory that cannot be read
  // A file read twice would list every turn of its sessions twice.
  std::set<std::string> seen;
  for (const std::string& f : *files) {
    std::error_code ec;
    const std::filesystem::path key = std::filesystem::weakly_canonical(f, ec);
    if (!seen.insert(ec ? f : key.string()).second) {
      return Usage(StrCat(f, " is given twice (by name or in a directory)"));
    }
  }
  EscalationReview review(*range);
  if (absl::Status s = review.Read(*files); !s.ok()) return Failed(s);
  // NDJSON to stdout moves the summary to stderr.
  FILE* summary = out_path == "-" ? stderr : stdout;
  if (out_path == "-") {
    review.WriteNdjson(&std::cout);
    std::cout.flush();
  } else if (!out_path.empty()) {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    review.WriteNdjson(&out);
    out.close();
    if (!out) {
      std::fprintf(stderr, "vigil: cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  Print(review.Summary(format), summary);
  if (format == "text" && !out_path.empty() && out_path != "-") {
    std::fprintf(summary, "\nwrote %zu sessions with their turns to %s\n", review.sessions().size(),
                 out_path.c_str());
  }
  return 0;
}

// The months of `metric` a job's results database holds (its /api/query),
// into `data`; nothing when the job has no database.
void AddStoredMonths(const std::string& url, const std::string& metric, TrackerData* data) {
  std::optional<std::string> body =
      FetchFromJob(url, StrCat("/api/query?metric=", metric), /*quiet_404=*/true);
  if (!body) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array series;
  if (parser.parse(*body).get(doc) || doc["series"].get(series)) return;
  for (simdjson::dom::element s : series) {
    simdjson::dom::object labels;
    simdjson::dom::array windows;
    if (s["labels"].get(labels) || labels.size() != 0 || s["windows"].get(windows)) continue;
    for (simdjson::dom::element w : windows) {
      std::string_view end;
      double value = 0;
      bool partial = false;
      if (w["end"].get(end) || w["value"].get(value)) continue;
      if (w["partial"].get(partial)) partial = false;
      if (std::optional<TimeMs> t = ParseRfc3339(end)) data->Add(metric, *t, value, partial);
    }
  }
}

// `vigil report tracker --url URL`: the job's /api/rules, the months its
// results database holds (/api/query) and its latest windows
// (/api/metrics?history=120).
int TrackerFromJob(const std::string& url, const std::string& format, TimeMs from, TimeMs to) {
  std::optional<std::string> rules = FetchFromJob(url, "/api/rules");
  if (!rules) return 1;
  std::optional<std::string> metrics = FetchFromJob(url, "/api/metrics?history=120");
  if (!metrics) return 1;
  simdjson::dom::parser parser;
  simdjson::dom::element doc, list;
  std::vector<TrackerInfo> infos;
  if (parser.parse(*rules).get(doc) != simdjson::SUCCESS ||
      doc["trackers"].get(list) != simdjson::SUCCESS || !ParseTrackerInfos(list, &infos)) {
    std::fprintf(stderr, "vigil: the job's /api/rules has no trackers list (an older vigil?)\n");
    return 1;
  }
  std::set<std::string> names;
  for (const TrackerInfo& t : infos) {
    for (const TrackerInfo::Column& c : t.columns) names.insert(c.metric);
  }
  TrackerData data;
  for (const std::string& metric : names) AddStoredMonths(url, metric, &data);
  simdjson::dom::parser parser2;
  simdjson::dom::element series;
  if (parser2.parse(*metrics).get(series) != simdjson::SUCCESS ||
      !data.AddApiMetrics(series, names)) {
    std::fprintf(stderr, "vigil: the job's /api/metrics is not a JSON array of series\n");
    return 1;
  }
  Print(TrackerReport(infos, data, format, from, to));
  return 0;
}

// The inputs of a report over a replay or a running job: event files,
// archives or window results files (PATH...), or --url URL; --from/--to,
// --rules and --output among `formats` ("text, markdown or json").
struct ReportInputs {
  JobConfig config;  // the replay: a file source, no console, no HTTP
  std::string url, format = "text";
  std::vector<std::string> files;  // expanded event files, or results files
  bool results = false;            // `files` are window results files
};

// 0 once parsed, else the usage exit code (the message printed).
int ParseReportInputs(Args& a, const std::string& command,
                      const std::vector<std::string_view>& formats, const std::string& formats_text,
                      ReportInputs* in) {
  in->config = DefaultJobConfig();
  in->config.source.kind = SourceKind::kFile;
  in->config.outputs.console = false;
  in->config.http_listen = "";
  std::string err, v;
  std::vector<std::string> paths;
  while (!a.Done()) {
    if (a.Value("--url", &v, &err)) {
      in->url = v;
    } else if (a.Value("--output", &v, &err)) {
      if (std::find(formats.begin(), formats.end(), v) == formats.end()) {
        err = "--output must be " + formats_text;
      }
      in->format = v;
    } else if (a.Value("--from", &v, &err)) {
      RangeBoundFlag(v, &in->config.from, &err);
    } else if (a.Value("--to", &v, &err)) {
      RangeBoundFlag(v, &in->config.to, &err);
    } else if (a.Value("--rules", &v, &err)) {
      in->config.rule_files.push_back(v);
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown(command));
    } else {
      paths.push_back(a.Take());
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (!in->url.empty()) {
    if (!paths.empty()) return Usage(command + " reads files or --url, not both");
    if (!in->config.rule_files.empty()) {
      return Usage(command + " --url shows the rules of the job it asks; --rules is for files");
    }
    return 0;
  }
  if (paths.empty())
    return Usage(command + " needs event files, window results files or --url URL");
  // Unreadable: exit 1, as any input that cannot be read.
  absl::StatusOr<InputKinds> kinds = KindsOf(paths);
  if (!kinds.ok()) return Failed(kinds.status());
  if (!kinds->results.empty() && !kinds->events.empty()) {
    return Usage(StrCat(command, " reads event files or window results files, not both: ",
                        kinds->results, " holds window results, ", kinds->events, " does not"));
  }
  in->results = !kinds->results.empty();
  if (in->results) {
    in->files = paths;
    return 0;
  }
  absl::StatusOr<std::vector<std::string>> files = ExpandEventPaths(paths);
  if (!files.ok()) return Failed(files.status());
  in->config.source.paths = in->files = *files;
  return 0;
}

// Reads window results files into `add`; false after printing why not.
bool ReadResultsFiles(const std::vector<std::string>& files,
                      const std::function<void(const StoredWindow&)>& add) {
  uint64_t malformed = 0;
  for (const std::string& f : files) {
    if (absl::Status s = ReadWindowResults(f, add, &malformed); !s.ok()) {
      std::fprintf(stderr, "vigil: %s: %s\n", f.c_str(), std::string(s.message()).c_str());
      return false;
    }
  }
  if (malformed > 0) {
    std::fprintf(stderr, "vigil: skipped %llu lines that are not window results\n",
                 static_cast<unsigned long long>(malformed));
  }
  return true;
}

// The rules of a report over files; nullopt after printing the errors.
std::optional<RuleLoadResult> ReportRules(const JobConfig& config) {
  RuleLoadResult rules = LoadJobRules(config);
  if (!rules.ok()) {
    for (const Diagnostic& d : rules.errors) std::fprintf(stderr, "%s\n", d.ToString().c_str());
    return std::nullopt;
  }
  return rules;
}

int Tracker(Args& a) {
  ReportInputs in;
  if (int code = ParseReportInputs(a, "report tracker", {"text", "markdown", "json", "html"},
                                   "text, markdown, json or html", &in)) {
    return code;
  }
  if (!in.url.empty()) return TrackerFromJob(in.url, in.format, in.config.from, in.config.to);
  std::optional<RuleLoadResult> rules = ReportRules(in.config);
  if (!rules) return 1;
  const std::vector<TrackerInfo> infos = TrackerInfos(*rules->rules);
  std::set<std::string> names;
  for (const TrackerInfo& t : infos) {
    for (const TrackerInfo::Column& c : t.columns) names.insert(c.metric);
  }
  TrackerData data;
  TimeMs covered_from = kMinTime;
  auto print = [&] {
    std::fputs(
        TrackerReport(infos, data, in.format, in.config.from, in.config.to, covered_from).c_str(),
        stdout);
  };
  if (in.results) {
    if (!ReadResultsFiles(in.files, [&](const StoredWindow& w) {
          if (w.labels.empty() && names.contains(w.metric)) {
            data.Add(w.metric, w.end, w.value, w.partial);
          }
        })) {
      return 1;
    }
    print();
    return 0;
  }
  // Events from --to on are skipped, not missing (the job takes the input
  // to cover event time up to --to when some were); events before --from
  // are missing from the month they fall in. A metric of a session stream
  // or join misses them in the month starting at --from too: the sessions
  // that began before it are cut there.
  covered_from = in.config.from;
  auto sink = std::make_unique<TrackerSink>(names, &data);
  std::set<std::string> from_streams;
  for (const MetricDef& m : rules->rules->metrics) {
    if (m.from >= 0 && names.contains(m.name)) from_streams.insert(m.name);
  }
  sink->CutAt(in.config.from, std::move(from_streams));
  return RunJobFor(in.config, std::move(sink), print);
}

}  // namespace

// `vigil experiment report`: the experiment table from a replay of event
// files, from window results files, or from a running job (--url).
int Experiment(int argc, char** argv) {
  const bool sub = argc > 2 && std::string_view(argv[2]) == "report";
  if (!sub && (argc <= 2 || std::string_view(argv[2]).rfind("--", 0) != 0)) {
    return Usage("experiment needs a subcommand: report");
  }
  Args a(argc, argv, sub ? 3 : 2);
  ReportInputs in;
  if (int code = ParseReportInputs(a, "experiment report", {"text", "markdown", "json"},
                                   "text, markdown or json", &in)) {
    return code;
  }
  if (!in.url.empty()) return ExperimentReportFromJob(in.url, in.format);
  ExperimentResults results;
  std::vector<ExperimentInfo> infos;
  if (in.results) {
    // The outputs are running totals since the experiment's start: the
    // report is the last window that ends by --to.
    if (in.config.from != kMinTime) {
      return Usage(
          "experiment report over window results files takes --to, not --from: its "
          "figures are totals since the experiment's start");
    }
    std::optional<RuleLoadResult> rules = ReportRules(in.config);
    if (!rules) return 1;
    infos = ExperimentInfos(*rules->rules);
    if (!ReadResultsFiles(in.files, [&](const StoredWindow& w) {
          if (w.metric.rfind("experiment_", 0) != 0 || w.end > in.config.to) return;
          std::map<std::string, std::string> labels(w.labels.begin(), w.labels.end());
          results.Add(w.metric, labels, w.value, w.end);
        })) {
      return 1;
    }
    Print(ExperimentReport(infos, results, in.format));
    return 0;
  }
  return RunJobFor(in.config, std::make_unique<ExperimentSink>(&results), [&] {
    RuleLoadResult rules = LoadJobRules(in.config);
    if (rules.ok()) infos = ExperimentInfos(*rules.rules);
    Print(ExperimentReport(infos, results, in.format));
  });
}

int Report(int argc, char** argv) {
  const std::string sub = argc > 2 ? argv[2] : "";
  if (sub == "escalations") {
    Args a(argc, argv, 3);
    return Escalations(a);
  }
  if (sub == "tracker") {
    Args a(argc, argv, 3);
    return Tracker(a);
  }
  // The flag probe of the help test lands here with a flag in place of
  // the subcommand.
  if (sub.rfind("--", 0) == 0) {
    Args escalations(argc, argv, 2);
    (void)Escalations(escalations);
    Args tracker(argc, argv, 2);
    return Tracker(tracker);
  }
  return Usage(sub.empty()
                   ? "report needs a subcommand: escalations or tracker"
                   : StrCat("unknown report '", sub, "'; the reports: escalations, tracker"));
}

}  // namespace vigil::cli
