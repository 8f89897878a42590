// Job: the admin API's JSON snapshots (runtime/job.h). The job thread builds
// them; HTTP handlers only copy the latest under a mutex.
//
//   /api/status   source, inputs (partitions/shards) with watermark, idleness
//                 and lag, job watermark, counters, last checkpoint, rules,
//                 watermark stall (/readyz freshness)
//   /api/metrics  the latest closed window of every metric and group; with
//                 ?history=N also the (end, value) of its last N windows
//   /api/rules    rule files, metrics and alerts as loaded
//   / and /status the status page (runtime/status_page.html, embedded at
//                 build time), a client of the three above and /readyz
//   /readyz       503 while starting, while the source cannot reach its
//                 servers, while the watermark is stale, or while a paging
//                 spool cannot be written (runtime/readiness.h), with why
//   POST /-/reload  asks the job thread to reload the rules and answers 202
//                 at once with the request's id; GET /-/reload/status?id=N
//                 tells whether it is pending, succeeded or failed (and why)
//
// RegisterAdminApi also applies the job's `http` settings (web config,
// lifecycle, connection cap, timeouts) to the server before it starts.
#include <charconv>
#include <chrono>
#include <cmath>

#include "base/strings.h"
#include "rules/value.h"
#include "runtime/job.h"

namespace vigil {

extern const std::string_view kStatusPage;

namespace {

// Windows kept per metric and group for /api/metrics?history=N: two hours
// of 1-minute windows, a few kilobytes per series.
constexpr size_t kMetricHistory = 120;

void AppendNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  AppendValueText(Value::Number(v), out);
}

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
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      *error = StrCat("history needs a whole number of windows, not '", value, "'");
      return false;
    }
    *history = std::min(n, kMetricHistory);
  }
  return true;
}

// The input that holds a live job's watermark back: active, not idle, and
// the lowest; "" when none does or no input has delivered data yet.
std::string WatermarkHolder(const RecordSource& source, const WatermarkTracker& watermark) {
  if (source.bounded()) return "";
  const int n = std::min(source.input_count(), watermark.input_count());
  bool data = false;
  int holder = -1;
  for (int i = 0; i < n; ++i) {
    if (!source.input_active(i)) continue;
    if (watermark.InputMaxTs(i) != kMinTime) data = true;
    if (watermark.idle(i)) continue;
    if (holder < 0 || watermark.InputWatermark(i) < watermark.InputWatermark(holder)) holder = i;
  }
  return data && holder >= 0 ? source.input_name(holder) : "";
}

void AppendTime(TimeMs t, std::string* out) {
  if (t == kMinTime || t == kMaxTime) {
    out->append("null");
    return;
  }
  out->push_back('"');
  AppendTimestamp(t, out);
  out->push_back('"');
}

// Parses the query of /-/reload/status: "id=N" with N >= 1.
bool ParseReloadId(std::string_view query, uint64_t* id) {
  std::string_view v = query;
  if (!ConsumePrefix(&v, "id=")) return false;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *id);
  return ec == std::errc() && end == v.data() + v.size() && !v.empty() && *id >= 1;
}

}  // namespace

