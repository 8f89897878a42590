// KinesisSource against kinesalite: every record exactly once and per key in
// order, window results equal to a direct feed, positions, instance split,
// the per-shard call rate.
#include "operators/source/kinesis_source.h"

#include <algorithm>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/operators/dataflow/operator_harness.h"
#include "tests/operators/source/kinesis_test_util.h"

namespace vigil {
namespace {

using testing::Delivered;
using testing::Kinesalite;
using testing::TestEvent;
using testing::TestSourceOptions;

constexpr char kRules[] = R"(
metrics:
  - metric: messages
    where: type == "message"
    window: tumbling 1m
    by: intent
    value: count()
  - metric: latency_p95_ms
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.95, latency_ms)
  - metric: error_rate
    where: type == "message"
    window: sliding 2m every 1m
    value: ratio(error_service != null)
  - metric: feedback
    where: type == "feedback"
    window: tumbling 1m
    value: sum(rating)
)";

// The window results of `events`, fed in the order given, as sorted text.
std::vector<std::string> WindowResults(const std::vector<std::string>& events) {
  OperatorHarness h(kRules);
  for (const std::string& json : events) h.AddJson(json);
  std::vector<std::string> out = h.CloseToLines(kMaxTime);
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<KinesisSource> Open(KinesisSourceOptions o) {
  absl::StatusOr<std::unique_ptr<KinesisSource>> s = OpenKinesisSource(std::move(o));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(KinesisSourceTest, ReadsEveryRecordOnceInKeyOrder) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  const std::vector<TestEvent> events = testing::MakeEvents(3000);
  testing::PutEvents(*server, "events", events, 0, events.size());

  std::unique_ptr<KinesisSource> source = Open(TestSourceOptions(*server, "events"));
  EXPECT_EQ(source->name(), "kinesis:events");
  EXPECT_FALSE(source->bounded());
  EXPECT_STREQ(source->lag_unit(), "ms");
  std::vector<Delivered> got;
  ASSERT_TRUE(testing::ReadUntil(source.get(), &got,
                                 [&] { return got.size() >= events.size() && source->CaughtUp(); }))
      << got.size() << " of " << events.size() << "; " << source->last_error();
  testing::ExpectExactlyOnceInKeyOrder(events, got);

  ASSERT_EQ(source->input_count(), 4);
  std::set<std::string> names;
  for (int i = 0; i < 4; ++i) {
    names.insert(source->input_name(i));
    EXPECT_TRUE(source->input_active(i));
    EXPECT_EQ(source->input_lag(i), 0);
  }
  EXPECT_EQ(names, (std::set<std::string>{"shardId-000000000000", "shardId-000000000001",
                                          "shardId-000000000002", "shardId-000000000003"}));
  for (const Delivered& d : got) EXPECT_EQ(d.shard, source->input_name(d.input));
  EXPECT_TRUE(source->connected());
  EXPECT_FALSE(source->Drained());  // open shards never end

  // The windows computed from the shards' interleaving equal those of the
  // events fed in their original order.
  std::vector<std::string> direct, via_kinesis;
  for (const TestEvent& e : events) direct.push_back(e.json);
  for (const Delivered& d : got) via_kinesis.push_back(d.json);
  const std::vector<std::string> expected = WindowResults(direct);
  EXPECT_GT(expected.size(), 10u);
  EXPECT_EQ(WindowResults(via_kinesis), expected);
}

TEST(KinesisSourceTest, LineCountsRecordsPerShard) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "s", 2);
  const std::vector<TestEvent> events = testing::MakeEvents(200);
  testing::PutEvents(*server, "s", events, 0, events.size());
  std::unique_ptr<KinesisSource> source = Open(TestSourceOptions(*server, "s"));
  std::vector<Record> batch;
  std::map<int, uint64_t> lines;
  size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (total < events.size() && std::chrono::steady_clock::now() < deadline) {
    source->Next(&batch, 7);  // small batches: a GetRecords batch spans calls
    EXPECT_LE(batch.size(), 7u);
    for (const Record& r : batch) {
      EXPECT_EQ(r.line, ++lines[r.input]);
      EXPECT_EQ(r.offset, 0u);
      EXPECT_EQ(r.size, r.data.size());
      EXPECT_FALSE(r.oversized);
      ++total;
    }
  }
  EXPECT_EQ(total, events.size());
  EXPECT_EQ(source->bytes_read() > 0, true);
}

