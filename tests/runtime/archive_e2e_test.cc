// The raw-event archive end to end: `vigil run --archive` over a file and
// over Kafka (killed with SIGKILL and restarted from its checkpoint), read
// back with Debian's zstd as an independent reader and with `vigil replay`.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "operators/archive/archive_manifest.h"
#include "runtime/dev_broker.h"
#include "runtime/job_config.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

const std::string kVigil = VIGIL_BINARY;
const std::string kGroupProps = " -X session.timeout.ms=6000 -X heartbeat.interval.ms=500";

// Unique per test and process.
std::string Path(const std::string& name) {
  return TempPath(std::string("archive_") +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                  name);
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The records of the batches the archive's manifest lists, in replay order,
// decompressed by the zstd command.
std::vector<std::string> ArchivedRecords(const std::string& dir) {
  std::optional<std::string> root = FindArchiveRoot(dir);
  EXPECT_TRUE(root) << dir << " holds no archive";
  if (!root) return {};
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(*root);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  std::vector<std::string> out;
  for (const ArchiveEntry& e : m->Files()) {
    Result r = Sh("zstd -dcq " + *root + "/" + e.path);
    EXPECT_EQ(r.exit_code, 0) << e.path;
    std::vector<std::string> lines = Lines(r.out);
    EXPECT_EQ(lines.size(), e.records) << e.path;
    out.insert(out.end(), lines.begin(), lines.end());
  }
  return out;
}

// Every batch file on disk, and every batch the manifest lists.
std::pair<std::set<std::string>, std::set<std::string>> OnDiskAndListed(const std::string& dir) {
  std::pair<std::set<std::string>, std::set<std::string>> out;
  const std::string root = dir + "/events";
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = e.path().string().substr(root.size() + 1);
    if (e.is_regular_file() && rel != "MANIFEST" && rel != "LOCK") out.first.insert(rel);
  }
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(root);
  if (m.ok()) {
    for (const ArchiveEntry& e : m->Files()) out.second.insert(e.path);
  }
  return out;
}

