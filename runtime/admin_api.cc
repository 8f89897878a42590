// The job's HTTP endpoint (runtime/admin_api.h).
#include "runtime/admin_api.h"

#include <charconv>
#include <chrono>
#include <cmath>

#include "base/strings.h"
#include "operators/warehouse/warehouse_query.h"
#include "runtime/history_query.h"

namespace vigil {

extern const std::string_view kStatusPage;

namespace {

// Windows kept per metric and group for /api/metrics?history=N: two hours
// of 1-minute windows, a few kilobytes per series. A series is kept while
// its latest window is among the metric's latest this many window ends.
constexpr size_t kMetricHistory = 120;

// Parses the query of /api/metrics: "" or "history=N" (N is capped at
// kMetricHistory). Returns false with *error set on anything else.
bool ParseMetricsQuery(std::string_view query, size_t* history, std::string* error) {
  *history = 0;
  if (query.empty()) return true;
  for (std::string_view param : StrSplit(query, '&')) {
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    if (key != "history") {
      *error = StrCat("unknown parameter '", key, "' (allowed: history=N)");
      return false;
    }
    size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    // A whole number too large for 64 bits still asks for every window kept.
    if (ec == std::errc::result_out_of_range && end == value.data() + value.size()) {
      n = kMetricHistory;
      ec = std::errc();
    }
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      *error = StrCat("history needs a whole number of windows, not '", value, "'");
      return false;
    }
    *history = std::min(n, kMetricHistory);
  }
  return true;
}

// Parses the query of /-/reload/status: "id=N" with N >= 1.
bool ParseReloadId(std::string_view query, uint64_t* id) {
  std::string_view v = query;
  if (!ConsumePrefix(&v, "id=")) return false;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *id);
  return ec == std::errc() && end == v.data() + v.size() && !v.empty() && *id >= 1;
}

}  // namespace

AdminApi::AdminApi(const JobConfig& config, std::shared_ptr<prometheus::Registry> registry,
                   const Notifier* notifier, std::function<void()> on_reload)
    : listen_(config.http_listen),
      results_database_(config.outputs.results_database),
      registry_(std::move(registry)),
      notifier_(notifier),
      extra_labels_(config.notify.labels),
      on_reload_(std::move(on_reload)),
      stall_(config.readiness.max_watermark_stall) {
  HttpServer::Options options;
  options.read_timeout = std::chrono::milliseconds(config.web.read_timeout);
  options.max_connections = config.web.max_connections;
  options.enable_lifecycle = config.web.enable_lifecycle;
  options.web_config_file = config.web.config_file;
  http_.Configure(std::move(options));
  RegisterHandlers();
}

AdminApi::~AdminApi() { http_.Stop(); }

absl::Status AdminApi::Start() { return http_.Start(listen_); }

void AdminApi::Stop() { http_.Stop(); }

void AdminApi::PublishStatus(std::string json) {
  absl::MutexLock lock(&mu_);
  status_json_ = std::move(json);
}

uint64_t AdminApi::reload_requests() const {
  absl::MutexLock lock(&reload_mu_);
  return reload_asked_;
}

void AdminApi::ReloadAnswered(uint64_t up_to, const absl::Status& status,
                              std::vector<std::string> warnings) {
  absl::MutexLock lock(&reload_mu_);
  // A reload that answers no new request (SIGHUP) leaves the outcomes of
  // those answered before as they were.
  if (up_to <= reload_done_) return;
  reload_done_ = up_to;
  reload_results_.push_back(
      {up_to, status.ok() ? "" : std::string(status.message()), std::move(warnings)});
  if (reload_results_.size() > kKeptReloads) {
    reload_forgotten_ = reload_results_.front().up_to;
    reload_results_.pop_front();
  }
}

