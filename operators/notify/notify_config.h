// operators/notify/notify_config.h
//
// NotifyConfig says where alert notices go: the receivers (Alertmanager,
// PagerDuty Events API v2, generic webhooks, digests), which severities
// reach which receivers, and how delivery behaves (spool, re-send, retries,
// flap control). It is the `notify:` mapping of the job YAML file:
//
//   notify:
//     labels: {job: vigil, instance: vigil-0}  # added to every alert; the alert's own wins
//     external_url: http://vigil.example:9464  # generatorURL: {external_url}/api/alerts?...
//     spool: {dir: /var/lib/vigil/spool, max_bytes: 64MiB}  # no dir: memory, kept by checkpoints
//     only resend_interval: 1m        # firing alerts are re-sent to Alertmanager this often
//     renotify_interval: 0s      # flap control per alert and target; 0 = off
//     timeout: 10s               # per HTTP request
//     retry: {initial: 500ms, max: 1m}  # backoff with jitter between the two
//     receivers:
//       - {name: alertmanager, kind: alertmanager, urls: [http://am-0:9093, http://am-1:9093]}
//       - {name: pagerduty, kind: pagerduty, routing_key_env: PAGERDUTY_ROUTING_KEY}
//       - {name: team, kind: webhook, url: http://slack-bridge:8080/hook}
//       - {name: digest, kind: webhook, url: http://mailer:8080/digest, digest_every: 168h}
//     routes: {P1: [alertmanager, pagerduty], P2: [alertmanager, team], P4: [digest]}
//
// Receiver keys: `name` (unique), `kind` (alertmanager | pagerduty |
// webhook), `url` or `urls` (Alertmanager: every URL of an HA set gets every
// alert; PagerDuty defaults to https://events.pagerduty.com/v2/enqueue),
// `routing_key_env` (PagerDuty: the NAME of the environment variable holding
// the routing key — the key itself never appears in a config file), and
// `digest_every` (webhook: batch everything routed here into one POST per
// period, aligned to the Unix epoch so restarts do not postpone it).
// Severities without a route are not notified.
//
// Every error is `file:line:col: message`, pointing at the offending node.
//
// Example:
//   YAML::Node root = YAML::LoadFile("job.yaml");
//   absl::StatusOr<NotifyConfig> c = ParseNotifyConfig(root["notify"], "job.yaml");
//   c->routes[1];   // {"alertmanager", "pagerduty"}: the receivers of P1
#ifndef VIGIL_OPERATORS_NOTIFY_NOTIFY_CONFIG_H_
#define VIGIL_OPERATORS_NOTIFY_NOTIFY_CONFIG_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "rules/template.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace vigil {

inline constexpr std::string_view kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";

struct NotifyReceiver {
  enum class Kind { kAlertmanager, kPagerDuty, kWebhook };
  std::string name;
  Kind kind = Kind::kWebhook;
  // Alertmanager: base URLs (the client appends /api/v2/alerts); others: the
  // one URL requests are POSTed to.
  std::vector<std::string> urls;
  std::string routing_key_env;  // PagerDuty: env var NAME holding the routing key
  DurationMs digest_every = 0;  // webhook: >0 batches everything into one POST per period
};

std::string_view ReceiverKindName(NotifyReceiver::Kind kind);

struct NotifyConfig {
  std::vector<NotifyReceiver> receivers;
  // Index = severity 1..4 (index 0 unused) -> receiver names.
  std::array<std::vector<std::string>, 5> routes;
  Labels labels;                      // added to every alert
  std::string external_url;           // base of generatorURL
  std::string spool_dir;              // "" = in memory only: what is pending at a restart is
                                      // what the last checkpoint kept (Notifier::EncodeState)
  size_t spool_max_bytes = 64 << 20;  // split evenly between the delivery targets
  DurationMs resend_interval = 60000;
  DurationMs renotify_interval = 0;
  DurationMs timeout = 10000;
  DurationMs retry_initial = 500;
  DurationMs retry_max = 60000;
  // Not from the job file: the notifier state of the checkpoint restored
  // (Notifier::EncodeState); "" = none.
  std::string restored_state;

  // No receivers: nothing to notify.
  bool empty() const { return receivers.empty(); }
  const NotifyReceiver* FindReceiver(std::string_view name) const;
};

// `node` is the `notify:` mapping of the job file `file`.
absl::StatusOr<NotifyConfig> ParseNotifyConfig(const YAML::Node& node, const std::string& file);

// "1048576", "512KiB", "64MiB", "5MB", "1GiB"; nullopt when malformed.
std::optional<size_t> ParseNotifySize(std::string_view s);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_NOTIFY_CONFIG_H_