TEST(ArchiveE2eTest, RunArchivesEveryAcceptedRecordOnceAndAReplayOfItMatchesTheFile) {
  const std::string events = Path("events.ndjson");
  const Result gen = Sh(kVigil + " gen --rate 10 --duration 3h --seed 4 " +
                        "--incident latency_spike@70m+10m --out " + events);
  ASSERT_EQ(gen.exit_code, 0);
  // Three records the job refuses, among the good ones.
  std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(lines.size(), 108000u);
  const std::vector<std::string> good = lines;
  lines.insert(lines.begin() + 90000, R"({"ts":"2026-01-01T00:00:00Z","type":"message"})");  // late
  lines.insert(lines.begin() + 50000, R"({"type":"message","latency_ms":5})");  // no ts
  lines.insert(lines.begin() + 100, "not json");
  const std::string input = Path("input.ndjson");
  {
    std::ofstream out(input);
    for (const std::string& l : lines) out << l << "\n";
  }
  const std::string archive = Path("archive"), dead = Path("dead.ndjson");
  Result run = Sh(kVigil + " run --input " + input + " --archive " + archive + " --dead-letter " +
                  dead + " --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  std::vector<std::string> reasons;
  for (const std::string& l : Lines(ReadFile(dead))) {
    reasons.push_back(l.substr(0, l.find(',')));
  }
  EXPECT_EQ(reasons,
            (std::vector<std::string>{R"({"reason":"malformed_json")", R"({"reason":"missing_ts")",
                                      R"({"reason":"late")"}));
  // Every accepted record exactly once, byte for byte.
  const std::vector<std::string> archived = ArchivedRecords(archive);
  EXPECT_EQ(archived.size(), good.size());
  EXPECT_TRUE(Sorted(archived) == Sorted(good)) << "the archive differs from the accepted records";
  // Three hours of event time; batches of at most 5 MiB.
  std::set<std::string> hours;
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(archive + "/events");
  ASSERT_TRUE(m.ok());
  for (const ArchiveEntry& e : m->Files()) {
    hours.insert(e.path.substr(0, 13));
    EXPECT_LE(e.bytes, (5u << 20) + 1024) << e.path;
  }
  // The generator's jitter puts a few events before its start.
  EXPECT_EQ(hours, (std::set<std::string>{"2025/12/31/23", "2026/01/01/00", "2026/01/01/01",
                                          "2026/01/01/02"}));
  EXPECT_GT(m->Files().size(), hours.size()) << "some hour should span several batches";
  auto [on_disk, listed] = OnDiskAndListed(archive);
  EXPECT_EQ(on_disk, listed);

  // The archive replays as the file does: same alert timeline, same windows.
  const std::string from_archive = Path("from_archive.ndjson"),
                    from_file = Path("from_file.ndjson");
  Result a = Sh(kVigil + " replay --output json --no-progress --results " + from_archive + " " +
                archive + " 2>/dev/null");
  Result f = Sh(kVigil + " replay --output json --no-progress --results " + from_file + " " +
                input + " 2>/dev/null");
  ASSERT_EQ(a.exit_code, 0);
  ASSERT_EQ(f.exit_code, 0);
  EXPECT_NE(f.out.find("\"alert\":\"LatencyP99Critical\""), std::string::npos) << f.out;
  EXPECT_EQ(a.out, f.out);
  EXPECT_GT(Lines(ReadFile(from_file)).size(), 2000u);
  EXPECT_TRUE(Lines(ReadFile(from_archive)) == Lines(ReadFile(from_file)))
      << "the window results differ";
}

TEST(ArchiveE2eTest, ReplayReadsOnlyWhatTheManifestLists) {
  const std::string events = Path("events.ndjson"), archive = Path("archive");
  ASSERT_EQ(Sh(kVigil + " gen --rate 5 --duration 90m --seed 8 --out " + events).exit_code, 0);
  Result run = Sh(kVigil + " run --input " + events + " --archive " + archive +
                  " --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  Result clean = Sh(kVigil + " replay --output json --no-progress " + archive + " 2>/dev/null");
  ASSERT_EQ(clean.exit_code, 0);
  // What a crash of the writer could leave: a half-written temporary file
  // and a complete batch that never made it into the manifest.
  const std::string hour = archive + "/events/2026/01/01/00/";
  std::ofstream(hour + ".0000000099-20260101T000000.000Z.ndjson.zst.tmp") << "partial";
  ASSERT_EQ(Sh("head -1000 " + events + " | zstd -q -o " + hour +
               "0000000099-20260101T000000.000Z.ndjson.zst")
                .exit_code,
            0);
  // A torn last manifest line.
  std::ofstream(archive + "/events/MANIFEST", std::ios::app) << R"({"path":"2026/01/01/00/00000)";
  Result again = Sh(kVigil + " replay --output json --no-progress " + archive + " 2>&1 >/dev/null");
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(Sh(kVigil + " replay --output json --no-progress " + archive + " 2>/dev/null").out,
            clean.out);
  EXPECT_EQ(
      Sh(kVigil + " replay --output json --no-progress " + archive + "/events 2>/dev/null").out,
      clean.out);
  // As a plain directory, the stray batch would count twice.
  const std::string plain = Path("plain");
  fs::create_directories(plain);
  fs::copy(archive + "/events/2026", plain + "/2026", fs::copy_options::recursive);
  EXPECT_NE(Sh(kVigil + " replay --output json --no-progress " + plain + " 2>/dev/null").out,
            clean.out);
}

TEST(ArchiveE2eTest, TheJobFileConfiguresTheArchive) {
  const std::string path = Path("job.yaml");
  std::ofstream(path) << "outputs:\n"
                         "  archive:\n"
                         "    dir: /var/lib/vigil/archive\n"
                         "    flush_interval: 30s\n"
                         "    max_bytes: 1MiB\n"
                         "    retention: 7d\n";
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->outputs.archive.location, "/var/lib/vigil/archive");
  EXPECT_EQ(c->outputs.archive.flush_interval, 30000);
  EXPECT_EQ(c->outputs.archive.max_bytes, 1u << 20);
  EXPECT_EQ(c->outputs.archive.retention, 7 * 24 * 3600 * 1000LL);
  // Defaults.
  EXPECT_EQ(DefaultJobConfig().outputs.archive.location, "");
  EXPECT_EQ(DefaultJobConfig().outputs.archive.flush_interval, 60000);
  EXPECT_EQ(DefaultJobConfig().outputs.archive.max_bytes, 5u << 20);
  EXPECT_EQ(DefaultJobConfig().outputs.archive.retention, 0);

  auto error = [&](const std::string& yaml) {
    std::ofstream(path) << yaml;
    absl::StatusOr<JobConfig> bad = LoadJobConfig(path, DefaultJobConfig());
    return bad.ok() ? std::string("ok") : std::string(bad.status().message());
  };
  EXPECT_EQ(error("outputs:\n  archive:\n    dir: a\n    flush: 1s\n"),
            path +
                ":4:5: unknown key 'flush' in outputs.archive (allowed: dir, url, format, "
                "partitioning, flush_interval, max_bytes, retention, max_pending)");
  EXPECT_EQ(error("outputs:\n  archive:\n    flush_interval: 1s\n"),
            path + ":3:5: outputs.archive needs 'dir' (a directory) or 'url' (s3://BUCKET/PREFIX)");
  EXPECT_EQ(
      error("outputs:\n  archive:\n    dir: a\n    format: csv\n"),
      path + ":4:13: unknown archive format 'csv' (ndjson: zstd-compressed NDJSON, or parquet)");
  EXPECT_EQ(error("outputs:\n  archive:\n    dir: a\n    url: s3://bucket/p\n"),
            path + ":4:10: outputs.archive takes 'dir' or 'url', not both");
  EXPECT_EQ(error("outputs:\n  archive:\n    dir: a\n    max_bytes: lots\n"),
            path + ":4:16: expected a size such as 5MiB or 1048576");
  EXPECT_EQ(error("outputs:\n  archive:\n    dir: a\n    flush_interval: 0\n"),
            path + ":4:21: flush_interval must be positive");
  EXPECT_EQ(error("outputs:\n  archive:\n    dir: a\n    retention: a week\n"),
            path + ":4:16: expected a duration such as 0, 500ms, 30s, 5m");
}

