#include "operators/notify/notify_payload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "base/codec.h"
#include "base/strings.h"

namespace vigil {

std::string AlertFingerprint(const Labels& labels) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    h *= 0x100000001b3ULL;
  };
  for (const auto& [name, value] : labels) {  // std::map: sorted by name
    mix(name);
    mix(value);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

namespace {

// Version 2 added resolved_value; version 1 entries (spools written before)
// still decode.
constexpr uint8_t kEncodingVersion = 2;

void AppendNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    // JSON has no NaN or infinities; receivers get them as strings.
    AppendJsonString(std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"), out);
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(p - buf));
}

void AppendTime(TimeMs t, std::string* out) {
  out->push_back('"');
  AppendTimestamp(t, out);
  out->push_back('"');
}

// [startsAt, endsAt] as Alertmanager should see them (see the header).
std::pair<TimeMs, TimeMs> AlertmanagerTimes(const Notification& a, const PayloadContext& ctx) {
  if (a.firing) return {std::min(a.fired_at, ctx.now), ctx.now + 4 * ctx.resend_interval};
  if (a.at <= ctx.now) return {std::min(a.fired_at, a.at), a.at};
  if (a.fired_at < ctx.now) return {a.fired_at, ctx.now};
  return {ctx.now - std::max<DurationMs>(a.at - a.fired_at, 0), ctx.now};
}

// The annotations sent to Alertmanager and webhooks: a resolved alert's
// also carry the value that resolved it.
std::vector<std::pair<std::string, std::string>> SentAnnotations(const Notification& a) {
  std::vector<std::pair<std::string, std::string>> out = a.annotations;
  if (a.resolved_value) {
    std::string v;
    if (std::isfinite(*a.resolved_value)) {
      AppendNumber(*a.resolved_value, &v);
    } else {
      v = std::isnan(*a.resolved_value) ? "NaN" : (*a.resolved_value > 0 ? "+Inf" : "-Inf");
    }
    out.emplace_back("resolved_value", std::move(v));
  }
  return out;
}

// Truncates to at most `max` bytes without splitting a UTF-8 sequence.
std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  s.resize(n);
  return s;
}

std::string LabelsText(const Labels& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) {
    if (k != "alertname") parts.push_back(StrCat(k, "=", v));
  }
  return StrCat("{", StrJoin(parts, ", "), "}");
}

}  // namespace

std::string Notification::Encode() const {
  Encoder enc;
  enc.PutByte(kEncodingVersion);
  enc.PutByte(firing ? 1 : 0);
  enc.PutVarint(labels.size());
  for (const auto& [k, v] : labels) {
    enc.PutString(k);
    enc.PutString(v);
  }
  enc.PutVarint(annotations.size());
  for (const auto& [k, v] : annotations) {
    enc.PutString(k);
    enc.PutString(v);
  }
  enc.PutByte(static_cast<uint8_t>(severity));
  enc.PutSigned(fired_at);
  enc.PutSigned(at);
  enc.PutDouble(value);
  enc.PutString(window);
  enc.PutString(condition);
  enc.PutString(fingerprint);
  enc.PutByte(resolved_value ? 1 : 0);
  if (resolved_value) enc.PutDouble(*resolved_value);
  return enc.Release();
}

std::optional<Notification> Notification::Decode(std::string_view data) {
  Decoder dec(data);
  const uint8_t version = dec.GetByte();
  if (version != 1 && version != kEncodingVersion) return std::nullopt;
  Notification a;
  a.firing = dec.GetByte() != 0;
  for (uint64_t n = dec.GetVarint(); dec.ok() && n > 0; --n) {
    std::string k(dec.GetString());
    a.labels[k] = std::string(dec.GetString());
  }
  for (uint64_t n = dec.GetVarint(); dec.ok() && n > 0; --n) {
    std::string k(dec.GetString());
    a.annotations.emplace_back(std::move(k), std::string(dec.GetString()));
  }
  a.severity = dec.GetByte();
  a.fired_at = dec.GetSigned();
  a.at = dec.GetSigned();
  a.value = dec.GetDouble();
  a.window = std::string(dec.GetString());
  a.condition = std::string(dec.GetString());
  a.fingerprint = std::string(dec.GetString());
  if (version >= 2 && dec.GetByte() != 0) a.resolved_value = dec.GetDouble();
  if (!dec.ok() || !dec.empty() || a.severity < 1 || a.severity > 4) return std::nullopt;
  return a;
}

std::string_view Notification::Annotation(std::string_view name) const {
  for (const auto& [k, v] : annotations) {
    if (k == name) return v;
  }
  return {};
}

Labels NotificationLabels(const Labels& labels, const Labels& extra) {
  Labels out;
  // An empty label is no label, as in Prometheus and Alertmanager (whose
  // fingerprint leaves it out).
  for (const auto& [k, v] : labels) {
    if (!v.empty()) out.emplace(k, v);
  }
  for (const auto& [k, v] : extra) {
    if (!v.empty()) out.emplace(k, v);  // the alert's own label wins
  }
  return out;
}

