#include "operators/archive/archive_writer.h"

#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/operators/archive/zstd_frames.h"
#include "tests/operators/notify/notify_test_util.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing_util::TempDir;
using Strings = std::vector<std::string>;

TimeMs T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Decompress(const std::string& path) { return ZstdFrames(ReadAll(path), path); }

class ArchiveTest : public ::testing::Test {
 protected:
  ArchiveOptions Options() {
    ArchiveOptions o;
    o.location = dir_.path();
    o.clock = [this] { return now_; };
    return o;
  }
  std::unique_ptr<ArchiveWriter> Open(ArchiveOptions o) {
    absl::StatusOr<std::unique_ptr<ArchiveWriter>> w = ArchiveWriter::Open(std::move(o));
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  std::string Root() const { return dir_.path() + "/events"; }
  std::vector<ArchiveEntry> Listed() {
    absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(Root());
    if (absl::IsNotFound(m.status())) return {};
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return {};
    EXPECT_EQ(m->problems, Strings{});
    return m->Files();
  }
  Strings ListedPaths() {
    Strings out;
    for (const ArchiveEntry& e : Listed()) out.push_back(e.path);
    return out;
  }
  // Every regular file below the root except MANIFEST and LOCK.
  std::set<std::string> FilesOnDisk() {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(Root())) {
      const std::string rel = e.path().string().substr(Root().size() + 1);
      if (e.is_regular_file() && rel != "MANIFEST" && rel != "LOCK") out.insert(rel);
    }
    return out;
  }
  // The records of the listed batches, in replay order.
  std::string Replayed() {
    std::string out;
    for (const ArchiveEntry& e : Listed()) out += Decompress(Root() + "/" + e.path);
    return out;
  }

  TempDir dir_;
  TimeMs now_ = 1000;
};

TEST_F(ArchiveTest, RecordsGoToTheHourOfTheirEventTime) {
  auto w = Open(Options());
  w->Add(R"({"ts":"2026-01-01T00:10:00Z","n":1})", T("2026-01-01T00:10:00Z"));
  w->Add(R"({"ts":"2026-01-01T01:05:00Z","n":2})", T("2026-01-01T01:05:00Z"));
  w->Add(R"({"ts":"2026-01-01T00:59:59.999Z","n":3})", T("2026-01-01T00:59:59.999Z"));
  w->Add("{\"ts\":\"2026-01-01T02:00:00Z\",\n\"n\":4}", T("2026-01-01T02:00:00Z"));
  EXPECT_EQ(ListedPaths(), Strings{});  // nothing closed yet
  ASSERT_TRUE(w->Flush().ok());

  const std::vector<ArchiveEntry> files = Listed();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, "2026/01/01/00/0000000001-20260101T001000.000Z.ndjson.zst");
  EXPECT_EQ(files[1].path, "2026/01/01/01/0000000002-20260101T010500.000Z.ndjson.zst");
  EXPECT_EQ(files[2].path, "2026/01/01/02/0000000003-20260101T020000.000Z.ndjson.zst");
  EXPECT_EQ(Decompress(Root() + "/" + files[0].path),
            "{\"ts\":\"2026-01-01T00:10:00Z\",\"n\":1}\n"
            "{\"ts\":\"2026-01-01T00:59:59.999Z\",\"n\":3}\n");
  EXPECT_EQ(Decompress(Root() + "/" + files[1].path),
            "{\"ts\":\"2026-01-01T01:05:00Z\",\"n\":2}\n");
  // A line break inside a record (whitespace, in valid JSON) becomes a space.
  EXPECT_EQ(Decompress(Root() + "/" + files[2].path),
            "{\"ts\":\"2026-01-01T02:00:00Z\", \"n\":4}\n");
  EXPECT_EQ(files[0].records, 2u);
  EXPECT_EQ(files[0].bytes, 36u + 40u);
  EXPECT_EQ(files[0].size, fs::file_size(Root() + "/" + files[0].path));
  EXPECT_EQ(files[0].min_ts, T("2026-01-01T00:10:00Z"));
  EXPECT_EQ(files[0].max_ts, T("2026-01-01T00:59:59.999Z"));
  EXPECT_EQ(files[0].epoch, 0u);
  EXPECT_EQ(w->stats().records, 4u);
  EXPECT_EQ(w->stats().batches, 3u);
  EXPECT_EQ(w->stats().bytes, files[0].size + files[1].size + files[2].size);
  EXPECT_EQ(w->stats().errors, 0u);
  const Strings listed = ListedPaths();
  EXPECT_EQ(FilesOnDisk(), std::set<std::string>(listed.begin(), listed.end()));
  // The line format is documented (operators/archive/archive_manifest.h,
  // docs/outputs-and-paging.md).
  const std::string manifest = ReadAll(Root() + "/MANIFEST");
  EXPECT_EQ(manifest.substr(0, manifest.find('\n')),
            "{\"path\":\"2026/01/01/00/0000000001-20260101T001000.000Z.ndjson.zst\",\"seq\":1,"
            "\"records\":2,\"bytes\":76,\"size\":" +
                std::to_string(files[0].size) +
                ",\"min_ts\":\"2026-01-01T00:10:00.000Z\",\"max_ts\":\"2026-01-01T00:59:59.999Z\","
                "\"epoch\":0}");
}

