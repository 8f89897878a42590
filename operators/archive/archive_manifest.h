// operators/archive/archive_manifest.h
//
// The manifest of a raw-event archive (operators/archive/archive_writer.h writes it):
// the list of batch files a reader may trust. A batch file exists under its
// final name before its manifest line is appended, and a reader reads only
// what the manifest lists, so it never sees a partial or abandoned file.
//
// Layout of an archive rooted at ROOT (`<archive dir>/events`):
//   ROOT/MANIFEST                       one JSON object per line (below)
//   ROOT/LOCK                           held (flock) by the one writer
//   ROOT/YYYY/MM/DD/HH/<seq>-<min ts>.ndjson.zst   a batch: zstd-compressed
//                                       NDJSON of the events of that UTC hour
//   ROOT/YYYY/MM/DD/HH/<seq>-<min ts>.parquet      the same as Parquet (format: parquet)
// With Hive-style partitioning the hour directory is dt=YYYY-MM-DD/hour=HH
// instead, which Athena, Spectrum and DuckDB prune on. In an S3 bucket the
// manifest is a series of objects (operators/archive/archive_store.h).
//
// Manifest lines, appended in order:
//   {"path":"2026/01/01/00/0000000001-20260101T000000.120Z.ndjson.zst","seq":1,
//    "records":1000,"bytes":301234,"size":41234,"min_ts":"2026-01-01T00:00:00.120Z",
//    "max_ts":"2026-01-01T00:00:59.870Z","epoch":3}
//   {"checkpoint":3}      checkpoint 3 of the writing job is durable
// `bytes` is the uncompressed size, `size` the file's; `epoch` is the job
// checkpoint that covers the batch's records (0 without checkpoints). A
// crash can leave the last line torn (no final newline): readers ignore it.
//
// Example:
//   absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest("archive/events");
//   for (const ArchiveEntry& e : m->Files()) Replay(m->root + "/" + e.path);
#ifndef VIGIL_OPERATORS_ARCHIVE_ARCHIVE_MANIFEST_H_
#define VIGIL_OPERATORS_ARCHIVE_ARCHIVE_MANIFEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"

namespace vigil {

inline constexpr DurationMs kArchiveHour = 3600 * 1000;
inline constexpr char kArchiveManifestName[] = "MANIFEST";
inline constexpr std::string_view kNdjsonZstSuffix = ".ndjson.zst";
inline constexpr std::string_view kParquetSuffix = ".parquet";

// How batches are encoded, and how hour partitions are named.
enum class ArchiveFormat { kNdjsonZst, kParquet };
enum class ArchivePartitioning { kHourly, kHive };
// "ndjson" / "parquet"; "hourly" / "hive".
absl::StatusOr<ArchiveFormat> ParseArchiveFormat(std::string_view text);
absl::StatusOr<ArchivePartitioning> ParseArchivePartitioning(std::string_view text);
// Whether a file name is a batch's: .ndjson.zst or .parquet.
bool IsArchiveBatchName(std::string_view name);

struct ArchiveEntry {
  std::string path;  // relative to the archive root
  uint64_t seq = 0;  // write order; within an hour, the order records arrived in
  uint64_t records = 0;
  uint64_t bytes = 0;  // uncompressed
  uint64_t size = 0;   // compressed, on disk
  TimeMs min_ts = 0;
  TimeMs max_ts = 0;
  uint64_t epoch = 0;
  // Start of the UTC hour partition the batch belongs to.
  TimeMs hour() const { return AlignDown(min_ts, kArchiveHour); }
};

// One line of the manifest: a batch file, or a checkpoint mark.
struct ManifestLine {
  bool mark = false;
  uint64_t checkpoint = 0;  // marks only
  ArchiveEntry entry;       // batch files only
};

struct ArchiveManifest {
  std::string root;
  std::vector<ManifestLine> lines;  // in file order
  // Bytes of the file up to the end of its last complete line; a writer
  // cuts a torn tail back to here before appending.
  uint64_t valid_bytes = 0;
  uint64_t file_bytes = 0;
  // Lines skipped because they do not parse ("MANIFEST:12: ...").
  std::vector<std::string> problems;

  // The batch files in replay order: hour partition, then write order.
  std::vector<ArchiveEntry> Files() const;
};

// Reads ROOT/MANIFEST. NotFound when there is none; a torn last line and
// malformed lines are skipped (the latter listed in `problems`).
absl::StatusOr<ArchiveManifest> ReadArchiveManifest(const std::string& root);
// Appends the lines of manifest text to `m` (problems named "NAME:LINE: …");
// sets valid_bytes and file_bytes for this text.
void ParseArchiveManifest(std::string_view text, std::string_view name, ArchiveManifest* m);

// The manifest line for `line`, newline included.
std::string FormatManifestLine(const ManifestLine& line);

// "YYYY/MM/DD/HH" (or "dt=YYYY-MM-DD/hour=HH") of the UTC hour holding `t`.
std::string ArchiveHourDir(TimeMs t,
                           ArchivePartitioning partitioning = ArchivePartitioning::kHourly);
// "<hour dir>/<seq, 10 digits>-<min ts, basic ISO 8601>.ndjson.zst" (or .parquet).
std::string ArchiveBatchPath(uint64_t seq, TimeMs min_ts,
                             ArchivePartitioning partitioning = ArchivePartitioning::kHourly,
                             ArchiveFormat format = ArchiveFormat::kNdjsonZst);

// The archive root of `dir`: `dir` itself or `dir/events`, whichever holds a
// MANIFEST; nullopt if neither does.
std::optional<std::string> FindArchiveRoot(const std::string& dir);

// Durable-file helpers of the archive writer (operators/archive/archive_writer*.cc).
namespace archive_internal {

absl::Status Errno(std::string_view what, const std::string& path);
void SyncDir(const std::string& dir);
absl::Status WriteAll(int fd, std::string_view data, const std::string& path);
// Writes `data` to `path` through `tmp` in the same directory (fsync,
// rename, fsync of the directory): a reader sees the old file or the new
// one, never a part.
absl::Status ReplaceFile(const std::string& path, const std::string& tmp, std::string_view data);
// Creates root/rel one level at a time, fsyncing the parent of each new
// directory; a non-directory in the way is ENOTDIR.
absl::Status MakeDirs(const std::string& root, std::string_view rel);
bool EndsWith(std::string_view s, std::string_view suffix);
// "1 batch", "2 batches".
std::string Count(uint64_t n, std::string_view one, std::string_view many);

}  // namespace archive_internal

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ARCHIVE_ARCHIVE_MANIFEST_H_