Notification MakeNotification(const AlertNotice& notice, const Labels& extra) {
  Notification a;
  a.firing = notice.transition != Transition::kResolved;
  a.labels = NotificationLabels(notice.labels, extra);
  a.annotations = notice.annotations;
  if (notice.def != nullptr) {
    a.severity = static_cast<int>(notice.def->severity);
    a.condition = notice.def->expr_source;
  } else if (auto it = notice.labels.find("severity");
             it != notice.labels.end() && it->second.size() == 2 && it->second[0] == 'P' &&
             it->second[1] >= '1' && it->second[1] <= '4') {
    a.severity = it->second[1] - '0';
  }
  a.at = notice.at;
  a.fired_at = notice.fired_at == kMinTime ? notice.at : notice.fired_at;
  a.value = notice.value;
  a.resolved_value = notice.resolved_value;
  a.window = notice.window;
  a.fingerprint = AlertFingerprint(a.labels);
  return a;
}

std::string GeneratorUrl(std::string_view external_url, std::string_view fingerprint) {
  if (external_url.empty()) return "";
  return StrCat(external_url, "/status?fingerprint=", fingerprint);
}

std::string AlertmanagerAlertsJson(const std::vector<Notification>& alerts,
                                   const PayloadContext& ctx) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Notification& a = alerts[i];
    if (i > 0) out.push_back(',');
    auto [starts, ends] = AlertmanagerTimes(a, ctx);
    out += "{\"labels\":";
    AppendJsonObject(a.labels, &out);
    out += ",\"annotations\":";
    AppendJsonObject(SentAnnotations(a), &out);
    out += ",\"startsAt\":";
    AppendTime(starts, &out);
    out += ",\"endsAt\":";
    AppendTime(ends, &out);
    out += ",\"generatorURL\":";
    AppendJsonString(GeneratorUrl(ctx.external_url, a.fingerprint), &out);
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string_view PagerDutySeverity(int severity) {
  switch (severity) {
    case 1:
      return "critical";
    case 2:
      return "error";
    case 3:
      return "warning";
    default:
      return "info";
  }
}

std::string ConditionThreshold(std::string_view condition) {
  condition = Strip(condition);
  size_t i = condition.size();
  while (i > 0 && condition[i - 1] != '<' && condition[i - 1] != '>' && condition[i - 1] != '=') {
    --i;
  }
  if (i == 0) return "";
  std::string_view rest = Strip(condition.substr(i));
  double v = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (rest.empty() || ec != std::errc() || p != rest.data() + rest.size()) return "";
  return std::string(rest);
}

namespace {

std::string PagerDutySummary(const Notification& a) {
  std::string summary(a.Annotation("summary"));
  if (summary.empty()) {
    auto name = a.labels.find("alertname");
    summary = StrCat(name == a.labels.end() ? "alert" : name->second, " ", LabelsText(a.labels));
  }
  return Truncate(std::move(summary), 1024);  // the API's limit
}

std::string PagerDutySource(const Labels& labels) {
  if (auto it = labels.find("instance"); it != labels.end()) return it->second;
  if (auto it = labels.find("job"); it != labels.end()) return it->second;
  return "vigil";
}

void AppendPagerDutyDetails(const Notification& a, std::string_view runbook,
                            const PayloadContext& ctx, std::string* out) {
  *out += "{\"value\":";
  AppendNumber(a.value, out);
  if (a.resolved_value) {
    *out += ",\"resolved_value\":";
    AppendNumber(*a.resolved_value, out);
  }
  *out += ",\"window\":";
  AppendJsonString(a.window, out);
  *out += ",\"condition\":";
  AppendJsonString(a.condition, out);
  if (std::string t = ConditionThreshold(a.condition); !t.empty()) {
    *out += ",\"threshold\":";
    AppendJsonString(t, out);
  }
  if (!runbook.empty()) {
    *out += ",\"runbook\":";
    AppendJsonString(runbook, out);
  }
  *out += ",\"fired_at\":";
  AppendTime(std::min(a.fired_at, ctx.now), out);
  *out += ",\"labels\":";
  AppendJsonObject(a.labels, out);
  *out += ",\"annotations\":";
  AppendJsonObject(a.annotations, out);
  out->push_back('}');
}

void AppendPagerDutyLinks(const Notification& a, std::string_view runbook,
                          const PayloadContext& ctx, std::string* out) {
  *out += "[";
  bool first = true;
  if (!ctx.external_url.empty()) {
    *out += "{\"href\":";
    AppendJsonString(GeneratorUrl(ctx.external_url, a.fingerprint), out);
    *out += ",\"text\":\"vigil alert\"}";
    first = false;
  }
  if (runbook.starts_with("http://") || runbook.starts_with("https://")) {
    if (!first) out->push_back(',');
    *out += "{\"href\":";
    AppendJsonString(runbook, out);
    *out += ",\"text\":\"runbook\"}";
  }
  *out += "]";
}

}  // namespace