TEST_F(ArchiveTest, ABatchClosesWhenItsUncompressedSizeReachesMaxBytes) {
  ArchiveOptions o = Options();
  o.max_bytes = 100;
  auto w = Open(o);
  const std::string rec = R"({"ts":1767225600000,"x":"abc"})";  // 30 bytes + newline
  ASSERT_EQ(rec.size(), 30u);
  for (int i = 0; i < 3; ++i) w->Add(rec, 1767225600000 + i);
  EXPECT_EQ(Listed().size(), 0u);  // 93 bytes
  w->Add(rec, 1767225600003);      // 124 >= 100
  ASSERT_EQ(Listed().size(), 1u);
  EXPECT_EQ(Listed()[0].records, 4u);
  EXPECT_EQ(Listed()[0].bytes, 124u);
  for (int i = 0; i < 5; ++i) w->Add(rec, 1767225600010 + i);
  EXPECT_EQ(Listed().size(), 2u);  // the 5th record is in a new, open batch
  ASSERT_TRUE(w->Flush().ok());
  const std::vector<ArchiveEntry> files = Listed();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[1].records, 4u);
  EXPECT_EQ(files[2].records, 1u);
  std::string all;
  for (int i = 0; i < 9; ++i) all += rec + "\n";
  EXPECT_EQ(Replayed(), all);
}

