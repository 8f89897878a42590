// RecordWebhook against a recording HTTP server on loopback: batches in
// order, retries, rejections, and the queue carried through a checkpoint.
#include "runtime/record_webhook.h"

#include <chrono>
#include <string>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/operators/notify/recording_receiver.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using testing_util::Eventually;
using testing_util::RecordedRequest;
using testing_util::RecordingReceiver;

std::unique_ptr<RecordWebhook> Create(const std::string& url, size_t batch = 500,
                                      size_t max_queued = 1000000,
                                      std::optional<std::string> restored = std::nullopt) {
  RecordWebhook::Options o;
  o.url = url;
  o.batch = batch;
  o.max_queued = max_queued;
  o.restored = std::move(restored);
  o.retry_initial = 10;
  o.retry_max = 50;
  o.timeout = 2000;
  absl::StatusOr<std::unique_ptr<RecordWebhook>> w = RecordWebhook::Create(std::move(o));
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? std::move(*w) : nullptr;
}

std::string Record(int i) { return StrCat(R"({"ts":"2026-01-01T00:00:00.000Z","n":)", i, "}"); }

// Every line of the accepted bodies, in order.
std::vector<std::string> Lines(const std::vector<RecordedRequest>& requests) {
  std::vector<std::string> out;
  for (const RecordedRequest& r : requests) {
    for (std::string_view l : StrSplit(r.body, '\n')) {
      if (!l.empty()) out.emplace_back(l);
    }
  }
  return out;
}

TEST(RecordWebhookTest, PostsNdjsonBatchesInOrder) {
  RecordingReceiver rx;
  auto w = Create(rx.url("/records"), 500);
  for (int i = 0; i < 1200; ++i)
    w->Enqueue(i % 2 ? "labeling-queue" : "positive-examples", Record(i));
  w->Flush();
  ASSERT_TRUE(Eventually([&] { return w->stats().sent == 1200; }));
  const std::vector<RecordedRequest> posts = rx.Accepted();
  ASSERT_GE(posts.size(), 3u);  // at most 500 records a POST
  for (const RecordedRequest& p : posts) {
    EXPECT_EQ(p.method, "POST");
    EXPECT_EQ(p.target, "/records");
    EXPECT_NE(p.headers.find("Content-Type: application/x-ndjson"), std::string::npos);
    EXPECT_LE(Lines({p}).size(), 500u);
  }
  const std::vector<std::string> lines = Lines(posts);
  ASSERT_EQ(lines.size(), 1200u);
  EXPECT_EQ(lines[0], StrCat(R"({"output":"positive-examples","record":)", Record(0), "}"));
  EXPECT_EQ(lines[1199], StrCat(R"({"output":"labeling-queue","record":)", Record(1199), "}"));
  for (int i = 0; i < 1200; ++i)
    EXPECT_NE(lines[i].find(StrCat("\"n\":", i, "}")), std::string::npos);
  EXPECT_EQ(w->stats().queued, 0u);
}

TEST(RecordWebhookTest, ServerErrorsAreRetriedAndRejectionsCounted) {
  RecordingReceiver rx;
  rx.FailNext(2, 503);
  auto w = Create(rx.url("/r"), 10);
  for (int i = 0; i < 5; ++i) w->Enqueue("q", Record(i));
  ASSERT_TRUE(Eventually([&] { return w->stats().sent == 5; }));
  EXPECT_EQ(w->stats().retried, 2u);
  EXPECT_EQ(Lines(rx.Accepted()).size(), 5u);  // once each

  rx.FailNext(1, 400);
  testing::internal::CaptureStderr();
  w->Enqueue("q", Record(9));
  ASSERT_TRUE(Eventually([&] { return w->stats().failed == 1; }));
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("rejected 1 record(s), not retrying: HTTP 400"), std::string::npos) << log;
  EXPECT_EQ(w->stats().retried, 2u);  // a 400 is not retried
}

TEST(RecordWebhookTest, WhatIsNotAcceptedIsInTheCheckpointAndSentAfterARestore) {
  RecordingReceiver rx;
  rx.Stop();  // down: connections refused
  std::string state;
  {
    auto w = Create(rx.url("/r"));
    for (int i = 0; i < 3; ++i) w->Enqueue("q", Record(i));
    CheckpointData data;
    ASSERT_TRUE(w->Prepare(1, &data).ok());
    ASSERT_EQ(data.panes.size(), 1u);
    EXPECT_EQ(data.panes[0].first, RecordWebhook::kStateKey);
    state = data.panes[0].second;
  }
  rx.Restart();
  auto w = Create(rx.url("/r"), 500, 1000000, state);
  w->Enqueue("q", Record(3));
  ASSERT_TRUE(Eventually([&] { return w->stats().sent == 4; }));
  const std::vector<std::string> lines = Lines(rx.Accepted());
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_NE(lines[i].find(StrCat("\"n\":", i, "}")), std::string::npos);

  const std::string bad = "\x07garbage";
  RecordWebhook::Options o;
  o.url = rx.url("/r");
  o.restored = bad;
  absl::StatusOr<std::unique_ptr<RecordWebhook>> refused = RecordWebhook::Create(std::move(o));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "records webhook: unreadable state in the checkpoint");
}

TEST(RecordWebhookTest, OverTheBoundTheOldestWaitingAreDropped) {
  RecordingReceiver rx;
  rx.HangAll(true);  // the first POST hangs: everything else waits
  auto w = Create(rx.url("/r"), 1, 3);
  w->Enqueue("q", Record(0));
  ASSERT_TRUE(rx.WaitForRequests(1, 5s));  // record 0 in flight
  testing::internal::CaptureStderr();
  for (int i = 1; i <= 4; ++i) w->Enqueue("q", Record(i));
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(w->stats().dropped, 2u);  // 1 and 2; 0 is in flight, 3 and 4 wait
  EXPECT_EQ(w->stats().queued, 3u);
  rx.HangAll(false);
  ASSERT_TRUE(Eventually([&] { return w->stats().queued == 0; }));
  std::vector<std::string> lines = Lines(rx.Accepted());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines[lines.size() - 2].find("\"n\":3}"), std::string::npos);
  EXPECT_NE(lines.back().find("\"n\":4}"), std::string::npos);
}

}  // namespace
}  // namespace vigil