void AdminApi::RegisterHandlers() {
  http_.Handle("/metrics", [this, serve = PrometheusHandler(registry_)](const HttpRequest& r) {
    if (on_scrape_) on_scrape_();
    return serve(r);
  });
  // One metric's windows from the results database, as `vigil query`
  // prints them in JSON; on the server's thread (a slow database holds up
  // the other endpoints for at most its connect timeout and the query).
  http_.Handle("/api/query", [this](const HttpRequest& r) { return ServeQuery(r); });
  http_.Handle("/healthz", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "ok\n"};
  });
  http_.Handle("/-/reload", [this](const HttpRequest&) { return AskReload(); }, {"POST"});
  http_.Handle("/-/reload/status", [this](const HttpRequest& r) { return ReloadStatus(r); });
  http_.Handle("/readyz", [this](const HttpRequest&) { return Readiness(); });
  http_.Handle("/api/status", [this](const HttpRequest&) {
    absl::MutexLock lock(&mu_);
    return HttpResponse{200, "application/json", status_json_.empty() ? "{}" : status_json_};
  });
  http_.Handle("/api/metrics", [this](const HttpRequest& r) { return ServeMetrics(r); });
  for (const char* page : {"/", "/status"}) {
    http_.Handle(page, [](const HttpRequest&) {
      return HttpResponse{200, "text/html; charset=utf-8", std::string(kStatusPage)};
    });
  }
  http_.Handle("/api/rules", [this](const HttpRequest&) {
    absl::MutexLock lock(&mu_);
    return HttpResponse{200, "application/json", rules_json_};
  });
  ServeAlerts();
}

HttpResponse AdminApi::ServeQuery(const HttpRequest& request) {
  if (results_database_.empty()) {
    return HttpResponse{404, "text/plain",
                        "this job has no results database (outputs.results.database); "
                        "/api/metrics?history=120 holds its latest windows\n"};
  }
  absl::StatusOr<HistoryQuery> q = ParseHistoryQuery(request.query);
  if (!q.ok()) return HttpResponse{400, "text/plain", std::string(q.status().message()) + "\n"};
  absl::StatusOr<std::vector<StoredWindow>> rows =
      QueryWarehouse(results_database_, q->metric, q->from, q->to);
  if (!rows.ok()) {
    return HttpResponse{503, "text/plain", std::string(rows.status().message()) + "\n"};
  }
  HistoryResult result(*q);
  for (const StoredWindow& w : *rows) result.Add(w);
  return HttpResponse{200, "application/json", result.ToJson()};
}

// Answers at once: a reload of large rule files must not hold /healthz up
// on the server's one thread.
HttpResponse AdminApi::AskReload() {
  uint64_t id = 0;
  {
    absl::MutexLock lock(&reload_mu_);
    id = ++reload_asked_;
  }
  on_reload_();
  const std::string location = StrCat("/-/reload/status?id=", id);
  return HttpResponse{
      202,
      "application/json",
      StrCat("{\"id\":", id, ",\"status\":\"pending\",\"location\":\"", location, "\"}\n"),
      {{"Location", location}}};
}

HttpResponse AdminApi::ReloadStatus(const HttpRequest& request) {
  uint64_t id = 0;
  if (!ParseReloadId(request.query, &id)) {
    return HttpResponse{400, "text/plain", "expected ?id=N, the id POST /-/reload answered\n"};
  }
  absl::MutexLock lock(&reload_mu_);
  if (id > reload_asked_) {
    return HttpResponse{404, "text/plain", StrCat("no reload request ", id, "\n")};
  }
  std::string json = StrCat("{\"id\":", id, ",\"status\":");
  // The reload that answered this request: the first to answer up to it
  // (reloads asked for while one runs are served together by the next).
  auto answered = std::lower_bound(reload_results_.begin(), reload_results_.end(), id,
                                   [](const auto& r, uint64_t n) { return r.up_to < n; });
  if (id > reload_done_) {
    json.append("\"pending\"");
  } else if (id <= reload_forgotten_ || answered == reload_results_.end()) {
    return HttpResponse{404, "text/plain",
                        StrCat("reload request ", id, " is older than the last ", kKeptReloads,
                               " reloads, whose outcomes are kept\n")};
  } else if (answered->error.empty()) {
    json.append("\"succeeded\"");
    if (!answered->warnings.empty()) {
      json.append(",\"warnings\":[");
      for (size_t i = 0; i < answered->warnings.size(); ++i) {
        if (i > 0) json.push_back(',');
        AppendJsonString(answered->warnings[i], &json);
      }
      json.push_back(']');
    }
  } else {
    json.append("\"failed\",\"error\":");
    AppendJsonString(answered->error, &json);
  }
  json.append("}\n");
  return HttpResponse{200, "application/json", std::move(json)};
}