void Job::RegisterAdminApi() {
  HttpServer::Options options;
  options.read_timeout = std::chrono::milliseconds(config_.web.read_timeout);
  options.max_connections = config_.web.max_connections;
  options.enable_lifecycle = config_.web.enable_lifecycle;
  options.web_config_file = config_.web.config_file;
  http_->Configure(std::move(options));

  // Replaces the handler that waited for the job thread on the server's one
  // thread: a reload of large rule files would hold /healthz up with it.
  http_->Handle(
      "/-/reload",
      [this](const HttpRequest&) {
        uint64_t id = 0;
        {
          absl::MutexLock lock(&reload_mu_);
          id = ++reload_asked_;
        }
        reload_requested_.store(true);
        const std::string location = StrCat("/-/reload/status?id=", id);
        return HttpResponse{
            202,
            "application/json",
            StrCat("{\"id\":", id, ",\"status\":\"pending\",\"location\":\"", location, "\"}\n"),
            {{"Location", location}}};
      },
      {"POST"});
  http_->Handle("/-/reload/status", [this](const HttpRequest& request) {
    uint64_t id = 0;
    if (!ParseReloadId(request.query, &id)) {
      return HttpResponse{400, "text/plain", "expected ?id=N, the id POST /-/reload answered\n"};
    }
    absl::MutexLock lock(&reload_mu_);
    if (id > reload_asked_) {
      return HttpResponse{404, "text/plain", StrCat("no reload request ", id, "\n")};
    }
    std::string json = StrCat("{\"id\":", id, ",\"status\":");
    if (id > reload_done_) {
      json.append("\"pending\"");
    } else if (reload_result_.empty()) {
      json.append("\"succeeded\"");
    } else {
      // The latest reload that covered this request: reloads asked for
      // while one runs are served together by the next.
      json.append("\"failed\",\"error\":");
      AppendJsonString(reload_result_, &json);
    }
    json.append("}\n");
    return HttpResponse{200, "application/json", std::move(json)};
  });
  // Replaces the /readyz of Job::Init with the same checks plus the paging
  // spools. Stats() locks each target briefly; it never waits for a send.
  http_->Handle("/readyz", [this](const HttpRequest&) {
    if (!ready_.load()) return HttpResponse{503, "text/plain", "starting\n"};
    if (!source_connected_.load()) {
      return HttpResponse{503, "text/plain", "the source cannot reach its servers\n"};
    }
    if (std::string stall = stall_.Check(); !stall.empty()) {
      return HttpResponse{503, "text/plain", stall + "\n"};
    }
    if (notifier_ != nullptr) {
      if (std::string paging = PagingReadiness(notifier_->Stats()); !paging.empty()) {
        return HttpResponse{503, "text/plain", paging + "\n"};
      }
    }
    return HttpResponse{200, "text/plain", "ready\n"};
  });
  http_->Handle("/api/status", [this](const HttpRequest&) {
    absl::MutexLock lock(&admin_mu_);
    return HttpResponse{200, "application/json", status_json_.empty() ? "{}" : status_json_};
  });
  http_->Handle("/api/metrics", [this](const HttpRequest& request) {
    size_t history = 0;
    std::string error;
    if (!ParseMetricsQuery(request.query, &history, &error)) {
      return HttpResponse{400, "text/plain", error + "\n"};
    }
    std::string json = "[";
    absl::MutexLock lock(&admin_mu_);
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
        AppendNumber(series.history[i].second, &json);
        json.push_back('}');
      }
      json.append("]}");
    }
    json.push_back(']');
    return HttpResponse{200, "application/json", json};
  });
  for (const char* page : {"/", "/status"}) {
    http_->Handle(page, [](const HttpRequest&) {
      return HttpResponse{200, "text/html; charset=utf-8", std::string(kStatusPage)};
    });
  }
  http_->Handle("/api/rules", [this](const HttpRequest&) {
    absl::MutexLock lock(&admin_mu_);
    return HttpResponse{200, "application/json", rules_json_};
  });
}

void Job::RecordLatestWindows() {
  if (!http_ || results_.empty()) return;
  absl::MutexLock lock(&admin_mu_);
  for (const WindowResult& r : results_) {
    SeriesWindows& series = latest_windows_[StrCat(r.def->name, "\x1f", r.group)];
    series.latest.clear();
    AppendWindowJson(r, &series.latest);
    if (series.history.size() == kMetricHistory) series.history.pop_front();
    series.history.emplace_back(r.end, r.value);
  }
}

void Job::PublishRules() {
  if (!http_) return;
  std::string json = "{\"files\":[";
  for (size_t i = 0; i < rules_->files.size(); ++i) {
    if (i) json.push_back(',');
    AppendJsonString(rules_->files[i], &json);
  }
  json.append("],\"streams\":[");
  for (size_t i = 0; i < rules_->streams.size(); ++i) {
    const StreamDef& st = rules_->streams[i];
    if (i) json.push_back(',');
    json.append("{\"name\":");
    AppendJsonString(st.name, &json);
    json.append(",\"key\":");
    AppendJsonString(st.key_path, &json);
    StrAppend(&json, ",\"gap_ms\":", st.gap, ",\"where\":");
    AppendJsonString(st.where_source, &json);
    json.append(",\"fields\":[");
    for (int f = 0; f < st.fields.size(); ++f) {
      if (f) json.push_back(',');
      AppendJsonString(st.fields.path(f), &json);
    }
    json.append("],\"help\":");
    AppendJsonString(st.help, &json);
    json.push_back('}');
  }
  json.append("],\"metrics\":[");
  for (size_t i = 0; i < rules_->metrics.size(); ++i) {
    const MetricDef& m = rules_->metrics[i];
    if (i) json.push_back(',');
    json.append("{\"name\":");
    AppendJsonString(m.name, &json);
    if (m.from >= 0) {
      json.append(",\"from\":");
      AppendJsonString(rules_->streams[m.from].name, &json);
    }
    json.append(",\"window\":");
    AppendJsonString(m.window.ToString(), &json);
    json.append(",\"by\":[");
    for (size_t j = 0; j < m.by.size(); ++j) {
      if (j) json.push_back(',');
      AppendJsonString(m.by[j], &json);
    }
    json.append("],\"where\":");
    AppendJsonString(m.where_source, &json);
    json.append(",\"value\":");
    AppendJsonString(m.value_source, &json);
    json.append(",\"help\":");
    AppendJsonString(m.help, &json);
    json.push_back('}');
  }
  json.append("],\"alerts\":[");
  for (size_t i = 0; i < rules_->alerts.size(); ++i) {
    const AlertDef& a = rules_->alerts[i];
    if (i) json.push_back(',');
    json.append("{\"name\":");
    AppendJsonString(a.name, &json);
    StrAppend(&json, ",\"severity\":\"", SeverityName(a.severity), "\",\"expr\":");
    AppendJsonString(a.expr_source, &json);
    json.append(",\"for\":");
    AppendJsonString(FormatDuration(a.for_duration), &json);
    json.append(",\"labels\":");
    AppendJsonObject(a.labels, &json);
    json.push_back('}');
  }
  json.append("]}");
  absl::MutexLock lock(&admin_mu_);
  rules_json_ = std::move(json);
  // Metrics that are gone keep no stale latest window.
  for (auto it = latest_windows_.begin(); it != latest_windows_.end();) {
    const std::string name = it->first.substr(0, it->first.find('\x1f'));
    if (rules_->FindMetric(name)) {
      ++it;
    } else {
      it = latest_windows_.erase(it);
    }
  }
}

