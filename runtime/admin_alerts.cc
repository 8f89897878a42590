// AdminApi: /api/alerts and /api/alerts/history, the active alerts and
// their recent transitions, each with the fingerprint notifications carry
// (so a page's generatorURL finds its alert) and its value as a person
// reads it.
#include <charconv>

#include "base/strings.h"
#include "operators/notify/notify_payload.h"
#include "operators/sink/output_sinks.h"
#include "runtime/admin_api.h"

namespace vigil {
namespace {

// Transitions kept for /api/alerts/history: a few days of a busy rule file's
// incidents, about 1 KiB each.
constexpr size_t kTransitionHistory = 500;

struct AlertQuery {
  std::string fingerprint;  // "" = every alert
  size_t limit = kTransitionHistory;
};

// "fingerprint=F" (and, with `limit`, "limit=N"), '&'-separated.
bool ParseAlertQuery(std::string_view query, bool limit, AlertQuery* out, std::string* error) {
  const std::string_view allowed = limit ? "fingerprint=F, limit=N" : "fingerprint=F";
  for (std::string_view param : StrSplit(query, '&')) {
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    if (key == "fingerprint") {
      out->fingerprint = std::string(value);
    } else if (key == "limit" && limit) {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out->limit);
      if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
        *error = StrCat("limit needs a whole number of transitions, not '", value, "'");
        return false;
      }
    } else {
      *error = StrCat("unknown parameter '", key, "' (allowed: ", allowed, ")");
      return false;
    }
  }
  return true;
}

}  // namespace

std::string AlertSnapshotJson(const AlertNotice& n, std::string_view fingerprint,
                              ValueFormat format) {
  std::string json;
  AppendAlertJson(n, &json);
  json.pop_back();  // '}'
  StrAppend(&json, ",\"fingerprint\":\"", fingerprint, "\",\"window\":");
  AppendJsonString(n.window, &json);
  json.append(",\"value_text\":");
  AppendJsonString(FormatValue(n.value, format), &json);
  json.push_back('}');
  return json;
}

AdminApi::AlertJson AdminApi::Snapshot(const AlertNotice& n) const {
  auto format = alert_formats_.find(n.def->name);
  std::string fingerprint = AlertFingerprint(NotificationLabels(n.labels, extra_labels_));
  std::string json = AlertSnapshotJson(
      n, fingerprint, format == alert_formats_.end() ? ValueFormat::kNumber : format->second);
  return {std::move(fingerprint), std::move(json)};
}

void AdminApi::PublishAlerts(const std::vector<AlertNotice>& active) {
  absl::MutexLock lock(&mu_);
  alerts_.clear();
  for (const AlertNotice& n : active) alerts_.push_back(Snapshot(n));
}

void AdminApi::RecordTransitions(const std::vector<AlertNotice>& notices) {
  if (notices.empty()) return;
  absl::MutexLock lock(&mu_);
  for (const AlertNotice& n : notices) {
    if (transitions_.size() == kTransitionHistory) transitions_.pop_front();
    transitions_.push_back(Snapshot(n));
  }
}

void AdminApi::ServeAlerts() {
  http_.Handle("/api/alerts", [this](const HttpRequest& request) {
    AlertQuery q;
    std::string error;
    if (!ParseAlertQuery(request.query, /*limit=*/false, &q, &error)) {
      return HttpResponse{400, "text/plain", error + "\n"};
    }
    std::string json = "[";
    absl::MutexLock lock(&mu_);
    for (const AlertJson& a : alerts_) {
      if (!q.fingerprint.empty() && a.fingerprint != q.fingerprint) continue;
      if (json.size() > 1) json.push_back(',');
      json += a.json;
    }
    json.push_back(']');
    return HttpResponse{200, "application/json", std::move(json)};
  });
  http_.Handle("/api/alerts/history", [this](const HttpRequest& request) {
    AlertQuery q;
    std::string error;
    if (!ParseAlertQuery(request.query, /*limit=*/true, &q, &error)) {
      return HttpResponse{400, "text/plain", error + "\n"};
    }
    absl::MutexLock lock(&mu_);
    // The newest `limit` that match, oldest first.
    std::vector<const AlertJson*> picked;
    for (auto it = transitions_.rbegin(); it != transitions_.rend() && picked.size() < q.limit;
         ++it) {
      if (q.fingerprint.empty() || it->fingerprint == q.fingerprint) picked.push_back(&*it);
    }
    std::string json = "[";
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
      if (json.size() > 1) json.push_back(',');
      json += (*it)->json;
    }
    json.push_back(']');
    return HttpResponse{200, "application/json", std::move(json)};
  });
}

}  // namespace vigil
