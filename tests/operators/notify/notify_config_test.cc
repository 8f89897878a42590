#include "operators/notify/notify_config.h"

#include <yaml-cpp/yaml.h>

#include "gtest/gtest.h"

namespace vigil {
namespace {

absl::StatusOr<NotifyConfig> Parse(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return ParseNotifyConfig(root["notify"], "job.yaml");
}

std::string ErrorOf(const std::string& yaml) {
  absl::StatusOr<NotifyConfig> c = Parse(yaml);
  if (c.ok()) return "ok";
  return std::string(c.status().message());
}

constexpr char kGood[] = R"(notify:
  labels: {job: vigil, instance: vigil-0}
  external_url: http://vigil.example:9464/
  spool: {dir: /var/lib/vigil/spool, max_bytes: 64MiB}
  resend_interval: 1m
  renotify_interval: 5m
  timeout: 10s
  retry: {initial: 500ms, max: 1m}
  receivers:
    - {name: alertmanager, kind: alertmanager, urls: [http://am-0:9093, http://am-1:9093]}
    - {name: pagerduty, kind: pagerduty, routing_key_env: PAGERDUTY_ROUTING_KEY}
    - {name: team, kind: webhook, url: http://slack-bridge:8080/hook}
    - {name: tickets, kind: webhook, url: http://tickets:8080/hook}
    - {name: digest, kind: webhook, url: http://mailer:8080/digest, digest_every: 168h}
  routes: {P1: [alertmanager, pagerduty], P2: [alertmanager, team], P3: [tickets], P4: [digest]}
)";

TEST(NotifyConfigTest, ParsesAFullConfig) {
  absl::StatusOr<NotifyConfig> c = Parse(kGood);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->empty());
  EXPECT_EQ(c->labels, (Labels{{"job", "vigil"}, {"instance", "vigil-0"}}));
  EXPECT_EQ(c->external_url, "http://vigil.example:9464");
  EXPECT_EQ(c->spool_dir, "/var/lib/vigil/spool");
  EXPECT_EQ(c->spool_max_bytes, size_t{64} << 20);
  EXPECT_EQ(c->resend_interval, 60000);
  EXPECT_EQ(c->renotify_interval, 300000);
  EXPECT_EQ(c->timeout, 10000);
  EXPECT_EQ(c->retry_initial, 500);
  EXPECT_EQ(c->retry_max, 60000);
  ASSERT_EQ(c->receivers.size(), 5u);
  const NotifyReceiver& am = c->receivers[0];
  EXPECT_EQ(am.kind, NotifyReceiver::Kind::kAlertmanager);
  EXPECT_EQ(am.urls, (std::vector<std::string>{"http://am-0:9093", "http://am-1:9093"}));
  const NotifyReceiver& pd = c->receivers[1];
  EXPECT_EQ(pd.kind, NotifyReceiver::Kind::kPagerDuty);
  EXPECT_EQ(pd.routing_key_env, "PAGERDUTY_ROUTING_KEY");
  EXPECT_EQ(pd.urls, (std::vector<std::string>{std::string(kPagerDutyEventsUrl)}));
  EXPECT_EQ(c->receivers[2].urls, (std::vector<std::string>{"http://slack-bridge:8080/hook"}));
  EXPECT_EQ(c->receivers[4].digest_every, 168 * 3600000LL);
  EXPECT_EQ(c->routes[1], (std::vector<std::string>{"alertmanager", "pagerduty"}));
  EXPECT_EQ(c->routes[2], (std::vector<std::string>{"alertmanager", "team"}));
  EXPECT_EQ(c->routes[3], (std::vector<std::string>{"tickets"}));
  EXPECT_EQ(c->routes[4], (std::vector<std::string>{"digest"}));
}

TEST(NotifyConfigTest, DefaultsForAMinimalConfig) {
  absl::StatusOr<NotifyConfig> c = Parse(R"(notify:
  receivers: [{name: hook, kind: webhook, url: "http://127.0.0.1:1/x"}]
  routes: {P3: hook}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->spool_dir, "");
  EXPECT_EQ(c->spool_max_bytes, size_t{64} << 20);
  EXPECT_EQ(c->resend_interval, 60000);
  EXPECT_EQ(c->renotify_interval, 0);
  EXPECT_EQ(c->timeout, 10000);
  EXPECT_EQ(c->routes[3], (std::vector<std::string>{"hook"}));
  EXPECT_TRUE(c->routes[1].empty());
  EXPECT_TRUE(NotifyConfig().empty());
}

TEST(NotifyConfigTest, SizesParseWithUnits) {
  EXPECT_EQ(ParseNotifySize("1048576"), size_t{1} << 20);
  EXPECT_EQ(ParseNotifySize("512KiB"), size_t{512} << 10);
  EXPECT_EQ(ParseNotifySize("5MB"), size_t{5000000});
  EXPECT_EQ(ParseNotifySize("1 GiB"), size_t{1} << 30);
  EXPECT_FALSE(ParseNotifySize("64 mb").has_value());
  EXPECT_FALSE(ParseNotifySize("MiB").has_value());
  EXPECT_FALSE(ParseNotifySize("-1").has_value());
}

struct ErrorCase {
  const char* yaml;
  const char* error;
};

class NotifyConfigErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(NotifyConfigErrorTest, ReportsFileLineColumn) {
  EXPECT_EQ(ErrorOf(GetParam().yaml), GetParam().error);
}

constexpr char kReceivers[] = R"(
  receivers:
    - {name: am, kind: alertmanager, url: "http://am:9093"}
    - {name: team, kind: webhook, url: "http://hook:8080/x"}
  routes: {P1: [am]}
)";

std::string WithReceivers(const std::string& head) { return "notify:\n" + head + kReceivers; }

const std::string kUnknownKey = WithReceivers("  resend_intervall: 1m");
const std::string kBadDuration = WithReceivers("  timeout: 10 seconds");
const std::string kBadSize = WithReceivers("  spool: {dir: /tmp/x, max_bytes: lots}");
const std::string kRetryOrder = WithReceivers("  retry: {initial: 2s, max: 1s}");
const std::string kBadLabel = WithReceivers("  labels: {bad-name: x}");
const std::string kBadExternalUrl = WithReceivers("  external_url: vigil:9464");

INSTANTIATE_TEST_SUITE_P(
    NotifyConfig, NotifyConfigErrorTest,
    testing::Values(
        ErrorCase{kUnknownKey.c_str(),
                  "job.yaml:2:3: unknown key 'resend_intervall' in notify; did you mean "
                  "'resend_interval'?"},
        ErrorCase{kBadDuration.c_str(),
                  "job.yaml:2:12: 'timeout' must be a duration such as 500ms, 30s, 5m"},
        ErrorCase{kBadSize.c_str(),
                  "job.yaml:2:35: 'spool.max_bytes' must be a size such as 64MiB or 1048576"},
        ErrorCase{kRetryOrder.c_str(),
                  "job.yaml:2:10: 'retry.max' must not be smaller than 'retry.initial'"},
        ErrorCase{kBadLabel.c_str(),
                  "job.yaml:2:12: 'bad-name' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"},
        ErrorCase{kBadExternalUrl.c_str(),
                  "job.yaml:2:17: 'external_url' is not an http(s) URL: "
                  "URL \"<redacted URL>\" must start with http:// or https://"},
        // A receiver URL's path and credentials never appear in the message.
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "https://u:pw@hooks.example.com:99999/services/T0/SECRET1"}
  routes: {P1: [hook]})",
                  "job.yaml:3:40: 'url' is not an http(s) URL: "
                  "URL \"https://hooks.example.com:99999/***\" has a bad port"},
        ErrorCase{R"(notify:
  receivers:
    - {name: am, kind: alertmanager, url: "http://am:9093"}
  routes: {P1: [am, pagerdutty]}
)",
                  "job.yaml:4:21: unknown receiver 'pagerdutty' (declared: am)"},
        ErrorCase{R"(notify:
  receivers:
    - {name: pagerduty, kind: pagerduty, routing_key_env: PD_KEY}
  routes: {P1: [pagerduti]}
)",
                  "job.yaml:4:17: unknown receiver 'pagerduti'; did you mean 'pagerduty'?"},
        ErrorCase{R"(notify:
  receivers:
    - {name: am, kind: alertmanager, url: "http://am:9093"}
  routes: {P5: [am]}
)",
                  "job.yaml:4:12: 'P5' is not a severity; use P1, P2, P3 or P4"},
        ErrorCase{R"(notify:
  receivers:
    - {name: am, kind: alertmanager}
  routes: {P1: [am]}
)",
                  "job.yaml:3:7: receiver 'am' needs 'urls'"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook}
  routes: {P1: [hook]}
)",
                  "job.yaml:3:7: receiver 'hook' needs a 'url'"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhok, url: "http://x:1/"}
  routes: {P1: [hook]}
)",
                  "job.yaml:3:26: unknown receiver kind 'webhok'; did you mean 'webhook'?"},
        ErrorCase{R"(notify:
  receivers:
    - {name: pd, kind: pagerduty, routing_key_env: e93facc04764012d7bfb002500d5d1a6}
  routes: {P1: [pd]}
)",
                  "job.yaml:3:52: 'routing_key_env' must be the NAME of an environment variable "
                  "holding the routing key (e.g. PAGERDUTY_ROUTING_KEY), not the key itself"},
        ErrorCase{R"(notify:
  receivers:
    - name: pd
      kind: pagerduty
      routing_key: e93facc04764012d7bfb002500d5d1a6
  routes: {P1: [pd]}
)",
                  "job.yaml:5:7: do not write the routing key into the config file: put it in "
                  "an environment variable and name that with 'routing_key_env'"},
        ErrorCase{R"(notify:
  receivers:
    - {name: pd, kind: pagerduty}
  routes: {P1: [pd]}
)",
                  "job.yaml:3:7: pagerduty receiver 'pd' needs 'routing_key_env' (the "
                  "environment variable holding the routing key)"},
        ErrorCase{R"(notify:
  receivers:
    - {name: am, kind: alertmanager, url: "http://am:9093", digest_every: 1d}
  routes: {P1: [am]}
)",
                  "job.yaml:3:75: 'digest_every' is for webhook receivers only"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/", digest_every: soon}
  routes: {P4: [hook]}
)",
                  "job.yaml:3:69: 'digest_every' must be a duration such as 500ms, 30s, 5m"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/"}
    - {name: hook, kind: webhook, url: "http://y:1/"}
  routes: {P4: [hook]}
)",
                  "job.yaml:4:14: receiver 'hook' is declared twice"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, urls: ["http://x:1/", "http://y:1/"]}
  routes: {P4: [hook]}
)",
                  "job.yaml:3:41: a webhook receiver takes one URL; only alertmanager takes "
                  "several"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/"}
)",
                  "job.yaml:2:3: notify needs 'routes', e.g. routes: {P1: [pagerduty]}"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/", timeout: 1s}
  routes: {P4: [hook]}
)",
                  "job.yaml:3:55: unknown key 'timeout' in a receiver (allowed: name, kind, "
                  "url, urls, routing_key_env, digest_every, project, repo, issue_type, "
                  "email_env, token_env, labels, priorities, summary, description)"},
        ErrorCase{R"(notify:
  receivers:
    - {name: kb, kind: jira, url: "https://x.atlassian.net", token_env: T}
  routes: {P3: [kb]}
)",
                  "job.yaml:3:7: jira receiver 'kb' needs 'project' (the project key, e.g. KB)"},
        ErrorCase{R"(notify:
  receivers:
    - {name: kb, kind: jira, url: "https://x.atlassian.net", project: KB}
  routes: {P3: [kb]}
)",
                  "job.yaml:3:7: jira receiver 'kb' needs 'token_env' (the environment "
                  "variable holding the API token)"},
        ErrorCase{R"(notify:
  receivers:
    - {name: kb, kind: jira, url: "https://x.atlassian.net", project: KB, token_env: T,
       summary: "gap {{ $label.topic }}"}
  routes: {P3: [kb]}
)",
                  "job.yaml:4:17: 'summary' at byte 5: unknown variable '$label.topic'; use "
                  "$labels.NAME, $annotations.NAME, $value, $severity, $window, $condition, "
                  "$firedAt, $at or $url"},
        ErrorCase{R"(notify:
  receivers:
    - {name: gh, kind: github, project: acme/kb, token_env: T}
  routes: {P3: [gh]}
)",
                  "job.yaml:3:41: a github receiver takes 'repo' (owner/name), not 'project'"},
        ErrorCase{R"(notify:
  receivers:
    - {name: gh, kind: github, repo: acme, token_env: T}
  routes: {P3: [gh]}
)",
                  "job.yaml:3:38: 'repo' must be owner/name, e.g. acme/knowledge-base"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/", project: KB}
  routes: {P3: [hook]}
)",
                  "job.yaml:3:64: 'project' is for jira and github receivers only"},
        ErrorCase{R"(notify:
  receivers:
    - {name: kb, kind: jira, url: "https://x.atlassian.net", project: KB, token_env: T,
       priorities: {P3: Medium, P6: Low}}
  routes: {P3: [kb]}
)",
                  "job.yaml:4:33: unknown key 'P6' in priorities; did you mean 'P1'?"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/"}
  routes: {FaqTopicNegativeFeedback: [hok]}
)",
                  "job.yaml:4:39: unknown receiver 'hok'; did you mean 'hook'?"},
        ErrorCase{R"(notify:
  receivers:
    - {name: hook, kind: webhook, url: "http://x:1/"}
  routes: {"Faq-Topic": [hook]}
)",
                  "job.yaml:4:12: route key 'Faq-Topic' is neither a severity (P1..P4) nor an "
                  "alert name"}));