void Job::PublishStatus(TimeMs now) {
  if (!http_) return;
  std::string json = "{\"source\":";
  AppendJsonString(source_->name(), &json);
  StrAppend(&json, ",\"bounded\":", source_->bounded(), ",\"connected\":", source_->connected(),
            ",\"inputs\":[");
  const int n = std::min(source_->input_count(), watermark_->input_count());
  for (int i = 0; i < n; ++i) {
    if (i) json.push_back(',');
    json.append("{\"name\":");
    AppendJsonString(source_->input_name(i), &json);
    StrAppend(&json, ",\"active\":", source_->input_active(i), ",\"idle\":", watermark_->idle(i),
              ",\"watermark\":");
    AppendTime(watermark_->InputWatermark(i), &json);
    const int64_t lag = source_->input_lag(i);
    if (lag >= 0) StrAppend(&json, ",\"lag\":", lag, ",\"lag_unit\":\"", source_->lag_unit(), "\"");
    json.push_back('}');
  }
  json.append("],\"watermark\":");
  AppendTime(merge_ ? MergeWatermark(false) : watermark_->Current(), &json);
  json.append(",\"frontier\":");
  AppendTime(frontier_, &json);
  StrAppend(&json, ",\"records\":", summary_.records, ",\"processed\":", summary_.processed,
            ",\"dead_lettered\":", summary_.dead_lettered, ",\"late\":", summary_.late,
            ",\"windows\":", summary_.windows,
            ",\"uptime_seconds\":", static_cast<double>(now - started_) / 1000.0);
  if (checkpoints_) {
    json.append(",\"checkpoint\":{\"dir\":");
    AppendJsonString(checkpoints_->dir(), &json);
    StrAppend(&json, ",\"epoch\":", epoch_, ",\"age_seconds\":");
    if (last_checkpoint_ok_ > 0) {
      StrAppend(&json, static_cast<double>(now - last_checkpoint_ok_) / 1000.0);
    } else {
      json.append("null");
    }
    json.push_back('}');
  }
  StrAppend(&json, ",\"rules\":{\"metrics\":", rules_->metrics.size(),
            ",\"alerts\":", rules_->alerts.size(), "}");
  if (partials_) {
    json.append(",\"scale_out\":{\"role\":\"instance\",\"instance_id\":");
    AppendJsonString(instance_id_, &json);
    json.append(",\"partials_topic\":");
    AppendJsonString(partials_->topic(), &json);
    StrAppend(&json, ",\"publications\":", partials_->publications(), "}");
  } else if (merge_) {
    json.append(",\"scale_out\":{\"role\":\"merge\",\"instances\":[");
    bool first = true;
    for (const std::string& id : merge_->Instances()) {
      if (!first) json.push_back(',');
      first = false;
      AppendJsonString(id, &json);
    }
    StrAppend(&json, "],\"late_panes\":", merge_->late_panes(), "}");
  }
  AppendWatermarkStall(now, &json);
  json.push_back('}');
  absl::MutexLock lock(&admin_mu_);
  status_json_ = std::move(json);
}

void Job::AppendWatermarkStall(TimeMs now, std::string* json) {
  stall_.Observe(watermark_->Current(), WatermarkHolder(*source_, *watermark_), summary_.processed,
                 now);
  const double seconds = static_cast<double>(stall_.stalled()) / 1000.0;
  metrics_->SetWatermarkStall(seconds, stall_.over());
  StrAppend(json, ",\"watermark_stall\":{\"seconds\":", seconds,
            ",\"max_seconds\":", static_cast<double>(stall_.max_stall()) / 1000.0,
            ",\"stalled\":", stall_.over(), "}");
}

}  // namespace vigil