std::string PagerDutyEventJson(const Notification& a, std::string_view routing_key,
                               const PayloadContext& ctx) {
  std::string out = "{\"routing_key\":";
  AppendJsonString(routing_key, &out);
  out += ",\"event_action\":";
  out += a.firing ? "\"trigger\"" : "\"resolve\"";
  out += ",\"dedup_key\":";
  AppendJsonString(a.fingerprint, &out);

  // Spooled notices from before the alias was folded may still say "runbook".
  std::string_view runbook = a.Annotation("runbook_url");
  if (runbook.empty()) runbook = a.Annotation("runbook");
  out += ",\"payload\":{\"summary\":";
  AppendJsonString(PagerDutySummary(a), &out);
  out += ",\"source\":";
  AppendJsonString(PagerDutySource(a.labels), &out);
  out += ",\"severity\":";
  AppendJsonString(PagerDutySeverity(a.severity), &out);
  out += ",\"timestamp\":";
  AppendTime(std::min(a.at, ctx.now), &out);
  if (auto name = a.labels.find("alertname"); name != a.labels.end()) {
    out += ",\"class\":";
    AppendJsonString(name->second, &out);
  }
  out += ",\"custom_details\":";
  AppendPagerDutyDetails(a, runbook, ctx, &out);
  out += "},\"client\":\"vigil\"";
  if (!ctx.external_url.empty()) {
    out += ",\"client_url\":";
    AppendJsonString(ctx.external_url, &out);
  }
  out += ",\"links\":";
  AppendPagerDutyLinks(a, runbook, ctx, &out);
  out += "}";
  return out;
}

namespace {

// Labels (or annotations) every alert has with the same value.
Labels CommonLabels(const std::vector<Notification>& alerts) {
  if (alerts.empty()) return {};
  Labels common = alerts[0].labels;
  for (size_t i = 1; i < alerts.size(); ++i) {
    std::erase_if(common, [&](const auto& kv) {
      auto it = alerts[i].labels.find(kv.first);
      return it == alerts[i].labels.end() || it->second != kv.second;
    });
  }
  return common;
}

std::vector<std::pair<std::string, std::string>> CommonAnnotations(
    const std::vector<Notification>& alerts) {
  // The annotations every alert is sent with, resolved_value included.
  if (alerts.empty()) return {};
  std::vector<std::pair<std::string, std::string>> common = SentAnnotations(alerts[0]);
  for (size_t i = 1; i < alerts.size(); ++i) {
    const std::vector<std::pair<std::string, std::string>> sent = SentAnnotations(alerts[i]);
    std::erase_if(common, [&](const auto& kv) {
      return std::find(sent.begin(), sent.end(), kv) == sent.end();
    });
  }
  return common;
}

void AppendGroupKeyLabels(const Labels& labels, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out->push_back(',');
    first = false;
    StrAppend(out, k, "=\"");
    for (char c : v) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
  }
  out->push_back('}');
}

}  // namespace

std::string WebhookJson(const std::vector<Notification>& alerts, const PayloadContext& ctx) {
  Labels group;
  if (alerts.size() == 1) {
    if (auto it = alerts[0].labels.find("alertname"); it != alerts[0].labels.end()) {
      group[it->first] = it->second;
    }
  }
  // Firing while some alert's latest state in the body fires: a digest may
  // hold an alert's firing and its resolution both.
  std::map<std::string_view, bool> latest;
  for (const Notification& a : alerts) latest[a.fingerprint] = a.firing;
  const bool firing =
      std::any_of(latest.begin(), latest.end(), [](const auto& kv) { return kv.second; });
  std::string group_key = "{}:";
  AppendGroupKeyLabels(group, &group_key);

  std::string out = "{\"version\":\"4\",\"groupKey\":";
  AppendJsonString(group_key, &out);
  out += ",\"truncatedAlerts\":0,\"status\":";
  out += firing ? "\"firing\"" : "\"resolved\"";
  out += ",\"receiver\":";
  AppendJsonString(ctx.receiver, &out);
  out += ",\"groupLabels\":";
  AppendJsonObject(group, &out);
  out += ",\"commonLabels\":";
  AppendJsonObject(CommonLabels(alerts), &out);
  out += ",\"commonAnnotations\":";
  AppendJsonObject(CommonAnnotations(alerts), &out);
  out += ",\"externalURL\":";
  AppendJsonString(ctx.external_url, &out);
  out += ",\"alerts\":[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Notification& a = alerts[i];
    if (i > 0) out.push_back(',');
    out += "{\"status\":";
    out += a.firing ? "\"firing\"" : "\"resolved\"";
    out += ",\"labels\":";
    AppendJsonObject(a.labels, &out);
    out += ",\"annotations\":";
    AppendJsonObject(SentAnnotations(a), &out);
    auto [starts, ends] = AlertmanagerTimes(a, ctx);
    out += ",\"startsAt\":";
    AppendTime(starts, &out);
    // Alertmanager's webhook marks "no end yet" with Go's zero time.
    out += ",\"endsAt\":";
    if (a.firing) {
      out += "\"0001-01-01T00:00:00Z\"";
    } else {
      AppendTime(ends, &out);
    }
    out += ",\"generatorURL\":";
    AppendJsonString(GeneratorUrl(ctx.external_url, a.fingerprint), &out);
    out += ",\"fingerprint\":";
    AppendJsonString(a.fingerprint, &out);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

}  // namespace vigil