TEST_F(ArchiveTest, ABatchClosesAfterFlushIntervalOfProcessingTime) {
  ArchiveOptions o = Options();
  o.flush_interval = 60000;
  auto w = Open(o);
  now_ = 10000;
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  now_ = 69999;
  w->Tick();
  EXPECT_EQ(Listed().size(), 0u);
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));  // joins the open batch
  now_ = 70000;
  w->Tick();
  ASSERT_EQ(Listed().size(), 1u);
  EXPECT_EQ(Listed()[0].records, 2u);
  // The next batch's interval starts with its first record.
  now_ = 100000;
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  now_ = 159999;
  w->Tick();
  EXPECT_EQ(Listed().size(), 1u);
  now_ = 160000;
  w->Tick();
  EXPECT_EQ(Listed().size(), 2u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

TEST_F(ArchiveTest, TheLeastRecentlyWrittenHourClosesWhenTooManyAreOpen) {
  ArchiveOptions o = Options();
  o.max_open_batches = 2;
  auto w = Open(o);
  w->Add(R"({"h":0})", T("2026-01-01T00:00:00Z"));
  w->Add(R"({"h":1})", T("2026-01-01T01:00:00Z"));
  w->Add(R"({"h":0})", T("2026-01-01T00:30:00Z"));
  w->Add(R"({"h":2})", T("2026-01-01T02:00:00Z"));  // hour 1 was written least recently
  ASSERT_EQ(Listed().size(), 1u);
  EXPECT_EQ(Listed()[0].path.substr(0, 14), "2026/01/01/01/");
}

TEST_F(ArchiveTest, TheManifestListsExactlyTheClosedFilesAndTheirOrder) {
  ArchiveOptions o = Options();
  o.max_bytes = 20;
  auto w = Open(o);
  // Hour 1 is written before hour 0, and hour 0 twice: replay order is by
  // hour, then by write order.
  w->Add(R"({"a":"1:00"})", T("2026-01-01T01:00:00Z"));
  w->Add(R"({"a":"1:01"})", T("2026-01-01T01:01:00Z"));
  w->Add(R"({"a":"0:59"})", T("2026-01-01T00:59:00Z"));
  w->Add(R"({"a":"0:58"})", T("2026-01-01T00:58:00Z"));
  w->Add(R"({"a":"0:10"})", T("2026-01-01T00:10:00Z"));
  w->Add(R"({"a":"0:20"})", T("2026-01-01T00:20:00Z"));
  EXPECT_EQ(ListedPaths(), (Strings{"2026/01/01/00/0000000002-20260101T005800.000Z.ndjson.zst",
                                    "2026/01/01/00/0000000003-20260101T001000.000Z.ndjson.zst",
                                    "2026/01/01/01/0000000001-20260101T010000.000Z.ndjson.zst"}));
  const Strings listed = ListedPaths();
  EXPECT_EQ(FilesOnDisk(), std::set<std::string>(listed.begin(), listed.end()));
  EXPECT_EQ(Replayed(),
            "{\"a\":\"0:59\"}\n{\"a\":\"0:58\"}\n{\"a\":\"0:10\"}\n{\"a\":\"0:20\"}\n"
            "{\"a\":\"1:00\"}\n{\"a\":\"1:01\"}\n");
}

TEST_F(ArchiveTest, ATornManifestLineIsIgnoredAndCutBeforeTheNextAppend) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:00Z"));
    ASSERT_TRUE(w->Flush().ok());
  }
  const std::string manifest = Root() + "/MANIFEST";
  const std::string good = ReadAll(manifest);
  std::ofstream(manifest, std::ios::app) << R"({"path":"2026/01/01/00/0000000002-2026)";
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(Root());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Files().size(), 1u);
  EXPECT_EQ(m->valid_bytes, good.size());
  EXPECT_EQ(m->problems, Strings{});

  auto w = Open(Options());
  EXPECT_EQ(ReadAll(manifest), good);
  w->Add(R"({"n":2})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Listed().size(), 2u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n");
}

TEST_F(ArchiveTest, AMalformedManifestLineIsReportedAndSkipped) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:00Z"));
    ASSERT_TRUE(w->Flush().ok());
  }
  std::ofstream(Root() + "/MANIFEST", std::ios::app)
      << R"({"path":"../../etc/passwd.ndjson.zst","seq":9,"records":1,"bytes":1,"size":1,)"
      << R"("min_ts":"2026-01-01T00:00:00Z","max_ts":"2026-01-01T00:00:00Z","epoch":0})"
      << "\n";
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(Root());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Files().size(), 1u);
  ASSERT_EQ(m->problems.size(), 1u);
  EXPECT_EQ(m->problems[0],
            Root() +
                "/MANIFEST:2: no valid 'path' (a relative .ndjson.zst or .parquet path "
                "inside the archive)");
}

