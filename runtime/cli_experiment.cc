// `vigil experiment report --url URL`: the experiment table of a running
// job, from the definitions in its /api/rules and the latest experiment_*
// series of its /api/metrics (runtime/experiment_report.h); and the GET of
// a running job's API that the reports share.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "base/strings.h"
#include "operators/net/http_client.h"
#include "runtime/cli_args.h"
#include "runtime/experiment_report.h"

namespace vigil::cli {

std::optional<std::string> FetchFromJob(const std::string& url_text, std::string_view path,
                                        bool quiet_404) {
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(url_text);
  if (!url.ok()) {
    std::fprintf(stderr, "vigil: --url: %s\n", std::string(url.status().message()).c_str());
    return std::nullopt;
  }
  std::string target = url->target;
  if (const size_t q = target.find('?'); q != std::string::npos) target.resize(q);
  while (!target.empty() && target.back() == '/') target.pop_back();
  target += path;
  const std::string where = StrCat(url->Origin(), target);
  HttpClient::Options o;
  o.timeout = std::chrono::seconds(5);
  HttpClient client(*url, o);
  absl::StatusOr<HttpClientResponse> r = client.Send("GET", target, "");
  if (!r.ok()) {
    std::fprintf(stderr, "vigil: cannot reach the job at %s: %s\n", where.c_str(),
                 std::string(r.status().message()).c_str());
    return std::nullopt;
  }
  if (r->status == 404 && quiet_404) return std::nullopt;
  if (r->status != 200) {
    std::fprintf(stderr, "vigil: %s answered HTTP %d: %s\n", where.c_str(), r->status,
                 r->body.substr(0, 200).c_str());
    return std::nullopt;
  }
  return std::move(r->body);
}

int ExperimentReportFromJob(const std::string& url_text, const std::string& format) {
  if (!HttpUrl::Parse(url_text).ok()) return Usage(StrCat("--url: '", url_text, "' is not a URL"));
  std::optional<std::string> rules = FetchFromJob(url_text, "/api/rules");
  if (!rules) return 1;
  std::optional<std::string> metrics = FetchFromJob(url_text, "/api/metrics");
  if (!metrics) return 1;
  simdjson::dom::parser parser;
  simdjson::dom::element doc, list;
  std::vector<ExperimentInfo> infos;
  if (parser.parse(*rules).get(doc) != simdjson::SUCCESS ||
      doc["experiments"].get(list) != simdjson::SUCCESS || !ParseExperimentInfos(list, &infos)) {
    std::fprintf(stderr, "vigil: the job's /api/rules has no experiments list (an older vigil?)\n");
    return 1;
  }
  ExperimentResults results;
  simdjson::dom::parser parser2;
  simdjson::dom::element series;
  if (parser2.parse(*metrics).get(series) != simdjson::SUCCESS || !results.AddApiMetrics(series)) {
    std::fprintf(stderr, "vigil: the job's /api/metrics is not a JSON array of series\n");
    return 1;
  }
  Print(ExperimentReport(infos, results, format));
  return 0;
}

}  // namespace vigil::cli
