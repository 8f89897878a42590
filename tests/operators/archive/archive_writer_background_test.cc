// ArchiveWriter with background_writes: the store is written on the
// writer's own thread, so a store that hangs or fails never holds the
// caller, and what is written stays exactly what the inline writer writes.
#include <atomic>
#include <filesystem>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "operators/archive/archive_writer.h"
#include "tests/operators/archive/zstd_frames.h"
#include "tests/operators/notify/notify_test_util.h"

namespace vigil {
namespace {

using testing_util::TempDir;

TimeMs T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// A directory store whose batch writes can be held (until released, or
// for at most a minute, which the test then reports) or made to fail.
class GatedStore : public ArchiveStore {
 public:
  explicit GatedStore(const std::string& dir) : inner_(OpenDirArchiveStore(dir)) {}

  struct Gate {
    absl::Mutex mu;
    bool hold ABSL_GUARDED_BY(mu) = false;
    bool fail ABSL_GUARDED_BY(mu) = false;
    int holding ABSL_GUARDED_BY(mu) = 0;  // PutBatch calls waiting now
    std::atomic<int> puts{0};
    std::atomic<bool> held_too_long{false};
  };
  std::shared_ptr<Gate> gate() const { return gate_; }

  const std::string& root() const override { return inner_->root(); }
  absl::StatusOr<ArchiveManifest> Load() override { return inner_->Load(); }
  absl::Status PutBatch(const std::string& rel, std::string_view data) override {
    ++gate_->puts;
    {
      absl::MutexLock lock(&gate_->mu);
      ++gate_->holding;
      const bool released =
          gate_->mu.AwaitWithTimeout(absl::Condition(
                                         +[](bool* hold) { return !*hold; }, &gate_->hold),
                                     absl::Seconds(60));
      --gate_->holding;
      if (!released) gate_->held_too_long = true;
      if (gate_->fail) return absl::UnavailableError("the store is down");
    }
    return inner_->PutBatch(rel, data);
  }
  absl::Status Append(const std::vector<ManifestLine>& lines) override {
    return inner_->Append(lines);
  }
  absl::Status Replace(const std::vector<ManifestLine>& lines) override {
    return inner_->Replace(lines);
  }
  absl::StatusOr<std::vector<std::string>> ListBatches() override { return inner_->ListBatches(); }
  absl::Status DeleteBatch(const std::string& rel) override { return inner_->DeleteBatch(rel); }
  absl::Status DeletePartition(const std::string& rel_dir) override {
    return inner_->DeletePartition(rel_dir);
  }

