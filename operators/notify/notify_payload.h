// operators/notify/notify_payload.h
//
// The wire formats of alert notifications, as pure functions of a
// Notification (the receiver-independent, serialisable form of one alert
// transition) and the wall-clock time of sending:
//   - Alertmanager API v2: the body of `POST /api/v2/alerts`;
//   - PagerDuty Events API v2: one trigger or resolve event;
//   - the Alertmanager webhook shape (version "4"), which existing webhook
//     receivers (chat bridges, ticketing adapters) already understand.
//
// Times. startsAt is when the alert fired and a resolved alert's endsAt is
// when it resolved, both in event time; a firing alert's endsAt is
// now + 4 × resend_interval so that Alertmanager never times out a live
// alert between re-sends. Event time may run ahead of the wall clock (an
// accelerated generator, or a producer with a skewed clock): times are then
// clamped to `now`, because Alertmanager treats an endsAt in the future as
// still firing and would show a resolved alert as active. A resolved alert
// whose whole run lies ahead of the wall clock keeps its event-time
// duration: endsAt = now and startsAt = now - (resolved - fired), so an
// alert that fired for minutes never shows startsAt == endsAt.
//
// Resolved alerts carry the annotations they fired with, and the value that
// resolved them: `resolved_value` in PagerDuty's custom_details and, for
// Alertmanager and webhooks, as an annotation `resolved_value`.
//
// Example:
//   Notification a = MakeNotification(notice, {{"job", "vigil"}});
//   PayloadContext ctx{.external_url = "http://vigil:9464", .now = NowMs(),
//                      .resend_interval = 60000};
//   std::string body = AlertmanagerAlertsJson({a}, ctx);
//   // [{"labels":{"alertname":"LatencyP99Critical",...},"annotations":{...},
//   //   "startsAt":"…","endsAt":"…","generatorURL":"http://vigil:9464/status?fingerprint=…"}]
#ifndef VIGIL_OPERATORS_NOTIFY_NOTIFY_PAYLOAD_H_
#define VIGIL_OPERATORS_NOTIFY_NOTIFY_PAYLOAD_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time.h"
#include "operators/dataflow/sink.h"
#include "rules/template.h"

namespace vigil {

// Stable across runs, builds and machines: FNV-1a 64 over the sorted
// name=value pairs (each name and value followed by a 0xff byte, which
// cannot occur in UTF-8), as 16 lowercase hex digits.
std::string AlertFingerprint(const Labels& labels);
// The labels a notification of an alert with `labels` carries: `extra`
// (the notifier's) added where the alert has no label of that name, and
// none whose value is empty (an empty label is no label, as in Prometheus).
Labels NotificationLabels(const Labels& labels, const Labels& extra);

// One alert transition as it is spooled and sent.
struct Notification {
  bool firing = true;  // else resolved
  Labels labels;       // notice labels + config labels
  std::vector<std::pair<std::string, std::string>> annotations;
  int severity = 1;                      // 1..4
  TimeMs fired_at = 0;                   // event time it started firing
  TimeMs at = 0;                         // event time of this transition (= resolved at)
  double value = 0;                      // as fired: see AlertNotice::value
  std::optional<double> resolved_value;  // resolved: the value that resolved it
  std::string window;                    // e.g. "5m"
  std::string condition;                 // the rule's expr
  std::string fingerprint;               // AlertFingerprint(labels)

  std::string Encode() const;
  static std::optional<Notification> Decode(std::string_view data);
  std::string_view Annotation(std::string_view name) const;  // "" when absent
  friend bool operator==(const Notification&, const Notification&) = default;
};

// Only kFiring and kResolved notices make a Notification; the caller filters.
// `extra` labels are added where the notice has no label of that name.
Notification MakeNotification(const AlertNotice& notice, const Labels& extra);

struct PayloadContext {
  std::string external_url;  // "" = no generatorURL / links
  TimeMs now = 0;            // wall clock
  DurationMs resend_interval = 60000;
  std::string receiver;  // webhook: the "receiver" field
};

// {external_url}/status?fingerprint={fingerprint}: the status page, opened
// at that alert (runtime/status_page.html); "" without an external URL.
std::string GeneratorUrl(std::string_view external_url, std::string_view fingerprint);

// Body of POST /api/v2/alerts: a JSON array, one object per alert.
std::string AlertmanagerAlertsJson(const std::vector<Notification>& alerts,
                                   const PayloadContext& ctx);

// One PagerDuty Events API v2 event. A resolve carries only routing_key,
// event_action and dedup_key.
std::string PagerDutyEventJson(const Notification& alert, std::string_view routing_key,
                               const PayloadContext& ctx);
std::string_view PagerDutySeverity(int severity);  // 1 critical, 2 error, 3 warning, 4 info

// Alertmanager webhook (version "4") body for `alerts` as one group. A
// single alert is grouped by alertname; several (a digest) by nothing.
std::string WebhookJson(const std::vector<Notification>& alerts, const PayloadContext& ctx);

// The threshold of a condition "lhs <op> <number>", e.g. "10000" of
// "latency_p99_ms > 10000"; "" when the condition has no such form.
std::string ConditionThreshold(std::string_view condition);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_NOTIFY_PAYLOAD_H_
