// `vigil report escalations`: the monthly escalation review
// (runtime/escalation_review.h) from event files or archives: the NDJSON of
// every escalated session of the month, and a summary per review category.
// `vigil report tracker`: the monthly improvement table
// (runtime/tracker_report.h) from a replay or a running job.
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "runtime/cli_args.h"
#include "runtime/escalation_review.h"
#include "runtime/job.h"
#include "runtime/replay.h"
#include "runtime/tracker_report.h"

namespace vigil::cli {
namespace {

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
      return Usage(a.Unknown("report"));
    } else {
      paths.push_back(a.Take());
    }
    if (!err.empty()) return Usage(err);
  }
  if (month.empty()) return Usage("report escalations needs --month YYYY-MM");
  if (paths.empty()) return Usage("report escalations needs event files or directories");
  absl::StatusOr<MonthRange> range = ParseMonth(month, zone);
  if (!range.ok()) return Usage(std::string(range.status().message()));
  absl::StatusOr<std::vector<std::string>> files = ExpandEventPaths(paths);
  if (!files.ok()) return Usage(std::string(files.status().message()));
  EscalationReview review(*range);
  if (absl::Status s = review.Read(*files); !s.ok()) {
    std::fprintf(stderr, "vigil: %s\n", std::string(s.message()).c_str());
    return 1;
  }
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
  std::fputs(review.Summary(format).c_str(), summary);
  if (format == "text" && !out_path.empty() && out_path != "-") {
    std::fprintf(summary, "\nwrote %zu sessions with their turns to %s\n", review.sessions().size(),
                 out_path.c_str());
  }
  return 0;
}

// `vigil report tracker --url URL`: the job's /api/rules and
// /api/metrics?history=120.
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
  simdjson::dom::parser parser2;
  simdjson::dom::element series;
  if (parser2.parse(*metrics).get(series) != simdjson::SUCCESS ||
      !data.AddApiMetrics(series, names)) {
    std::fprintf(stderr, "vigil: the job's /api/metrics is not a JSON array of series\n");
    return 1;
  }
  std::fputs(TrackerReport(infos, data, format, from, to).c_str(), stdout);
  return 0;
}

int Tracker(Args& a) {
  JobConfig config = DefaultJobConfig();
  config.source.kind = SourceKind::kFile;
  config.outputs.console = false;
  config.http_listen = "";
  std::string format = "text", url, err, v;
  std::vector<std::string> paths;
  while (!a.Done()) {
    if (a.Value("--url", &v, &err)) {
      url = v;
    } else if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "markdown" && v != "json" && v != "html") {
        err = "--output must be text, markdown, json or html";
      }
      format = v;
    } else if (a.Value("--from", &v, &err)) {
      TimeFlag(v, &config.from, &err);
    } else if (a.Value("--to", &v, &err)) {
      TimeFlag(v, &config.to, &err);
    } else if (a.Value("--rules", &v, &err)) {
      config.rule_files.push_back(v);
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown("report"));
    } else {
      paths.push_back(a.Take());
    }
    if (!err.empty()) return Usage(err);
  }
  if (!url.empty()) {
    if (!paths.empty()) return Usage("report tracker reads event files or --url, not both");
    return TrackerFromJob(url, format, config.from, config.to);
  }
  if (paths.empty()) return Usage("report tracker needs event files or --url URL");
  absl::StatusOr<std::vector<std::string>> files = ExpandEventPaths(paths);
  if (!files.ok()) return Usage(std::string(files.status().message()));
  config.source.paths = *files;
  RuleLoadResult rules = LoadJobRules(config);
  if (!rules.ok()) {
    for (const Diagnostic& d : rules.errors) std::fprintf(stderr, "%s\n", d.ToString().c_str());
    return 1;
  }
  const std::vector<TrackerInfo> infos = TrackerInfos(*rules.rules);
  std::set<std::string> names;
  for (const TrackerInfo& t : infos) {
    for (const TrackerInfo::Column& c : t.columns) names.insert(c.metric);
  }
  TrackerData data;
  return RunJobFor(config, std::make_unique<TrackerSink>(names, &data), [&] {
    std::fputs(TrackerReport(infos, data, format, config.from, config.to).c_str(), stdout);
  });
}

}  // namespace

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