TEST(NotifyConfigTest, ParsesTicketReceiversAndAlertRoutes) {
  absl::StatusOr<NotifyConfig> c = Parse(R"(notify:
  receivers:
    - {name: tickets, kind: webhook, url: http://tickets:8080/hook}
    - name: content
      kind: jira
      url: https://example.atlassian.net/
      project: KB
      issue_type: Bug
      email_env: JIRA_EMAIL
      token_env: JIRA_API_TOKEN
      labels: [vigil, kb-gap]
      priorities: {P3: Low}
      summary: "KB gap: {{ $labels.topic }}"
    - {name: gh, kind: github, repo: acme/kb, token_env: GITHUB_TOKEN}
  routes: {P3: [tickets], FaqTopicNegativeFeedback: [content, gh]}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const NotifyReceiver* jira = c->FindReceiver("content");
  ASSERT_NE(jira, nullptr);
  EXPECT_EQ(jira->kind, NotifyReceiver::Kind::kJira);
  EXPECT_EQ(jira->urls, (std::vector<std::string>{"https://example.atlassian.net"}));
  EXPECT_EQ(jira->project, "KB");
  EXPECT_EQ(jira->issue_type, "Bug");
  EXPECT_EQ(jira->email_env, "JIRA_EMAIL");
  EXPECT_EQ(jira->token_env, "JIRA_API_TOKEN");
  EXPECT_EQ(jira->ticket_labels, (std::vector<std::string>{"vigil", "kb-gap"}));
  EXPECT_EQ(jira->priorities, (std::array<std::string, 5>{"", "Highest", "High", "Low", "Low"}));
  EXPECT_EQ(jira->summary_template, "KB gap: {{ $labels.topic }}");
  const NotifyReceiver* gh = c->FindReceiver("gh");
  ASSERT_NE(gh, nullptr);
  EXPECT_EQ(gh->urls, (std::vector<std::string>{"https://api.github.com"}));
  EXPECT_EQ(gh->project, "acme/kb");
  EXPECT_EQ(c->routes[3], (std::vector<std::string>{"tickets"}));
  EXPECT_EQ(c->alert_routes.at("FaqTopicNegativeFeedback"),
            (std::vector<std::string>{"content", "gh"}));
  // An alert route must name an alert of the rules: a misspelt one would
  // send its alert to no receiver of its own.
  EXPECT_TRUE(CheckAlertRoutes(*c, {"Busy", "FaqTopicNegativeFeedback"}).ok());
  EXPECT_EQ(CheckAlertRoutes(*c, {"Busy", "FaqTopicNegativeFeedbak"}).message(),
            "job.yaml:15:27: route 'FaqTopicNegativeFeedback' is neither a severity nor an "
            "alert of the rules; did you mean 'FaqTopicNegativeFeedbak'?");
  EXPECT_EQ(CheckAlertRoutes(*c, {"Busy"}).message(),
            "job.yaml:15:27: route 'FaqTopicNegativeFeedback' is neither a severity nor an "
            "alert of the rules");
}

TEST(NotifyConfigTest, AnApiTokenIsNeverEchoedInErrors) {
  const std::string err = ErrorOf(R"(notify:
  receivers:
    - {name: kb, kind: jira, url: "https://x.atlassian.net", project: KB,
       token_env: ATATT3xFfGF0aB12cD34eF56gH78}
  routes: {P3: [kb]}
)");
  EXPECT_NE(err.find("'token_env' must be the NAME of an environment variable"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("ATATT3x"), std::string::npos) << err;
}

TEST(NotifyConfigTest, ARoutingKeyIsNeverEchoedInErrors) {
  const std::string err = ErrorOf(R"(notify:
  receivers:
    - {name: pd, kind: pagerduty, routing_key_env: e93facc04764012d7bfb002500d5d1a6}
  routes: {P1: [pd]}
)");
  EXPECT_EQ(err.find("e93facc0"), std::string::npos) << err;
}

}  // namespace
}  // namespace vigil