// Stats() locks each target briefly; it never waits for a send.
HttpResponse AdminApi::Readiness() {
  if (!ready_.load()) return HttpResponse{503, "text/plain", "starting\n"};
  if (!source_connected_.load()) {
    return HttpResponse{503, "text/plain", "the source cannot reach its servers\n"};
  }
  if (std::string stall = stall_.Check(); !stall.empty()) {
    return HttpResponse{503, "text/plain", stall + "\n"};
  }
  if (std::string archive = ArchiveProblem(); !archive.empty()) {
    return HttpResponse{503, "text/plain", archive + "\n"};
  }
  if (const Notifier* notifier = notifier_.load(); notifier != nullptr) {
    if (std::string paging = PagingReadiness(notifier->Stats()); !paging.empty()) {
      return HttpResponse{503, "text/plain", paging + "\n"};
    }
  }
  return HttpResponse{200, "text/plain", "ready\n"};
}

HttpResponse AdminApi::ServeMetrics(const HttpRequest& request) {
  size_t history = 0;
  std::string error;
  if (!ParseMetricsQuery(request.query, &history, &error)) {
    return HttpResponse{400, "text/plain", error + "\n"};
  }
  std::string json = "[";
  absl::MutexLock lock(&mu_);
  bool first = true;
  for (const auto& [key, series] : latest_windows_) {
    if (!first) json.push_back(',');
    first = false;
    if (history == 0) {
      json += series.latest;
      continue;
    }
    json.append(series.latest, 0, series.latest.size() - 1);  // without its '}'
    json.append(",\"history\":[");
    const size_t skip = series.history.size() - std::min(history, series.history.size());
    for (size_t i = skip; i < series.history.size(); ++i) {
      if (i > skip) json.push_back(',');
      json.append("{\"end\":\"");
      AppendTimestamp(series.history[i].first, &json);
      json.append("\",\"value\":");
      AppendJsonNumber(series.history[i].second, &json);
      json.push_back('}');
    }
    json.append("]}");
  }
  json.push_back(']');
  return HttpResponse{200, "application/json", json};
}

void AdminApi::RecordWindows(const std::vector<WindowResult>& results) {
  if (results.empty()) return;
  absl::MutexLock lock(&mu_);
  for (const WindowResult& r : results) {
    std::string key = StrCat(r.def->name, "\x1f", r.group);
    SeriesWindows& series = latest_windows_[key];
    series.latest.clear();
    AppendWindowJson(r, &series.latest);
    // As the status page shows it: "value_text" in the metric's format.
    auto format = metric_formats_.find(r.def->name);
    series.latest.pop_back();
    series.latest.append(",\"value_text\":");
    AppendJsonString(FormatValue(r.value, format == metric_formats_.end() ? ValueFormat::kNumber
                                                                          : format->second),
                     &series.latest);
    series.latest.push_back('}');
    series.latest_end = r.end;
    if (series.history.size() == kMetricHistory) series.history.pop_front();
    series.history.emplace_back(r.end, r.value);
    std::deque<EndSeries>& ends = recent_ends_[r.def->name];
    if (ends.empty() || r.end > ends.back().end) ends.push_back({r.end, {}});
    ends.back().keys.push_back(std::move(key));
    if (ends.size() <= kMetricHistory) continue;
    // The oldest end leaves: so do the series whose latest window it was.
    const EndSeries gone = std::move(ends.front());
    ends.pop_front();
    for (const std::string& k : gone.keys) {
      auto it = latest_windows_.find(k);
      if (it != latest_windows_.end() && it->second.latest_end < ends.front().end) {
        latest_windows_.erase(it);
      }
    }
  }
}

void AdminApi::PublishRules(const RuleSet& rules) {
  std::string json = RulesJson(rules);
  const DisplayFormats formats = DisplayFormats::Of(rules);
  absl::MutexLock lock(&mu_);
  rules_json_ = std::move(json);
  metric_formats_.clear();
  for (size_t i = 0; i < rules.metrics.size(); ++i) {
    metric_formats_[rules.metrics[i].name] = formats.metric[i];
  }
  alert_formats_.clear();
  for (size_t i = 0; i < rules.alerts.size(); ++i) {
    alert_formats_[rules.alerts[i].name] = formats.alert[i];
  }
  // Metrics that are gone keep no stale latest window.
  for (auto it = latest_windows_.begin(); it != latest_windows_.end();) {
    const std::string name = it->first.substr(0, it->first.find('\x1f'));
    if (rules.FindMetric(name)) {
      ++it;
    } else {
      it = latest_windows_.erase(it);
    }
  }
  for (auto it = recent_ends_.begin(); it != recent_ends_.end();) {
    it = rules.FindMetric(it->first) ? std::next(it) : recent_ends_.erase(it);
  }
}

}  // namespace vigil
