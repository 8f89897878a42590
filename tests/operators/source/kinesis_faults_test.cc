// KinesisSource under throttling, server errors, dropped connections, an
// outage and a server restart: every record still arrives exactly once.
#include <atomic>
#include <thread>

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

TEST(KinesisFaultsTest, ThrottlingServerErrorsAndDroppedConnections) {
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  const std::vector<TestEvent> events = testing::MakeEvents(2000);
  testing::PutEvents(*server, "events", events, 0, 1000);

  // Intermittent faults, then an outage (every request fails), then faults
  // again, then none.
  std::atomic<bool> outage{false}, healthy{false};
  FaultProxy proxy(server->port(), [&](const ProxyRequest& r) {
    if (outage) return ProxyAction::kServerError;
    if (healthy) return ProxyAction::kForward;
    const uint64_t i = r.index;
    if (r.operation == "GetRecords") {
      if (i % 5 == 1) return ProxyAction::kThrottle;
      if (i % 7 == 2) return ProxyAction::kServerError;
      if (i % 11 == 3) return ProxyAction::kDropAfter;  // answered, response lost
      if (i % 13 == 4) return ProxyAction::kDropBefore;
    }
    if (r.operation == "GetShardIterator" && i % 3 == 0) return ProxyAction::kThrottle;
    if (r.operation == "ListShards" && i % 2 == 0) return ProxyAction::kServerError;
    return ProxyAction::kForward;
  });
  testing::ProxiedServer via(&proxy);
  KinesisSourceOptions o = testing::TestSourceOptions(via, "events");
  o.max_records_per_call = 50;  // many calls, so many faults
  std::unique_ptr<KinesisSource> source = *OpenKinesisSource(o);
  std::vector<Delivered> got;
  ASSERT_TRUE(testing::ReadUntil(source.get(), &got, [&] { return got.size() >= 600; }))
      << got.size() << "; " << source->last_error();

  // An outage: every request fails until it ends.
  outage = true;
  ASSERT_TRUE(testing::ReadUntil(
      source.get(), &got, [&] { return !source->connected(); }, std::chrono::seconds(5)));
  EXPECT_NE(source->last_error().find("InternalFailure"), std::string::npos)
      << source->last_error();
  testing::PutEvents(*server, "events", events, 1000, 2000);
  std::vector<Record> batch;
  for (int i = 0; i < 5; ++i) {
    source->Next(&batch, 1000);
    for (const Record& r : batch) got.push_back({std::string(r.data), r.input, ""});
  }
  EXPECT_FALSE(source->connected());
  outage = false;

  ASSERT_TRUE(testing::ReadUntil(source.get(), &got,
                                 [&] { return got.size() >= events.size() && source->CaughtUp(); }))
      << got.size() << "; " << source->last_error();
  testing::ExpectExactlyOnceInKeyOrder(events, got);
  // Faults off: connected again, and nothing more arrives.
  healthy = true;
  EXPECT_TRUE(testing::ReadUntil(
      source.get(), &got, [&] { return source->connected(); }, std::chrono::seconds(5)));
  EXPECT_EQ(got.size(), events.size());
  const KinesisSource::Stats stats = source->stats();
  EXPECT_GT(proxy.injected(), 20u);
  EXPECT_GT(stats.retries, 20u);
  EXPECT_GT(stats.get_records_calls, 40u);
}

TEST(KinesisFaultsTest, ExpiredIteratorsAreReplaced) {
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 2);
  const std::vector<TestEvent> events = testing::MakeEvents(1000);
  testing::PutEvents(*server, "events", events, 0, events.size());
  // Every 4th GetRecords answered as expired after the server answered it,
  // as a real expiry would look: none of that answer's records arrive.
  FaultProxy expiring(server->port(), nullptr,
                      [](const ProxyRequest& r, int* status, std::string* body) {
                        if (r.operation == "GetRecords" && r.index % 4 == 3) {
                          *status = 400;
                          *body = R"({"__type":"ExpiredIteratorException","message":"expired"})";
                        }
                      });
  testing::ProxiedServer via(&expiring);
  KinesisSourceOptions o = testing::TestSourceOptions(via, "events");
  o.max_records_per_call = 40;
  std::unique_ptr<KinesisSource> source = *OpenKinesisSource(o);
  std::vector<Delivered> got;
  ASSERT_TRUE(testing::ReadUntil(source.get(), &got,
                                 [&] { return got.size() >= events.size() && source->CaughtUp(); }))
      << got.size() << "; " << source->last_error();
  testing::ExpectExactlyOnceInKeyOrder(events, got);
  EXPECT_GT(source->stats().expired_iterators, 3u);
}

TEST(KinesisFaultsTest, ServerRestartMidRun) {
  const testing::TempDir dir;
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start(dir.path() + "/db");
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  const std::vector<TestEvent> events = testing::MakeEvents(2000);
  testing::PutEvents(*server, "events", events, 0, 1000);

  KinesisSourceOptions o = testing::TestSourceOptions(*server, "events");
  o.max_records_per_call = 100;
  std::unique_ptr<KinesisSource> source = *OpenKinesisSource(o);
  std::vector<Delivered> got;
  ASSERT_TRUE(testing::ReadUntil(source.get(), &got, [&] { return got.size() >= 400; }));
  server->Stop();
  ASSERT_TRUE(testing::ReadUntil(
      source.get(), &got, [&] { return !source->connected(); }, std::chrono::seconds(5)));
  const size_t during = got.size();
  ASSERT_TRUE(server->Restart());  // same port, same on-disk data
  testing::PutEvents(*server, "events", events, 1000, 2000);
  ASSERT_TRUE(testing::ReadUntil(source.get(), &got,
                                 [&] { return got.size() >= events.size() && source->CaughtUp(); }))
      << got.size() << "; " << source->last_error();
  EXPECT_TRUE(source->connected());
  EXPECT_LT(during, events.size());
  testing::ExpectExactlyOnceInKeyOrder(events, got);
}

}  // namespace
}  // namespace vigil