TEST_F(ArchiveTest, TemporaryAndUnlistedFilesAreNeverListedAndRemovedOnOpen) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:00Z"));
    ASSERT_TRUE(w->Flush().ok());
  }
  const std::string hour = Root() + "/2026/01/01/00/";
  // What a crash leaves: a temporary file, and a renamed one never listed.
  std::ofstream(hour + ".0000000002-20260101T000001.000Z.ndjson.zst.tmp") << "partial";
  std::ofstream(hour + "0000000002-20260101T000001.000Z.ndjson.zst") << "unlisted";
  std::ofstream(Root() + "/MANIFEST.tmp") << "half a rewrite";
  EXPECT_EQ(ListedPaths(), Strings{"2026/01/01/00/0000000001-20260101T000000.000Z.ndjson.zst"});

  auto w = Open(Options());
  EXPECT_EQ(FilesOnDisk(),
            std::set<std::string>{"2026/01/01/00/0000000001-20260101T000000.000Z.ndjson.zst"});
  // The sequence continues after the listed batches.
  w->Add(R"({"n":2})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(ListedPaths(), (Strings{"2026/01/01/00/0000000001-20260101T000000.000Z.ndjson.zst",
                                    "2026/01/01/00/0000000002-20260101T000001.000Z.ndjson.zst"}));
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n");
}

TEST_F(ArchiveTest, AListedFileThatIsGoneIsUnlistedOnOpen) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:00Z"));
    w->Add(R"({"n":2})", T("2026-01-01T01:00:00Z"));
    ASSERT_TRUE(w->Flush().ok());
  }
  fs::remove(Root() + "/2026/01/01/00/0000000001-20260101T000000.000Z.ndjson.zst");
  auto w = Open(Options());
  EXPECT_EQ(ListedPaths(), Strings{"2026/01/01/01/0000000002-20260101T010000.000Z.ndjson.zst"});
}