 private:
  std::unique_ptr<ArchiveStore> inner_;
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
};

class BackgroundArchiveTest : public ::testing::Test {
 protected:
  std::unique_ptr<ArchiveWriter> Open(ArchiveOptions o = {}) {
    o.location = dir_.path();
    o.background_writes = true;
    auto store = std::make_unique<GatedStore>(dir_.path());
    gate_ = store->gate();
    absl::StatusOr<std::unique_ptr<ArchiveWriter>> w =
        ArchiveWriter::Open(std::move(o), std::move(store));
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  void Hold(bool hold) {
    absl::MutexLock lock(&gate_->mu);
    gate_->hold = hold;
  }
  void Fail(bool fail) {
    absl::MutexLock lock(&gate_->mu);
    gate_->fail = fail;
  }
  // Waits until the writer thread is inside PutBatch.
  bool AwaitHolding() {
    absl::MutexLock lock(&gate_->mu);
    return gate_->mu.AwaitWithTimeout(
        absl::Condition(
            +[](int* holding) { return *holding > 0; }, &gate_->holding),
        absl::Seconds(60));
  }
  // Waits (the writer's thread is not the caller's) until `done` holds.
  template <typename F>
  static bool Eventually(F done) {
    for (int i = 0; i < 6000; ++i) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  std::vector<ManifestLine> Manifest() {
    absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(dir_.path() + "/events");
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? m->lines : std::vector<ManifestLine>{};
  }
  std::string Replayed() {
    std::string out;
    absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(dir_.path() + "/events");
    if (!m.ok()) return "";
    for (const ArchiveEntry& e : m->Files()) {
      const std::string path = dir_.path() + "/events/" + e.path;
      absl::StatusOr<std::string> text = ReadArchiveBatch(path);
      EXPECT_TRUE(text.ok()) << text.status();
      if (text.ok()) out += *text;
    }
    return out;
  }

  TempDir dir_;
  std::shared_ptr<GatedStore::Gate> gate_;
};

TEST_F(BackgroundArchiveTest, AStoreThatHangsDoesNotHoldTheCaller) {
  ArchiveOptions o;
  o.max_bytes = 1;  // every record closes its batch
  auto w = Open(o);
  Hold(true);
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(AwaitHolding());  // the first batch is being written, and hangs
  // Written inline, the next Add would wait for the store.
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  w->Tick();
  ArchiveStats s = w->stats();
  EXPECT_EQ(s.pending_batches, 3u);  // the one being written and two behind it
  EXPECT_EQ(s.pending_records, 3u);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(s.failing, "");
  EXPECT_EQ(gate_->puts.load(), 1);
  Hold(false);
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_FALSE(gate_->held_too_long.load());
  EXPECT_EQ(w->stats().records, 3u);
  EXPECT_EQ(w->stats().pending_batches, 0u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

TEST_F(BackgroundArchiveTest, ACheckpointFailsAtOnceWhileWritesFailAndCoversAllOnceTheyWork) {
  ArchiveOptions o;
  o.retry_interval = 3600000;  // no retry comes due during the test
  auto w = Open(o);
  ASSERT_TRUE(w->Restore(0).ok());
  Fail(true);
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  absl::Status first = w->Checkpoint(1);  // waits for the attempt, which fails
  EXPECT_TRUE(absl::IsUnavailable(first)) << first;
  EXPECT_EQ(std::string(first.message()), "not written yet: 1 batch (1 record): the store is down");
  EXPECT_EQ(w->stats().failing, "the store is down");
  const int puts = gate_->puts.load();

  // While failing, a checkpoint does not wait for the store, nor try it:
  // the retry comes when it is due. The record added meanwhile is kept.
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  Hold(true);  // would hang any attempt
  absl::Status second = w->Checkpoint(1);
  EXPECT_EQ(std::string(second.message()),
            "not written yet: 2 batches (2 records): the store is down");
  EXPECT_EQ(gate_->puts.load(), puts);
  Hold(false);

  Fail(false);
  ASSERT_TRUE(w->Flush().ok());  // forces the retry and waits for it
  ASSERT_TRUE(w->Checkpoint(1).ok());
  w->Committed(1);
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  // The mark of checkpoint 1 comes after the batches it covers and before
  // the next epoch's.
  std::vector<ManifestLine> lines = Manifest();
  ASSERT_EQ(lines.size(), 5u);  // the new history's mark, 2 batches, mark 1, 1 batch
  EXPECT_TRUE(lines[0].mark);
  EXPECT_EQ(lines[1].entry.epoch, 1u);
  EXPECT_EQ(lines[2].entry.epoch, 1u);
  EXPECT_TRUE(lines[3].mark);
  EXPECT_EQ(lines[3].checkpoint, 1u);
  EXPECT_EQ(lines[4].entry.epoch, 2u);
  EXPECT_EQ(w->stats().failing, "");
}

TEST_F(BackgroundArchiveTest, RetriesWhenDueAndWritesEveryRecordOnceInOrder) {
  ArchiveOptions o;
  o.max_bytes = 64;
  o.retry_interval = 20;  // real milliseconds: the default clock
  auto w = Open(o);
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    if (i % 500 == 100) Fail(true);
    if (i % 500 == 300) Fail(false);
    const std::string r = "{\"n\":" + std::to_string(i) + "}";
    expected += r + "\n";
    w->Add(r, T("2026-01-01T00:00:00Z") + i * 1000);
    w->Tick();
  }
  Fail(false);
  ASSERT_TRUE(Eventually([&] { return w->stats().pending_batches == 0; }));
  ASSERT_TRUE(w->Flush().ok());
  ArchiveStats s = w->stats();
  EXPECT_EQ(s.records, 2000u);
  EXPECT_EQ(s.dropped_records, 0u);
  EXPECT_EQ(s.failing, "");
  EXPECT_EQ(Replayed(), expected);
}

TEST_F(BackgroundArchiveTest, TheMemoryBoundDropsTheOldestBatchNotBeingWritten) {
  ArchiveOptions o;
  o.max_bytes = 1;
  // One batch of one record is 21 bytes of zstd (checked below): one fits,
  // a second waiting behind the one being written does not.
  o.max_pending_bytes = 40;
  auto w = Open(o);
  Hold(true);
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(AwaitHolding());
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  EXPECT_EQ(w->stats().dropped_records, 2u);
  Hold(false);
  EXPECT_TRUE(w->Flush().ok());  // what it dropped was reported then
  EXPECT_EQ(w->stats().dropped_records, 2u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n");
  EXPECT_GT(w->stats().bytes, 20u);
  EXPECT_LE(w->stats().bytes, 40u);
}

}  // namespace
}  // namespace vigil