TEST(KinesisSourceTest, PositionsResumeAfterTheLastRecordReturned) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  const std::vector<TestEvent> events = testing::MakeEvents(3000);
  testing::PutEvents(*server, "events", events, 0, 1500);
  // Shard 1 closes (split): its end must stay finished across the restore.
  std::unique_ptr<KinesisClient> admin = server->Client();
  ASSERT_TRUE(
      admin->SplitShard("events", "shardId-000000000001", "120000000000000000000000000000000000000")
          .ok());
  testing::WaitActive(*server, "events");
  testing::PutEvents(*server, "events", events, 1500, 2000);

  std::vector<Delivered> got;
  std::string positions;
  {
    KinesisSourceOptions o = TestSourceOptions(*server, "events");
    o.max_records_per_call = 100;  // fetch ahead of what Next returns
    std::unique_ptr<KinesisSource> first = Open(o);
    ASSERT_TRUE(testing::ReadUntil(first.get(), &got, [&] {
      return got.size() >= 1200 && !first->input_active(1);
    })) << got.size();
    EXPECT_EQ(first->input_name(1), "shardId-000000000001");
    positions = first->SavePositions();
  }
  EXPECT_NE(positions.find(R"("shardId-000000000001":{"seq":")"), std::string::npos) << positions;
  EXPECT_NE(positions.find(R"(,"done":true})"), std::string::npos) << positions;
  testing::PutEvents(*server, "events", events, 2000, 3000);

  std::unique_ptr<KinesisSource> second = Open(TestSourceOptions(*server, "events"));
  ASSERT_TRUE(second->RestorePositions(positions).ok());
  ASSERT_TRUE(testing::ReadUntil(second.get(), &got,
                                 [&] { return got.size() >= events.size() && second->CaughtUp(); }))
      << got.size() << "; " << second->last_error();
  testing::ExpectExactlyOnceInKeyOrder(events, got);
  for (int i = 0; i < second->input_count(); ++i) {
    EXPECT_NE(second->input_name(i), "shardId-000000000001");  // finished before
  }
  // Positions survive a save with nothing read.
  std::unique_ptr<KinesisSource> third = Open(TestSourceOptions(*server, "events"));
  ASSERT_TRUE(third->RestorePositions(second->SavePositions()).ok());
  std::vector<Delivered> none;
  testing::ReadUntil(third.get(), &none, [&] { return third->CaughtUp(); });
  EXPECT_TRUE(none.empty()) << none.size() << " records read again";
}

TEST(KinesisSourceTest, RestoreRejectsMalformedPositions) {
  KinesisSourceOptions o;
  o.stream = "s";
  o.endpoint = "http://127.0.0.1:1";
  std::unique_ptr<KinesisSource> s = Open(o);
  EXPECT_FALSE(s->RestorePositions("[1,2]").ok());
  EXPECT_FALSE(s->RestorePositions(R"({"shards":{"a":{}}})").ok());
  EXPECT_TRUE(s->RestorePositions("").ok());
  EXPECT_TRUE(s->RestorePositions(R"({"v":1,"shards":{"a":{"seq":"12"},"b":{"done":true}}})").ok());
  EXPECT_EQ(s->SavePositions(), R"({"v":1,"shards":{"a":{"seq":"12"},"b":{"done":true}}})");
  // A shard's record count (the dead letters' `line`) and, for one with no
  // record yet, the time it starts at come back as they were saved.
  KinesisSourceOptions o2 = o;
  std::unique_ptr<KinesisSource> s2 = Open(o2);
  const std::string kept =
      R"({"v":1,"shards":{"a":{"seq":"12","line":40},"b":{"line":9,"done":true},)"
      R"("c":{"at":1767225600000}}})";
  EXPECT_TRUE(s2->RestorePositions(kept).ok());
  EXPECT_EQ(s2->SavePositions(), kept);
  std::vector<Record> batch;
  s->Next(&batch, 10);
  EXPECT_FALSE(s->RestorePositions("").ok());  // after the first Next
  EXPECT_FALSE(s->connected());
}

TEST(KinesisSourceTest, OptionsAreChecked) {
  KinesisSourceOptions o;
  EXPECT_FALSE(OpenKinesisSource(o).ok());
  o.stream = "s";
  o.endpoint = "http://127.0.0.1:1";
  o.instance_count = 2;
  o.instance_index = 2;
  EXPECT_FALSE(OpenKinesisSource(o).ok());
  o.instance_index = 1;
  o.max_records_per_call = 10001;
  EXPECT_FALSE(OpenKinesisSource(o).ok());
  o.max_records_per_call = 10000;
  EXPECT_TRUE(OpenKinesisSource(o).ok());
}

TEST(KinesisSourceTest, RendezvousOwnershipIsBalancedAndStable) {
  std::vector<int> per_instance(3, 0);
  int moved = 0, moved_elsewhere = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string id = StrCat("shardId-", 100000000000 + i);
    const int owner = KinesisShardOwner(id, 3);
    ASSERT_GE(owner, 0);
    ASSERT_LT(owner, 3);
    ++per_instance[owner];
    const int after = KinesisShardOwner(id, 4);
    if (after != owner) {
      ++moved;
      if (after != 3) ++moved_elsewhere;  // only to the new instance
    }
    EXPECT_EQ(KinesisShardOwner(id, 1), 0);
  }
  for (int n : per_instance) EXPECT_NEAR(n, 1000, 150);
  EXPECT_NEAR(moved, 750, 120);
  EXPECT_EQ(moved_elsewhere, 0);
}

