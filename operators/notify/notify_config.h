// operators/notify/notify_config.h
//
// NotifyConfig says where alert notices go: the receivers (Alertmanager,
// PagerDuty Events API v2, generic webhooks, digests), which severities
// reach which receivers, and how delivery behaves (spool, re-send, retries,
// flap control). It is the `notify:` mapping of the job YAML file:
//
//   notify:
//     labels: {job: vigil, instance: vigil-0}  # added to every alert; the alert's own wins
//     external_url: http://vigil.example:9464  # generatorURL: {external_url}/status?...
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
//       - name: content
//         kind: jira
//         url: https://example.atlassian.net
//         project: KB
//         email_env: JIRA_EMAIL          # with token_env: basic auth (Jira Cloud)
//         token_env: JIRA_API_TOKEN      # alone: a bearer token (Jira Data Center PAT)
//         labels: [vigil, kb-gap]
//     routes: {P1: [alertmanager, pagerduty], P2: [alertmanager, team], P4: [digest],
//              FaqTopicNegativeFeedback: [content]}
//
// Routes: a key P1..P4 routes the alerts of that severity; any other key is
// an alert name and routes that alert alone, instead of its severity's route.
//
// Receiver keys: `name` (unique), `kind` (alertmanager | pagerduty |
// webhook | jira | github), `url` or `urls` (Alertmanager: every URL of an HA set gets every
// alert; PagerDuty defaults to https://events.pagerduty.com/v2/enqueue),
// `routing_key_env` (PagerDuty: the NAME of the environment variable holding
// the routing key — the key itself never appears in a config file), and
// `digest_every` (webhook: batch everything routed here into one POST per
// period, aligned to the Unix epoch so restarts do not postpone it).
// Severities without a route are not notified.
//
// Ticket receivers (jira, github; see ticket_tracker.h) open one ticket per
// alert and never a second while it is open. `url`: the Jira base URL, or
// GitHub's API (default https://api.github.com); `project` (jira: the
// project key) or `repo` (github: owner/name); `issue_type` (jira, default
// Task); `priorities` (jira: {P1: Highest, P2: High, P3: Medium, P4: Low} by
// default); `labels` (added to every ticket, with vigil-<fingerprint>);
// `summary` and `description` (templates; default: the alert's summary and
// a description of the alert); credentials only from environment variables
// named by `token_env` (a bearer token, or with `email_env` Jira basic auth
// of email and API token).
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
#include <map>
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
inline constexpr std::string_view kGitHubApiUrl = "https://api.github.com";

struct NotifyReceiver {
  enum class Kind { kAlertmanager, kPagerDuty, kWebhook, kJira, kGitHub };
  std::string name;
  Kind kind = Kind::kWebhook;
  // Alertmanager: base URLs (the client appends /api/v2/alerts); others: the
  // one URL requests are POSTed to.
  std::vector<std::string> urls;
  std::string routing_key_env;  // PagerDuty: env var NAME holding the routing key
  DurationMs digest_every = 0;  // webhook: >0 batches everything into one POST per period
  // Ticket receivers (jira, github).
  std::string project;  // jira: project key; github: owner/name
  std::string issue_type = "Task";
  std::string email_env;  // env var NAME: with token_env, Jira basic auth
  std::string token_env;  // env var NAME: the API token (bearer alone)
  std::vector<std::string> ticket_labels;
  std::array<std::string, 5> priorities = {"", "Highest", "High", "Medium", "Low"};  // by severity
  std::string summary_template;      // "" = the alert's summary annotation
  std::string description_template;  // "" = a description of the alert

  bool ticket() const { return kind == Kind::kJira || kind == Kind::kGitHub; }
};

std::string_view ReceiverKindName(NotifyReceiver::Kind kind);

struct NotifyConfig {
  std::vector<NotifyReceiver> receivers;
  // Index = severity 1..4 (index 0 unused) -> receiver names.
  std::array<std::vector<std::string>, 5> routes;
  // Alert name -> receiver names; an alert named here takes this route, not
  // its severity's.
  std::map<std::string, std::vector<std::string>> alert_routes;
  // Where each alert route's key is in the job file ("file:line:col"), for
  // CheckAlertRoutes.
  std::map<std::string, std::string> alert_route_pos;
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

// An error naming the first alert route whose key is the name of no alert
// in `alerts` (a misspelt name would route its alert nowhere of its own).
absl::Status CheckAlertRoutes(const NotifyConfig& c, const std::vector<std::string>& alerts);

// `node` is the `notify:` mapping of the job file `file`.
absl::StatusOr<NotifyConfig> ParseNotifyConfig(const YAML::Node& node, const std::string& file);

// "1048576", "512KiB", "64MiB", "5MB", "1GiB"; nullopt when malformed.
std::optional<size_t> ParseNotifySize(std::string_view s);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_NOTIFY_CONFIG_H_
