// tests/operators/notify/notifier_test_util.h
//
// What the Notifier tests against loopback receivers share: a base config,
// receivers, stats and the alerts a receiver got.
#ifndef VIGIL_TESTS_OPERATORS_NOTIFY_NOTIFIER_TEST_UTIL_H_
#define VIGIL_TESTS_OPERATORS_NOTIFY_NOTIFIER_TEST_UTIL_H_

#include <simdjson.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "operators/notify/notifier.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/operators/notify/recording_receiver.h"

namespace vigil {
namespace testing_util {

inline constexpr char kRoutingKey[] = "R0UT1NGKEYSECRET0123456789abcdef";

inline NotifyConfig BaseConfig() {
  NotifyConfig c;
  c.labels = {{"job", "vigil"}, {"instance", "vigil-0"}};
  c.external_url = "http://vigil.test:9464";
  c.timeout = 2000;
  c.retry_initial = 20;
  c.retry_max = 100;
  return c;
}

inline NotifyReceiver Receiver(const std::string& name, NotifyReceiver::Kind kind,
                               std::vector<std::string> urls) {
  NotifyReceiver r;
  r.name = name;
  r.kind = kind;
  r.urls = std::move(urls);
  return r;
}

inline NotifyReceiver Webhook(const std::string& name, const RecordingReceiver& rx) {
  return Receiver(name, NotifyReceiver::Kind::kWebhook, {rx.url("/hook/" + name)});
}

inline std::unique_ptr<Notifier> MustCreate(NotifyConfig c) {
  absl::StatusOr<std::unique_ptr<Notifier>> n = Notifier::Create(std::move(c));
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? std::move(*n) : nullptr;
}

inline ReceiverStats StatsOf(const Notifier& n, const std::string& receiver, size_t index = 0) {
  for (const ReceiverStats& s : n.Stats()) {
    if (s.receiver == receiver && index-- == 0) return s;
  }
  ADD_FAILURE() << "no stats for " << receiver;
  return {};
}

inline simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& body) {
  return parser.parse(body);
}

// The alertnames in the webhook bodies `requests` carried, in order.
inline std::vector<std::string> AlertNames(const std::vector<RecordedRequest>& requests) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : requests) {
    simdjson::dom::element e = Parse(parser, r.body);
    for (simdjson::dom::element a : e["alerts"].get_array()) {
      out.push_back(JsonString(a["labels"], "alertname") + ":" + JsonString(a, "status"));
    }
  }
  return out;
}

// The alerts of every POST /api/v2/alerts body: alertname and endsAt.
inline std::vector<std::pair<std::string, std::string>> AmAlerts(
    const std::vector<RecordedRequest>& rs) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : rs) {
    EXPECT_EQ(r.target, "/prefix/api/v2/alerts");
    for (simdjson::dom::element a : Parse(parser, r.body).get_array()) {
      out.emplace_back(JsonString(a["labels"], "alertname"), JsonString(a, "endsAt"));
    }
  }
  return out;
}

}  // namespace testing_util
}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_NOTIFY_NOTIFIER_TEST_UTIL_H_
