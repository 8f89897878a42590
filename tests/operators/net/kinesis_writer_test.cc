#include "operators/net/kinesis_writer.h"

#include <simdjson.h>

#include <atomic>
#include <mutex>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "operators/source/kinesis_source.h"
#include "tests/operators/source/kinesis_test_util.h"

namespace vigil {
namespace {

using testing::Delivered;
using testing::FaultProxy;
using testing::ProxyAction;
using testing::ProxyRequest;
using testing::TestEvent;

TEST(KinesisProducerTest, ParsesKinesisUrls) {
  absl::StatusOr<KinesisUrl> u =
      ParseKinesisUrl("kinesis://events?endpoint=http://127.0.0.1:4567&region=eu-west-1");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->stream, "events");
  EXPECT_EQ(u->endpoint, "http://127.0.0.1:4567");
  EXPECT_EQ(u->region, "eu-west-1");
  u = ParseKinesisUrl("kinesis://events");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->endpoint, "");
  EXPECT_EQ(u->region, "");
  u = ParseKinesisUrl("kinesis://s?endpoint=http%3A%2F%2F127.0.0.1%3A1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->endpoint, "http://127.0.0.1:1");
  EXPECT_FALSE(ParseKinesisUrl("kafka://events").ok());
  EXPECT_FALSE(ParseKinesisUrl("kinesis://").ok());
  EXPECT_FALSE(ParseKinesisUrl("kinesis://?region=x").ok());
  absl::StatusOr<KinesisUrl> bad = ParseKinesisUrl("kinesis://s?shards=4");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("shards"), absl::string_view::npos);
}

