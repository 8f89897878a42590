// Tests for ReadPublishedOffsets (operators/scale_out/partials.h) against the
// development broker: the newest heartbeat of each partition wins, reading
// back past thousands of panes messages. (That an aborted publication does
// not count is the broker's read_committed isolation; the development
// broker does not hide aborted messages, so it is not tested here.)
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
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

  std::map<std::string, int64_t> Read(const std::vector<std::string>& inputs) {
    absl::StatusOr<std::map<std::string, int64_t>> got = ReadPublishedOffsets(url_, {}, inputs);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::map<std::string, int64_t>{{"error", -2}};
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

}  // namespace
}  // namespace vigil