TEST(KinesisSourceTest, InstancesSplitTheShards) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  const std::vector<TestEvent> events = testing::MakeEvents(2000);
  testing::PutEvents(*server, "events", events, 0, events.size());

  std::vector<std::unique_ptr<KinesisSource>> sources;
  for (int i = 0; i < 2; ++i) {
    KinesisSourceOptions o = TestSourceOptions(*server, "events");
    o.instance_index = i;
    o.instance_count = 2;
    sources.push_back(Open(o));
  }
  std::vector<Delivered> got;
  std::set<std::string> shards[2];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<Record> batch;
  while (std::chrono::steady_clock::now() < deadline &&
         !(got.size() >= events.size() && sources[0]->CaughtUp() && sources[1]->CaughtUp())) {
    for (int i = 0; i < 2; ++i) {
      sources[i]->Next(&batch, 500);
      for (const Record& r : batch) {
        got.push_back({std::string(r.data), r.input, sources[i]->input_name(r.input)});
        shards[i].insert(sources[i]->input_name(r.input));
      }
    }
  }
  testing::ExpectExactlyOnceInKeyOrder(events, got);
  for (int i = 0; i < 2; ++i) {
    for (const std::string& s : shards[i]) EXPECT_EQ(KinesisShardOwner(s, 2), i) << s;
    EXPECT_EQ(sources[i]->input_count(), static_cast<int>(shards[i].size()));
  }
  EXPECT_EQ(shards[0].size() + shards[1].size(), 4u);
  EXPECT_FALSE(shards[0].empty());  // both instances have work on this stream
  EXPECT_FALSE(shards[1].empty());
}

TEST(KinesisSourceTest, OwnerOfOnlyAClosedParentIsDrained) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "s", 1);
  const std::vector<TestEvent> events = testing::MakeEvents(300);
  testing::PutEvents(*server, "s", events, 0, events.size());
  std::unique_ptr<KinesisClient> admin = server->Client();
  ASSERT_TRUE(
      admin->SplitShard("s", "shardId-000000000000", "170141183460469231731687303715884105728")
          .ok());
  testing::WaitActive(*server, "s");
  // An instance count under which one instance owns the parent and neither child.
  int count = 0, index = 0;
  for (int n = 2; n < 16 && count == 0; ++n) {
    const int p = KinesisShardOwner("shardId-000000000000", n);
    if (p != KinesisShardOwner("shardId-000000000001", n) &&
        p != KinesisShardOwner("shardId-000000000002", n)) {
      count = n;
      index = p;
    }
  }
  ASSERT_GT(count, 0);
  KinesisSourceOptions o = TestSourceOptions(*server, "s");
  o.instance_index = index;
  o.instance_count = count;
  std::unique_ptr<KinesisSource> source = Open(o);
  std::vector<Delivered> got;
  ASSERT_TRUE(testing::ReadUntil(source.get(), &got, [&] { return source->Drained(); }));
  testing::ExpectExactlyOnceInKeyOrder(events, got);
  ASSERT_EQ(source->input_count(), 1);
  EXPECT_FALSE(source->input_active(0));
  EXPECT_NE(source->SavePositions().find(R"("shardId-000000000000":{"seq":")"), std::string::npos)
      << source->SavePositions();
  EXPECT_NE(source->SavePositions().find(R"("done":true)"), std::string::npos);
}

TEST(KinesisSourceTest, NeverMoreThanFiveGetRecordsPerSecondPerShard) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "s", 2);
  testing::FaultProxy proxy(server->port(), nullptr);
  testing::ProxiedServer via(&proxy);
  KinesisSourceOptions o = TestSourceOptions(via, "s");
  o.poll_interval = 0;         // as fast as allowed
  o.max_records_per_call = 1;  // always "behind" while there are records
  std::unique_ptr<KinesisSource> source = Open(o);
  testing::PutEvents(*server, "s", testing::MakeEvents(200), 0, 200);
  std::vector<Record> batch;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < end) source->Next(&batch, 100);
  const std::vector<int64_t> times = proxy.get_records_times();
  size_t max_in_window = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    size_t j = i;
    while (j < times.size() && times[j] < times[i] + 1000) ++j;
    max_in_window = std::max(max_in_window, j - i);
  }
  EXPECT_LE(max_in_window, 10u) << "2 shards x 5 calls/s";
  EXPECT_GE(times.size(), 15u) << "polls at the allowed rate";
}

}  // namespace
}  // namespace vigil