TEST_F(ArchiveTest, RetentionDeletesWholeHoursOlderThanTheNewestEventTime) {
  ArchiveOptions o = Options();
  o.retention = 2 * kArchiveHour;
  auto w = Open(o);
  for (const char* t : {"2026-01-01T00:30:00Z", "2026-01-01T01:30:00Z", "2026-01-01T02:30:00Z"}) {
    w->Add(StrCat("{\"ts\":\"", t, "\"}"), T(t));
  }
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Listed().size(), 3u);  // newest 02:30: cutoff 00:30, hour 00 ends after it
  w->Add(R"({"ts":"2026-01-01T03:30:00Z"})", T("2026-01-01T03:30:00Z"));
  ASSERT_TRUE(w->Flush().ok());
  // Cutoff 01:30: hour 00 ended before it; hour 01 still holds newer events.
  Strings hours;
  for (const ArchiveEntry& e : Listed()) hours.push_back(e.path.substr(0, 13));
  EXPECT_EQ(hours, (Strings{"2026/01/01/01", "2026/01/01/02", "2026/01/01/03"}));
  EXPECT_FALSE(fs::exists(Root() + "/2026/01/01/00"));
  // Late events of an old hour do not move the cutoff.
  w->Add(R"({"ts":"2026-01-01T01:45:00Z"})", T("2026-01-01T01:45:00Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Listed().size(), 4u);
  w->Add(R"({"ts":"2026-01-01T05:00:00Z"})", T("2026-01-01T05:00:00Z"));
  ASSERT_TRUE(w->Flush().ok());
  hours.clear();
  for (const ArchiveEntry& e : Listed()) hours.push_back(e.path.substr(0, 13));
  EXPECT_EQ(hours, (Strings{"2026/01/01/03", "2026/01/01/05"}));
  EXPECT_EQ(Replayed(), "{\"ts\":\"2026-01-01T03:30:00Z\"}\n{\"ts\":\"2026-01-01T05:00:00Z\"}\n");
  const Strings listed = ListedPaths();
  EXPECT_EQ(FilesOnDisk(), std::set<std::string>(listed.begin(), listed.end()));
  w.reset();

  // A shorter retention applies when the archive is opened.
  o.retention = 1 * kArchiveHour;
  w = Open(o);
  EXPECT_EQ(ListedPaths().size(), 1u);
  EXPECT_EQ(ListedPaths()[0].substr(0, 13), "2026/01/01/05");
  EXPECT_FALSE(fs::exists(Root() + "/2026/01/01/03"));
}

TEST_F(ArchiveTest, ZeroRetentionKeepsEverything) {
  auto w = Open(Options());
  w->Add(R"({"n":1})", T("2020-01-01T00:00:00Z"));
  w->Add(R"({"n":2})", T("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Listed().size(), 2u);
}

TEST_F(ArchiveTest, RestoreDropsTheBatchesClosedAfterTheCheckpoint) {
  {
    auto w = Open(Options());
    ASSERT_TRUE(w->Restore(0).ok());  // a job with checkpoints, starting with none
    w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
    ASSERT_TRUE(w->Checkpoint(1).ok());
    w->Committed(1);
    w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
    ASSERT_TRUE(w->Checkpoint(2).ok());
    w->Committed(2);
    w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
    ASSERT_TRUE(w->Flush().ok());  // closed by time or size: listed with epoch 3
    w->Add(R"({"n":4})", T("2026-01-01T00:00:04Z"));
    // The job dies before checkpoint 3; the destructor writes n=4 too.
  }
  std::vector<uint64_t> epochs;
  for (const ArchiveEntry& e : Listed()) epochs.push_back(e.epoch);
  EXPECT_EQ(epochs, (std::vector<uint64_t>{1, 2, 3, 3}));
  EXPECT_EQ(ReadAll(Root() + "/MANIFEST").substr(0, 17), "{\"checkpoint\":0}\n");

  // Restarted from checkpoint 2: n=3 and n=4 are read again from the source.
  auto w = Open(Options());
  ASSERT_TRUE(w->Restore(2).ok());
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n");
  const Strings listed = ListedPaths();
  EXPECT_EQ(FilesOnDisk(), std::set<std::string>(listed.begin(), listed.end()));
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  ASSERT_TRUE(w->Checkpoint(3).ok());
  EXPECT_EQ(Listed().back().epoch, 3u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

TEST_F(ArchiveTest, ACheckpointNotYetMarkedStillCoversItsBatches) {
  {
    auto w = Open(Options());
    ASSERT_TRUE(w->Restore(0).ok());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
    ASSERT_TRUE(w->Checkpoint(1).ok());
    // Killed after checkpoint 1 was written, before Committed(1).
  }
  auto w = Open(Options());
  ASSERT_TRUE(w->Restore(1).ok());
  EXPECT_EQ(Replayed(), "{\"n\":1}\n");
}

TEST_F(ArchiveTest, BatchesBelongToACheckpointUntilItIsWritten) {
  auto w = Open(Options());
  ASSERT_TRUE(w->Restore(0).ok());
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(w->Checkpoint(1).ok());
  // The job could not write checkpoint 1: no Committed(1). What closes
  // until it retries is still covered by checkpoint 1.
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(w->Checkpoint(1).ok());
  w->Committed(1);
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  ASSERT_TRUE(w->Flush().ok());
  std::vector<uint64_t> epochs;
  for (const ArchiveEntry& e : Listed()) epochs.push_back(e.epoch);
  EXPECT_EQ(epochs, (std::vector<uint64_t>{1, 1, 2}));
}

TEST_F(ArchiveTest, StartingWithoutACheckpointDropsWhatNoCheckpointCovers) {
  {
    auto w = Open(Options());
    ASSERT_TRUE(w->Restore(0).ok());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
    ASSERT_TRUE(w->Checkpoint(1).ok());
    w->Committed(1);
    w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  }
  // The checkpoints are gone (or were never written): the source resumes
  // from its committed positions, i.e. checkpoint 1's.
  {
    auto w = Open(Options());
    ASSERT_TRUE(w->Restore(0).ok());
    EXPECT_EQ(Replayed(), "{\"n\":1}\n");
    w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
    ASSERT_TRUE(w->Checkpoint(1).ok());
    w->Committed(1);
    w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
    ASSERT_TRUE(w->Flush().ok());  // epoch 2 of the new history
  }
  // Restoring the new history's checkpoint 1 drops its epoch 2, and never
  // the batches of the earlier history.
  auto w = Open(Options());
  ASSERT_TRUE(w->Restore(1).ok());
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n");
}

TEST_F(ArchiveTest, BatchesWrittenWithoutCheckpointsAreNeverDropped) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  }
  auto w = Open(Options());
  ASSERT_TRUE(w->Restore(0).ok());
  ASSERT_TRUE(w->Restore(5).ok());
  EXPECT_EQ(Replayed(), "{\"n\":1}\n");
  EXPECT_EQ(Listed()[0].epoch, 0u);
}

TEST_F(ArchiveTest, AFailedWriteIsCountedKeptInMemoryAndRetried) {
  ArchiveOptions o = Options();
  o.retry_interval = 5000;
  auto w = Open(o);
  ASSERT_TRUE(w->Restore(0).ok());  // checkpoints: batches closed now belong to checkpoint 1
  // A file where the year directory should be: every write fails, even as root.
  std::ofstream(Root() + "/2026") << "in the way";
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  absl::Status s = w->Flush();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(std::string(s.message()),
            "not written yet: 1 batch (1 record): cannot create directory " + Root() +
                "/2026: Not a directory");
  EXPECT_EQ(w->stats().errors, 1u);
  EXPECT_EQ(w->stats().pending_batches, 1u);
  EXPECT_EQ(w->stats().records, 0u);
  EXPECT_EQ(Listed().size(), 0u);
  // A checkpoint cannot cover records the archive does not hold.
  EXPECT_FALSE(w->Checkpoint(1).ok());
  EXPECT_EQ(w->stats().errors, 2u);

  fs::remove(Root() + "/2026");
  now_ += 4999;
  w->Tick();  // not due yet
  EXPECT_EQ(Listed().size(), 0u);
  now_ += 1;
  w->Tick();
  ASSERT_EQ(Listed().size(), 1u);
  EXPECT_EQ(Listed()[0].epoch, 1u);  // still waiting for checkpoint 1
  EXPECT_EQ(w->stats().errors, 2u);
  EXPECT_EQ(w->stats().records, 1u);
  EXPECT_EQ(w->stats().pending_batches, 0u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n");
}

TEST_F(ArchiveTest, TheOldestWaitingBatchIsDroppedOverTheMemoryBound) {
  ArchiveOptions o = Options();
  o.max_pending_bytes = 1;  // any second batch is over it
  auto w = Open(o);
  std::ofstream(Root() + "/2026") << "in the way";
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  w->Add(R"({"n":2})", T("2026-01-01T01:00:01Z"));
  w->Add(R"({"n":3})", T("2026-01-01T01:00:02Z"));
  absl::Status s = w->Flush();
  EXPECT_EQ(std::string(s.message()),
            "dropped 3 records: cannot create directory " + Root() + "/2026: Not a directory");
  EXPECT_EQ(w->stats().dropped_records, 3u);  // each batch alone is over 1 byte
  EXPECT_EQ(w->stats().pending_batches, 0u);
  fs::remove(Root() + "/2026");
  w->Add(R"({"n":4})", T("2026-01-01T01:00:03Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Replayed(), "{\"n\":4}\n");
}

TEST_F(ArchiveTest, OneWriterPerDirectory) {
  auto w = Open(Options());
  absl::StatusOr<std::unique_ptr<ArchiveWriter>> second = ArchiveWriter::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  w.reset();
  EXPECT_TRUE(ArchiveWriter::Open(Options()).ok());
}

TEST(ArchiveManifestTest, FindsTheRootInTheDirectoryOrItsEventsFolder) {
  TempDir dir;
  EXPECT_EQ(FindArchiveRoot(dir.path()), std::nullopt);
  fs::create_directories(dir.path() + "/events");
  std::ofstream(dir.path() + "/events/MANIFEST").close();  // empty
  EXPECT_EQ(FindArchiveRoot(dir.path()), dir.path() + "/events");
  EXPECT_EQ(FindArchiveRoot(dir.path() + "/events"), dir.path() + "/events");
}

}  // namespace
}  // namespace vigil