TEST(KinesisProducerTest, RejectsInvalidRecords) {
  KinesisWriterOptions o;
  o.stream = "s";
  o.endpoint = "http://127.0.0.1:1";
  std::unique_ptr<KinesisWriter> w = *KinesisWriter::Open(o);
  EXPECT_EQ(w->Write("", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w->Write(std::string(257, 'k'), "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(w->Write(std::string(256, 'k'), "x").ok());
  EXPECT_EQ(w->Write("k", std::string((1 << 20) + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w->buffered(), 1u);
  o.max_batch_records = 501;
  EXPECT_FALSE(KinesisWriter::Open(o).ok());
}

// Counts the records and data bytes of every PutRecords request.
struct PutLog {
  std::mutex mu;
  std::vector<size_t> records, bytes;

  void Add(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(body).get(root), simdjson::SUCCESS);
    size_t n = 0, total = 0;
    for (simdjson::dom::element r : root["Records"].get_array()) {
      std::string data;
      ASSERT_TRUE(internal::DecodeBase64(r["Data"].get_string().value(), &data));
      total += data.size() + r["PartitionKey"].get_string().value().size();
      ++n;
    }
    std::lock_guard lock(mu);
    records.push_back(n);
    bytes.push_back(total);
  }
};

std::unique_ptr<KinesisWriter> OpenWriter(const std::string& endpoint, const std::string& stream) {
  KinesisWriterOptions o;
  o.stream = stream;
  o.endpoint = endpoint;
  o.region = "us-east-1";  // the test servers' region, whatever the environment says
  o.backoff_base = 5;
  o.backoff_max = 50;
  absl::StatusOr<std::unique_ptr<KinesisWriter>> w = KinesisWriter::Open(o);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? std::move(*w) : nullptr;
}

std::vector<Delivered> ReadAll(const testing::KinesisServer& server, const std::string& stream,
                               size_t expected) {
  std::unique_ptr<KinesisSource> source =
      *OpenKinesisSource(testing::TestSourceOptions(server, stream));
  std::vector<Delivered> got;
  EXPECT_TRUE(testing::ReadUntil(source.get(), &got,
                                 [&] { return got.size() >= expected && source->CaughtUp(); }))
      << got.size() << " of " << expected;
  return got;
}

TEST(KinesisProducerTest, BatchesStayWithinTheServiceLimits) {
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "s", 2);
  PutLog log;
  FaultProxy proxy(server->port(), [&](const ProxyRequest& r) {
    if (r.operation == "PutRecords") log.Add(r.body);
    return ProxyAction::kForward;
  });
  std::unique_ptr<KinesisWriter> w = OpenWriter(proxy.endpoint(), "s");
  for (int i = 0; i < 1234; ++i) ASSERT_TRUE(w->Write(StrCat("k", i % 17), StrCat(i)).ok());
  EXPECT_EQ(log.records, (std::vector<size_t>{500, 500}));  // sent as they filled
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(log.records, (std::vector<size_t>{500, 500, 234}));
  EXPECT_EQ(w->buffered(), 0u);

  // 900 KB records: five fit in 5 MiB, six do not.
  log.records.clear();
  log.bytes.clear();
  const std::string big(900 * 1000, 'x');
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(w->Write("big", big).ok());
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(log.records, (std::vector<size_t>{5, 5, 2}));
  for (size_t b : log.bytes) EXPECT_LE(b, 5u << 20);
  EXPECT_EQ(w->stats().records_written, 1246u);
  EXPECT_EQ(w->stats().put_calls, 6u);
}

TEST(KinesisProducerTest, ResendsOnlyTheFailedRecordsOfAPartialFailure) {
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  const std::vector<TestEvent> events = testing::MakeEvents(2000);

  // The first three PutRecords calls: every third record is refused (not
  // forwarded) and reported failed, the others forwarded and reported as
  // the server answered; the fourth call is throttled whole.
  std::atomic<size_t> failed_injected{0};
  PutLog sent;
  FaultProxy proxy(
      server->port(),
      [&](const ProxyRequest& r) {
        if (r.operation != "PutRecords") return ProxyAction::kForward;
        sent.Add(r.body);
        return r.index == 3 ? ProxyAction::kThrottle : ProxyAction::kForward;
      },
      nullptr,
      [&](const ProxyRequest& r, const FaultProxy::Forward& forward, int* status,
          std::string* body) {
        if (r.operation != "PutRecords" || r.index >= 3) return false;
        simdjson::dom::parser parser;
        simdjson::dom::element root = parser.parse(r.body).value();
        std::vector<std::string> records;
        for (simdjson::dom::element e : root["Records"].get_array()) {
          records.push_back(std::string(simdjson::minify(e)));
        }
        std::string reduced = R"({"StreamName":"events","Records":[)";
        size_t kept = 0;
        for (size_t i = 0; i < records.size(); ++i) {
          if (i % 3 == 1) continue;
          StrAppend(&reduced, kept++ ? "," : "", records[i]);
        }
        reduced += "]}";
        absl::StatusOr<HttpClientResponse> resp = forward(reduced);
        if (!resp.ok() || resp->status != 200) return false;
        simdjson::dom::parser p2;
        simdjson::dom::array results = p2.parse(resp->body)["Records"].get_array().value();
        std::string out =
            StrCat(R"({"FailedRecordCount":)", records.size() - kept, R"(,"Records":[)");
        auto result = results.begin();
        for (size_t i = 0; i < records.size(); ++i) {
          if (i) out += ",";
          if (i % 3 == 1) {
            out += R"({"ErrorCode":"ProvisionedThroughputExceededException",)"
                   R"("ErrorMessage":"Rate exceeded for shard"})";
            ++failed_injected;
          } else {
            out += std::string(simdjson::minify(*result));
            ++result;
          }
        }
        out += "]}";
        *status = 200;
        *body = out;
        return true;
      });

  std::unique_ptr<KinesisWriter> w = OpenWriter(proxy.endpoint(), "events");
  for (const TestEvent& e : events) ASSERT_TRUE(w->Write(e.key, e.json).ok());
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_GT(failed_injected.load(), 200u);
  EXPECT_EQ(w->stats().records_retried, failed_injected.load());
  EXPECT_EQ(w->stats().calls_retried, 1u);
  EXPECT_EQ(w->stats().records_written, events.size());
  // Only the failed records were sent again (plus the throttled call's).
  size_t total_sent = 0;
  for (size_t n : sent.records) total_sent += n;
  EXPECT_EQ(total_sent, events.size() + failed_injected.load() + sent.records[3]);

  // Every record landed once (order per key is best effort under failures).
  std::vector<Delivered> got = ReadAll(*server, "events", events.size());
  testing::ExpectExactlyOnceInKeyOrder(events, got, /*check_order=*/false);
}

TEST(KinesisProducerTest, MissingStreamIsReported) {
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start();
  ASSERT_TRUE(server);
  std::unique_ptr<KinesisWriter> w = OpenWriter(server->endpoint(), "nope");
  ASSERT_TRUE(w->Write("k", "x").ok());
  const absl::Status s = w->Flush();
  EXPECT_EQ(KinesisErrorOf(s), KinesisErrorKind::kResourceNotFound) << s;
  EXPECT_EQ(w->buffered(), 1u);  // kept for the caller to decide
}

}  // namespace
}  // namespace vigil
