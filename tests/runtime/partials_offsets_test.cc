// Tests for ReadPublished (operators/scale_out/partials.h) against the
// development broker: the newest heartbeat of each partition wins, reading
// back past thousands of panes messages, and the keyed state handed over in
// its publication comes with it, in pieces, whole. (That an aborted publication does
// not count is the broker's read_committed isolation; the development
// broker does not hide aborted messages, so it is not tested here.)
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "operators/scale_out/partial_state.h"
#include "operators/scale_out/partials.h"
#include "runtime/dev_broker.h"

namespace vigil {
namespace {

class PublishedOffsetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"partials", 2}});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
    url_ = {broker_->bootstrap(), "partials"};
  }

  std::unique_ptr<PartialsPublisher> Publisher(const std::string& instance) {
    absl::StatusOr<std::unique_ptr<PartialsPublisher>> p =
        PartialsPublisher::Open(url_, {}, instance);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  static PartialHeartbeat Beat(const std::string& instance,
                               std::vector<PartialHeartbeat::Input> inputs) {
    PartialHeartbeat hb;
    hb.instance = instance;
    hb.watermark = 1000;
    hb.inputs = std::move(inputs);
    return hb;
  }

  std::map<std::string, PublishedInput> ReadAll(const std::vector<std::string>& inputs) {
    absl::StatusOr<std::map<std::string, PublishedInput>> got = ReadPublished(url_, {}, inputs);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::map<std::string, PublishedInput>{};
  }
  std::map<std::string, int64_t> Read(const std::vector<std::string>& inputs) {
    std::map<std::string, int64_t> out;
    for (const auto& [name, in] : ReadAll(inputs)) out[name] = in.next_offset;
    return out;
  }

  std::unique_ptr<DevBroker> broker_;
  KafkaUrl url_;
};

TEST_F(PublishedOffsetsTest, AnEmptyTopicNamesNothing) {
  EXPECT_TRUE(Read({"events/0"}).empty());
  EXPECT_TRUE(Read({}).empty());
}

TEST_F(PublishedOffsetsTest, TheNewestHeartbeatOfEachPartitionWins) {
  std::unique_ptr<PartialsPublisher> a = Publisher("a"), b = Publisher("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->PublishMessages(
                   {}, Beat("a", {{"events/0", 900, false, 40}, {"events/1", 900, false, 50}}),
                   nullptr, nullptr)
                  .ok());
  ASSERT_TRUE(a->PublishMessages({},
                                 Beat("a", {{"events/0", 950, false, 100},
                                            {"events/1", 950, false, 60},
                                            {"events/2", 950, false, -1}}),
                                 nullptr, nullptr)
                  .ok());
  // b took events/1 over and published it further, behind 12,000 panes
  // messages: about 6,000 of them land on partition 0 after a's
  // heartbeats, more than the first step read back.
  PartialMessages panes;
  for (int i = 0; i < 12000; ++i) panes.emplace_back("key" + std::to_string(i), "VPP1 filler");
  ASSERT_TRUE(
      b->PublishMessages(panes, Beat("b", {{"events/1", 990, false, 80}}), nullptr, nullptr).ok());

  const std::map<std::string, int64_t> want = {{"events/0", 100}, {"events/1", 80}};
  EXPECT_EQ(Read({"events/0", "events/1", "events/2", "events/9"}), want);
  EXPECT_EQ(Read({"events/1"}), (std::map<std::string, int64_t>{{"events/1", 80}}));
}

TEST_F(PublishedOffsetsTest, TheStateHandedOverComesWithTheNewestHeartbeatOnly) {
  std::unique_ptr<PartialsPublisher> a = Publisher("a"), b = Publisher("b");
  ASSERT_TRUE(a && b);
  // 1.2 MB of state: three pieces.
  std::string state;
  for (int i = 0; state.size() < 1'200'000; ++i) state += "session-" + std::to_string(i) + ";";
  a->HandOver({{"events/1", state}, {"events/0", "small"}});
  ASSERT_TRUE(a->PublishMessages({},
                                 Beat("a", {{"events/0", 950, false, 100},
                                            {"events/1", 960, false, 60},
                                            {"events/2", 950, false, 70}}),
                                 nullptr, nullptr)
                  .ok());
  // Panes published since, on partition 0 as well.
  PartialMessages panes;
  for (int i = 0; i < 12000; ++i) panes.emplace_back("key" + std::to_string(i), "VPP1 filler");
  ASSERT_TRUE(
      b->PublishMessages(panes, Beat("b", {{"events/3", 990, false, 5}}), nullptr, nullptr).ok());

  std::map<std::string, PublishedInput> got = ReadAll({"events/0", "events/1", "events/2"});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got["events/1"].has_state);
  EXPECT_EQ(got["events/1"].state, state);
  EXPECT_EQ(got["events/1"].next_offset, 60);
  EXPECT_EQ(got["events/1"].watermark, 960);
  EXPECT_EQ(got["events/1"].instance, "a");
  EXPECT_EQ(got["events/0"].state, "small");
  EXPECT_FALSE(got["events/2"].has_state);

  // b took events/1 over where a left it and published it: the state is
  // b's now, and what a handed over is history.
  ASSERT_TRUE(
      b->PublishMessages({}, Beat("b", {{"events/1", 970, false, 60}}), nullptr, nullptr).ok());
  got = ReadAll({"events/0", "events/1"});
  EXPECT_FALSE(got["events/1"].has_state);
  EXPECT_EQ(got["events/1"].instance, "b");
  EXPECT_TRUE(got["events/0"].has_state);
}

TEST(PartialStateTest, PiecesPutTogetherInAnyOrder) {
  const std::string state(2000, 'x');
  std::vector<std::string> pieces = EncodeStateChunks("a", 7, "events/1", state + "yz", 1000);
  ASSERT_EQ(pieces.size(), 3u);
  StateAssembler assembler;
  for (int i : {2, 0}) {
    PartialState p;
    ASSERT_TRUE(DecodeStateChunk(pieces[static_cast<size_t>(i)], &p));
    EXPECT_EQ(p.chunks, 3u);
    assembler.Add(std::move(p));
  }
  EXPECT_FALSE(assembler.Take("a", 7, "events/1", 3).has_value());
  PartialState p;
  ASSERT_TRUE(DecodeStateChunk(pieces[1], &p));
  assembler.Add(std::move(p));
  EXPECT_FALSE(assembler.Has("a", 8, "events/1", 3));
  EXPECT_EQ(assembler.Take("a", 7, "events/1", 3), state + "yz");
  EXPECT_FALSE(assembler.Has("a", 7, "events/1", 3));  // taken
  EXPECT_EQ(PeekPartial(pieces[0]), PartialKind::kState);
  EXPECT_FALSE(DecodeStateChunk(pieces[0].substr(0, 10), &p));
}

}  // namespace
}  // namespace vigil
