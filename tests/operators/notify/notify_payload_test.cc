#include "operators/notify/notify_payload.h"

#include <simdjson.h>

#include "gtest/gtest.h"
#include "tests/operators/notify/notify_test_util.h"

namespace vigil {
namespace {

using testing_util::JsonString;
using testing_util::MakeNotice;

constexpr TimeMs kFired = 1795518000000;  // 2026-11-24T11:00:00Z
constexpr TimeMs kNow = kFired + 600000;

PayloadContext Ctx() {
  PayloadContext ctx;
  ctx.external_url = "http://vigil.example:9464";
  ctx.now = kNow;
  ctx.resend_interval = 60000;
  ctx.receiver = "team";
  return ctx;
}

Notification Firing() {
  return MakeNotification(MakeNotice("LatencyP99Critical", 1, Transition::kFiring, kFired, kFired),
                          {{"job", "vigil"}, {"instance", "vigil-0"}});
}

// Resolved at `at` by a p99 of 3181.25 ms, with the annotations it fired with.
Notification Resolved(TimeMs at) {
  AlertNotice n = MakeNotice("LatencyP99Critical", 1, Transition::kResolved, at, kFired);
  n.resolved_value = 3181.25;
  return MakeNotification(n, {{"job", "vigil"}, {"instance", "vigil-0"}});
}

TEST(NotifyPayloadTest, FingerprintIsStableAcrossRunsAndBuilds) {
  // FNV-1a 64 of "alertname\xffLatencyP99Critical\xffseverity\xffP1\xff", computed
  // independently; a change here breaks dedup keys of pages already open.
  EXPECT_EQ(AlertFingerprint({{"alertname", "LatencyP99Critical"}, {"severity", "P1"}}),
            "55b0fe39cedd8d93");
  EXPECT_EQ(AlertFingerprint({}), "cbf29ce484222325");
  EXPECT_NE(AlertFingerprint({{"a", "bc"}}), AlertFingerprint({{"ab", "c"}}));
  EXPECT_NE(AlertFingerprint({{"a", "b"}}), AlertFingerprint({{"a", "b"}, {"c", ""}}));
}

TEST(NotifyPayloadTest, ConfigLabelsAreAddedButNeverOverrideTheAlertsOwn) {
  AlertNotice n = MakeNotice("X", 2, Transition::kFiring, kFired, kFired, {{"job", "rule"}});
  Notification a = MakeNotification(n, {{"job", "vigil"}, {"instance", "vigil-0"}});
  EXPECT_EQ(a.labels.at("job"), "rule");
  EXPECT_EQ(a.labels.at("instance"), "vigil-0");
  EXPECT_EQ(a.severity, 2);
  EXPECT_EQ(a.condition, "latency_p99_ms > 10000");
  EXPECT_EQ(a.fingerprint, AlertFingerprint(a.labels));
  std::optional<Notification> back = Notification::Decode(a.Encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, a);
  EXPECT_FALSE(Notification::Decode(a.Encode().substr(1)).has_value());
  EXPECT_FALSE(Notification::Decode(a.Encode() + "x").has_value());
}

// A group whose `by:` value is "" (or null): Alertmanager drops the empty
// label, so the labels sent and the fingerprint (PagerDuty's dedup key,
// Jira's vigil-<fingerprint>) leave it out too; a config label may fill it.
TEST(NotifyPayloadTest, AnEmptyLabelIsNoLabel) {
  AlertNotice n =
      MakeNotice("Busy", 2, Transition::kFiring, kFired, kFired, {{"intent", ""}, {"job", ""}});
  Notification a = MakeNotification(n, {{"job", "vigil"}, {"region", ""}});
  EXPECT_EQ(a.labels, (Labels{{"alertname", "Busy"}, {"job", "vigil"}, {"severity", "P2"}}));
  EXPECT_EQ(a.fingerprint,
            AlertFingerprint({{"alertname", "Busy"}, {"job", "vigil"}, {"severity", "P2"}}));
}

TEST(NotifyPayloadTest, AlertmanagerFiringAlertHasExactFields) {
  const std::string json = AlertmanagerAlertsJson({Firing()}, Ctx());
  const std::string fp = Firing().fingerprint;
  EXPECT_EQ(json,
            "[{\"labels\":{\"alertname\":\"LatencyP99Critical\",\"instance\":\"vigil-0\","
            "\"job\":\"vigil\",\"severity\":\"P1\"},"
            "\"annotations\":{\"summary\":\"p99 latency 12034 ms above 10 s\","
            "\"runbook_url\":\"https://runbooks.example/latency\"},"
            "\"startsAt\":\"2026-11-24T11:00:00.000Z\","
            // now + 4 x resend_interval: never auto-resolved between re-sends
            "\"endsAt\":\"2026-11-24T11:14:00.000Z\","
            "\"generatorURL\":\"http://vigil.example:9464/status?fingerprint=" +
                fp + "\"}]");
}

TEST(NotifyPayloadTest, AlertmanagerResolvedAlertEndsWhenItResolved) {
  const std::string json = AlertmanagerAlertsJson({Resolved(kFired + 120000)}, Ctx());
  EXPECT_NE(json.find("\"startsAt\":\"2026-11-24T11:00:00.000Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"endsAt\":\"2026-11-24T11:02:00.000Z\""), std::string::npos) << json;
}

TEST(NotifyPayloadTest, FutureEventTimesAreClampedToTheWallClock) {
  // An accelerated generator: the alert fired and resolved "after" now.
  PayloadContext ctx = Ctx();
  ctx.now = kFired - 3600000;  // 10:00
  // Fired 11:00, resolved 11:02: ends now, and keeps its two minutes.
  std::string json = AlertmanagerAlertsJson({Resolved(kFired + 120000)}, ctx);
  EXPECT_NE(json.find("\"startsAt\":\"2026-11-24T09:58:00.000Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"endsAt\":\"2026-11-24T10:00:00.000Z\""), std::string::npos) << json;
  // Resolved "after" now but fired before it: the start stays as it was.
  ctx.now = kFired + 60000;
  json = AlertmanagerAlertsJson({Resolved(kFired + 120000)}, ctx);
  EXPECT_NE(json.find("\"startsAt\":\"2026-11-24T11:00:00.000Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"endsAt\":\"2026-11-24T11:01:00.000Z\""), std::string::npos) << json;
  ctx.now = kFired - 3600000;
  json = AlertmanagerAlertsJson({Firing()}, ctx);
  EXPECT_NE(json.find("\"startsAt\":\"2026-11-24T10:00:00.000Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"endsAt\":\"2026-11-24T10:04:00.000Z\""), std::string::npos) << json;
  json = PagerDutyEventJson(Firing(), "k", ctx);
  EXPECT_NE(json.find("\"timestamp\":\"2026-11-24T10:00:00.000Z\""), std::string::npos) << json;
}

TEST(NotifyPayloadTest, PagerDutyTriggerFields) {
  const std::string json = PagerDutyEventJson(Firing(), "R0UTINGKEY", Ctx());
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(json);
  EXPECT_EQ(JsonString(e, "routing_key"), "R0UTINGKEY");
  EXPECT_EQ(JsonString(e, "event_action"), "trigger");
  EXPECT_EQ(JsonString(e, "dedup_key"), Firing().fingerprint);
  simdjson::dom::element p = e["payload"];
  EXPECT_EQ(JsonString(p, "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(p, "source"), "vigil-0");
  EXPECT_EQ(JsonString(p, "severity"), "critical");
  EXPECT_EQ(JsonString(p, "timestamp"), "2026-11-24T11:00:00.000Z");
  simdjson::dom::element d = p["custom_details"];
  EXPECT_EQ(double(d["value"]), 12034.5);
  EXPECT_EQ(JsonString(d, "window"), "1m");
  EXPECT_EQ(JsonString(d, "condition"), "latency_p99_ms > 10000");
  EXPECT_EQ(JsonString(d, "threshold"), "10000");
  EXPECT_EQ(JsonString(d, "runbook"), "https://runbooks.example/latency");
  EXPECT_EQ(JsonString(d["labels"], "alertname"), "LatencyP99Critical");
  EXPECT_EQ(JsonString(d["labels"], "job"), "vigil");
  simdjson::dom::array links = e["links"];
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(JsonString(links.at(0), "href"),
            "http://vigil.example:9464/status?fingerprint=" + Firing().fingerprint);
  EXPECT_EQ(JsonString(links.at(1), "href"), "https://runbooks.example/latency");
}

TEST(NotifyPayloadTest, PagerDutyResolveHasTheSameDedupKeyAndWhatFired) {
  const std::string json = PagerDutyEventJson(Resolved(kFired + 60000), "R0UTINGKEY", Ctx());
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(json);
  EXPECT_EQ(JsonString(e, "event_action"), "resolve");
  EXPECT_EQ(JsonString(e, "dedup_key"), Firing().fingerprint);
  EXPECT_EQ(Resolved(kFired + 60000).fingerprint, Firing().fingerprint);
  // The summary it fired with, and the value that resolved it.
  EXPECT_EQ(JsonString(e["payload"], "summary"), "p99 latency 12034 ms above 10 s");
  simdjson::dom::element d = e["payload"]["custom_details"];
  EXPECT_EQ(double(d["value"]), 12034.5);
  EXPECT_EQ(double(d["resolved_value"]), 3181.25);
  EXPECT_EQ(JsonString(e["payload"], "timestamp"), "2026-11-24T11:01:00.000Z");
}

TEST(NotifyPayloadTest, ResolvedAlertsCarryTheResolvingValueAsAnAnnotation) {
  const Notification r = Resolved(kFired + 120000);
  const std::string am = AlertmanagerAlertsJson({r}, Ctx());
  EXPECT_NE(am.find("\"annotations\":{\"summary\":\"p99 latency 12034 ms above 10 s\","
                    "\"runbook_url\":\"https://runbooks.example/latency\","
                    "\"resolved_value\":\"3181.25\"}"),
            std::string::npos)
      << am;
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(WebhookJson({r}, Ctx()));
  EXPECT_EQ(JsonString(e, "status"), "resolved");
  EXPECT_EQ(JsonString(e["alerts"].at(0)["annotations"], "resolved_value"), "3181.25");
  EXPECT_EQ(JsonString(e["alerts"].at(0)["annotations"], "summary"),
            "p99 latency 12034 ms above 10 s");
  // The common annotations are those every alert is sent with.
  EXPECT_EQ(JsonString(e["commonAnnotations"], "resolved_value"), "3181.25");
  Notification other = Resolved(kFired + 180000);
  other.resolved_value = 2000;
  e = parser.parse(WebhookJson({r, other}, Ctx()));
  EXPECT_EQ(JsonString(e["commonAnnotations"], "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(e["commonAnnotations"], "resolved_value"), "");
  other.resolved_value = 3181.25;
  e = parser.parse(WebhookJson({r, other}, Ctx()));
  EXPECT_EQ(JsonString(e["commonAnnotations"], "resolved_value"), "3181.25");
  e = parser.parse(WebhookJson({r, Firing()}, Ctx()));
  EXPECT_EQ(JsonString(e["commonAnnotations"], "resolved_value"), "");
  // Firing alerts have none.
  EXPECT_EQ(AlertmanagerAlertsJson({Firing()}, Ctx()).find("resolved_value"), std::string::npos);
  // Spooled and read back, version 1 entries (before resolved_value) included.
  std::optional<Notification> back = Notification::Decode(r.Encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, r);
  std::string v1 = Firing().Encode();
  v1[0] = 1;
  v1.pop_back();  // no resolved_value flag
  back = Notification::Decode(v1);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, Firing());
}

TEST(NotifyPayloadTest, PagerDutySeveritySourceAndSummaryFallbacks) {
  EXPECT_EQ(PagerDutySeverity(1), "critical");
  EXPECT_EQ(PagerDutySeverity(2), "error");
  EXPECT_EQ(PagerDutySeverity(3), "warning");
  EXPECT_EQ(PagerDutySeverity(4), "info");
  AlertNotice n =
      MakeNotice("ThumbsDownHigh", 3, Transition::kFiring, kFired, kFired, {{"intent", "faq"}});
  n.annotations.clear();
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(PagerDutyEventJson(MakeNotification(n, {}), "k", Ctx()));
  EXPECT_EQ(JsonString(e["payload"], "summary"), "ThumbsDownHigh {intent=faq, severity=P3}");
  EXPECT_EQ(JsonString(e["payload"], "source"), "vigil");
  EXPECT_EQ(JsonString(e["payload"], "severity"), "warning");
  e = parser.parse(PagerDutyEventJson(MakeNotification(n, {{"job", "chatbot"}}), "k", Ctx()));
  EXPECT_EQ(JsonString(e["payload"], "source"), "chatbot");
}

TEST(NotifyPayloadTest, WebhookHasTheAlertmanagerShape) {
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(WebhookJson({Firing()}, Ctx()));
  EXPECT_EQ(JsonString(e, "version"), "4");
  EXPECT_EQ(JsonString(e, "groupKey"), "{}:{alertname=\"LatencyP99Critical\"}");
  EXPECT_EQ(JsonString(e, "status"), "firing");
  EXPECT_EQ(JsonString(e, "receiver"), "team");
  EXPECT_EQ(JsonString(e["groupLabels"], "alertname"), "LatencyP99Critical");
  EXPECT_EQ(JsonString(e["commonLabels"], "severity"), "P1");
  EXPECT_EQ(JsonString(e["commonAnnotations"], "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(e, "externalURL"), "http://vigil.example:9464");
  simdjson::dom::array alerts = e["alerts"];
  ASSERT_EQ(alerts.size(), 1u);
  simdjson::dom::element a = alerts.at(0);
  EXPECT_EQ(JsonString(a, "status"), "firing");
  EXPECT_EQ(JsonString(a["labels"], "instance"), "vigil-0");
  EXPECT_EQ(JsonString(a["annotations"], "runbook_url"), "https://runbooks.example/latency");
  EXPECT_EQ(JsonString(a, "startsAt"), "2026-11-24T11:00:00.000Z");
  EXPECT_EQ(JsonString(a, "endsAt"), "0001-01-01T00:00:00Z");
  EXPECT_EQ(JsonString(a, "fingerprint"), Firing().fingerprint);
  EXPECT_EQ(JsonString(a, "generatorURL"),
            "http://vigil.example:9464/status?fingerprint=" + Firing().fingerprint);

  e = parser.parse(WebhookJson({Resolved(kFired + 60000)}, Ctx()));
  EXPECT_EQ(JsonString(e, "status"), "resolved");
  EXPECT_EQ(JsonString(e["alerts"].at(0), "endsAt"), "2026-11-24T11:01:00.000Z");
}

TEST(NotifyPayloadTest, DigestWebhookGroupsAlertsByNothing) {
  Notification other = MakeNotification(
      MakeNotice("ConversionDeclining", 1, Transition::kResolved, kFired, kFired - 1000),
      {{"job", "vigil"}});
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(WebhookJson({Firing(), other}, Ctx()));
  EXPECT_EQ(JsonString(e, "groupKey"), "{}:{}");
  EXPECT_EQ(JsonString(e, "status"), "firing");
  simdjson::dom::object group = e["groupLabels"];
  EXPECT_EQ(group.size(), 0u);
  simdjson::dom::object common = e["commonLabels"];
  EXPECT_EQ(common.size(), 2u);  // job and severity
  EXPECT_EQ(JsonString(e["commonLabels"], "job"), "vigil");
  simdjson::dom::array alerts = e["alerts"];
  EXPECT_EQ(alerts.size(), 2u);
  EXPECT_EQ(JsonString(alerts.at(1), "status"), "resolved");
}

TEST(NotifyPayloadTest, ADigestWhoseAlertsAllResolvedIsResolved) {
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(WebhookJson({Firing(), Resolved(kFired + 60000)}, Ctx()));
  EXPECT_EQ(JsonString(e, "status"), "resolved");
  e = parser.parse(WebhookJson({Resolved(kFired + 60000), Firing()}, Ctx()));
  EXPECT_EQ(JsonString(e, "status"), "firing");
}

TEST(NotifyPayloadTest, ThresholdOfACondition) {
  EXPECT_EQ(ConditionThreshold("latency_p99_ms > 10000"), "10000");
  EXPECT_EQ(ConditionThreshold("cache_hit_rate < 0.5"), "0.5");
  EXPECT_EQ(ConditionThreshold("error_rate >= 0.05"), "0.05");
  EXPECT_EQ(ConditionThreshold("declining(conversion, 3)"), "");
  EXPECT_EQ(ConditionThreshold("state == \"open\""), "");
}

TEST(NotifyPayloadTest, NonFiniteValuesStayValidJson) {
  Notification a = Firing();
  a.value = std::numeric_limits<double>::quiet_NaN();
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(PagerDutyEventJson(a, "k", Ctx()));
  EXPECT_EQ(JsonString(e["payload"]["custom_details"], "value"), "NaN");
}

}  // namespace
}  // namespace vigil
