// KinesisSource across a resharding (a split and a merge while records are
// produced and read), on kinesalite (no ChildShards in GetRecords) and on
// kinesis-mock (ChildShards, paginated ListShards).
#include <atomic>
#include <set>
#include <thread>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "operators/source/kinesis_source.h"
#include "tests/operators/source/kinesis_test_util.h"

namespace vigil {
namespace {

using testing::Delivered;
using testing::KinesisServer;
using testing::TestEvent;

using uint128 = unsigned __int128;

uint128 ParseU128(const std::string& s) {
  uint128 v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

std::string FormatU128(uint128 v) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return out;
}

std::vector<KinesisShard> OpenShards(KinesisClient* c, const std::string& stream) {
  std::vector<KinesisShard> open;
  absl::StatusOr<std::vector<KinesisShard>> all = c->ListAllShards(stream);
  EXPECT_TRUE(all.ok()) << all.status();
  if (!all.ok()) return open;
  for (const KinesisShard& s : *all) {
    if (!s.closed()) open.push_back(s);
  }
  return open;
}

// Reads while another thread produces the events in three parts, splitting
// the first open shard after the first part and merging the last two after
// the second.
void ReshardWhileReading(const KinesisServer& server, const std::string& stream,
                         KinesisSourceOptions options) {
  const std::vector<TestEvent> events = testing::MakeEvents(3000);
  testing::PutEvents(server, stream, events, 0, 1000);
  // Small batches keep a backlog in the parents when their children appear.
  options.max_records_per_call = 100;
  absl::StatusOr<std::unique_ptr<KinesisSource>> opened = OpenKinesisSource(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  KinesisSource* source = opened->get();
  std::vector<Delivered> got;
  ASSERT_TRUE(testing::ReadUntil(source, &got, [&] { return got.size() >= 300; }));

  std::atomic<bool> produced{false};
  std::thread producer([&] {
    std::unique_ptr<KinesisClient> admin = server.Client();
    std::vector<KinesisShard> open = OpenShards(admin.get(), stream);
    ASSERT_EQ(open.size(), 4u);
    const uint128 lo = ParseU128(open[0].starting_hash_key);
    const uint128 hi = ParseU128(open[0].ending_hash_key);
    absl::Status s = admin->SplitShard(stream, open[0].shard_id, FormatU128(lo + (hi - lo) / 2));
    ASSERT_TRUE(s.ok()) << s;
    testing::WaitActive(server, stream);
    testing::PutEvents(server, stream, events, 1000, 2000);
    s = admin->MergeShards(stream, open[2].shard_id, open[3].shard_id);
    ASSERT_TRUE(s.ok()) << s;
    testing::WaitActive(server, stream);
    testing::PutEvents(server, stream, events, 2000, 3000);
    produced = true;
  });
  const bool done = testing::ReadUntil(
      source, &got, [&] { return produced && got.size() >= events.size() && source->CaughtUp(); },
      std::chrono::seconds(25));
  producer.join();
  ASSERT_TRUE(done) << got.size() << " of " << events.size() << "; " << source->last_error();
  testing::ExpectExactlyOnceInKeyOrder(events, got);

  // Seven shards: the four, two from the split, one from the merge; the
  // three parents read to their end.
  std::unique_ptr<KinesisClient> admin = server.Client();
  absl::StatusOr<std::vector<KinesisShard>> all = admin->ListAllShards(stream);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);
  ASSERT_EQ(source->input_count(), 7);
  for (const KinesisShard& s : *all) {
    int input = -1;
    for (int i = 0; i < source->input_count(); ++i) {
      if (source->input_name(i) == s.shard_id) input = i;
    }
    ASSERT_GE(input, 0) << s.shard_id;
    EXPECT_EQ(source->input_active(input), !s.closed()) << s.shard_id;
  }
  // Records reached the children.
  std::set<std::string> shards_with_records;
  for (const Delivered& d : got) shards_with_records.insert(d.shard);
  EXPECT_EQ(shards_with_records.size(), 7u);
}

TEST(KinesisReshardTest, SplitAndMergeOnKinesalite) {
  std::unique_ptr<testing::Kinesalite> server = testing::Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "events", 4);
  ReshardWhileReading(*server, "events", testing::TestSourceOptions(*server, "events"));
}

TEST(KinesisReshardTest, SplitAndMergeOnKinesisMock) {
  std::string skip;
  std::unique_ptr<testing::KinesisMock> server = testing::KinesisMock::Start("events:4", &skip);
  if (!server) GTEST_SKIP() << skip;
  // On a loaded machine kinesis-mock has been seen to answer without ever
  // creating the streams of INITIALIZE_STREAMS: create it if it is not
  // there (ResourceInUse when it is, or is being created).
  std::unique_ptr<KinesisClient> client = server->Client();
  ASSERT_TRUE(client);
  client->CreateStream("events", 4).IgnoreError();
  testing::WaitActive(*server, "events");
  KinesisSourceOptions o = testing::TestSourceOptions(*server, "events");
  o.list_shards_page_size = 2;  // follow NextToken
  ReshardWhileReading(*server, "events", o);
}

}  // namespace
}  // namespace vigil