TEST(ArchiveE2eTest, AnArchiveInUseIsRefused) {
  const std::string archive = Path("archive"), events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 5 --duration 1m --out " + events).exit_code, 0);
  // A paced generator job holds the archive.
  const pid_t job = Spawn(
      kVigil + " run --archive " + archive + " --no-console --http off " + "--no-progress --rate 5",
      Path("run.log"));
  ChildGuard guard(job);
  ASSERT_TRUE(WaitFor([&] { return fs::exists(archive + "/events/LOCK"); }, 20));
  Result second = Sh(kVigil + " run --input " + events + " --archive " + archive +
                     " --no-console --http off --no-progress 2>&1");
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.out.find("the archive " + archive + " is in use by another job"),
            std::string::npos)
      << second.out;
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(Path("run.log"));
}

// The checkpoint of the manifest's last mark, if batches of a later epoch
// follow it; else -1.
int64_t CheckpointWithBatchesAfterIt(const std::string& manifest) {
  const size_t mark = manifest.rfind("{\"checkpoint\":");
  if (mark == std::string::npos || manifest.find("\"path\"", mark) == std::string::npos) return -1;
  return std::atoll(manifest.c_str() + mark + 14);
}

TEST(ArchiveE2eTest, KillNineAndRestartArchiveEachKafkaRecordExactlyOnce) {
  ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(1, {{"events", 4}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string url = "kafka://" + (*broker)->bootstrap() + "/events";
  const std::string archive = Path("archive"), ckpt = Path("ckpt"), config = Path("job.yaml");
  // Small batches close between checkpoints, so the kill leaves some that
  // no checkpoint covers.
  std::ofstream(config) << "outputs:\n  archive:\n    dir: " << archive
                        << "\n    max_bytes: 64KiB\n";
  const std::string job = kVigil + " run --config " + config + " --input " + url +
                          " --group archived --checkpoint-dir " + ckpt +
                          " --checkpoint-interval 2s --idle-timeout 1h --no-console --http off "
                          "--no-progress" +
                          kGroupProps;
  const pid_t first = Spawn(job, Path("run1.log"));
  ChildGuard guard(first);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(Path("run1.log")).find("assigned") != std::string::npos; }, 30))
      << ReadFile(Path("run1.log"));
  // 30 minutes of event time in 6 s, so that the kill lands mid-stream.
  const pid_t gen =
      Spawn(kVigil + " gen --to " + url + " --rate 20 --duration 30m --speed 300 " + "--seed 9",
            Path("gen.log"));
  const std::string manifest = archive + "/events/MANIFEST";
  int64_t checkpoint = -1;
  ASSERT_TRUE(WaitFor(
      [&] { return (checkpoint = CheckpointWithBatchesAfterIt(ReadFile(manifest))) >= 1; }, 30))
      << ReadFile(Path("run1.log"));
  ::kill(first, SIGKILL);
  EXPECT_EQ(WaitExit(first), -SIGKILL);
  EXPECT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  absl::StatusOr<ArchiveManifest> before = ReadArchiveManifest(archive + "/events");
  ASSERT_TRUE(before.ok()) << before.status();
  uint64_t archived_before = 0;
  for (const ArchiveEntry& e : before->Files()) archived_before += e.records;
  EXPECT_LT(archived_before, 36000u) << "the kill should land mid-stream";

  Result resumed = Sh(job + " --exit-at-end 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  const std::string n = std::to_string(checkpoint);
  EXPECT_NE(resumed.out.find("vigil: restored checkpoint " + n + " "), std::string::npos)
      << resumed.out;
  EXPECT_NE(resumed.out.find("written after checkpoint " + n + "; their records are read again"),
            std::string::npos)
      << resumed.out;
  EXPECT_NE(resumed.out.find("36000 records"), std::string::npos) << resumed.out;

  // The same events, from the generator's file output.
  const std::string expected = Path("expected.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 30m --seed 9 --out " + expected).exit_code, 0);
  const std::vector<std::string> archived = ArchivedRecords(archive);
  EXPECT_EQ(archived.size(), 36000u);
  EXPECT_TRUE(Sorted(archived) == Sorted(Lines(ReadFile(expected))))
      << "some record is missing from the archive or in it twice";
  auto [on_disk, listed] = OnDiskAndListed(archive);
  EXPECT_EQ(on_disk, listed);
}

}  // namespace
}  // namespace vigil
