// operators/archive/archive_store.h
//
// Where an archive keeps its batches and its manifest: a local directory
// or an S3-compatible bucket. ArchiveWriter (archive_writer.h) decides what
// to write and when; a store only makes each step durable and atomic, so
// that a reader that trusts the manifest never sees a partial batch.
//
// Directory (DirArchiveStore): the root is `<dir>/events`; batches are
// written to a hidden temporary file, fsync'd and renamed; the manifest is
// one file, `ROOT/MANIFEST`, appended and fdatasync'd line by line; one
// writer, enforced with an flock on `ROOT/LOCK`.
//
// S3 (S3ArchiveStore): the root is `PREFIX/events` in the bucket; a batch
// is one PUT (multipart above the client's threshold), visible whole or not
// at all. Objects cannot be appended to, so the manifest is a series of
// small objects under `ROOT/_manifest/`, read in name order:
//   ROOT/_manifest/<20-digit seq>.jsonl        lines appended together
//   ROOT/_manifest/<20-digit seq>.base.jsonl   the whole manifest as of seq:
//                                              parts before it are ignored
// Every 64 appended parts (and on every rewrite: Restore, retention) the
// store writes a base and deletes the parts before it. Names starting with
// '_' are skipped by Athena, Spectrum and DuckDB's hive globbing. One writer
// per prefix is the deployment's duty: S3 has no lock to take.
// A request that fails with a 5xx, throttling or a refused connection is
// retried twice (after 0.2 s and 1 s) before the store reports it; one that
// got no answer within its 10 s is not retried at once. Either way the
// writer keeps the batch and retries it later.
//
// Example:
//   std::unique_ptr<ArchiveStore> store =
//   *OpenArchiveStore("s3://b/p?endpoint=http://127.0.0.1:4569"); ArchiveManifest m =
//   *store->Load(); absl::Status s = store->PutBatch("2026/01/01/00/0000000001-….ndjson.zst",
//   bytes);
#ifndef VIGIL_OPERATORS_ARCHIVE_ARCHIVE_STORE_H_
#define VIGIL_OPERATORS_ARCHIVE_ARCHIVE_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "operators/archive/archive_manifest.h"

namespace vigil {

class ArchiveStore {
 public:
  virtual ~ArchiveStore() = default;

  // The root, for messages: "DIR/events" or "s3://BUCKET/PREFIX/events".
  virtual const std::string& root() const = 0;
  // Creates the root if needed, takes the writer's lock where there is one
  // and reads the manifest (empty when there is none yet). A torn last line
  // is cut; lines that do not parse are listed in `problems`.
  virtual absl::StatusOr<ArchiveManifest> Load() = 0;
  // Stores a batch under `rel` (relative to the root), durably and whole.
  virtual absl::Status PutBatch(const std::string& rel, std::string_view data) = 0;
  // Appends `lines` to the manifest, durably and all or nothing.
  virtual absl::Status Append(const std::vector<ManifestLine>& lines) = 0;
  // Replaces the manifest by `lines`: a reader sees the old or the new one.
  virtual absl::Status Replace(const std::vector<ManifestLine>& lines) = 0;
  // Every batch file under the root (relative paths); temporary files of
  // interrupted writes are removed on the way.
  virtual absl::StatusOr<std::vector<std::string>> ListBatches() = 0;
  // Deletes a batch (and, in a directory, its partition directories once
  // empty). A batch that is already gone is no error.
  virtual absl::Status DeleteBatch(const std::string& rel) = 0;
  // Deletes a whole partition `rel_dir` ("2026/01/01/00", "dt=…/hour=00").
  virtual absl::Status DeletePartition(const std::string& rel_dir) = 0;
};

// A directory, or an s3://BUCKET[/PREFIX][?endpoint=URL&region=R] URL (its
// credentials from the AWS environment variables; a bucket that does not
// answer, or refuses the credentials, is an error that names it and the
// HTTP status).
absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenArchiveStore(const std::string& location);
// The two kinds, for tests.
std::unique_ptr<ArchiveStore> OpenDirArchiveStore(const std::string& dir);
absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenS3ArchiveStore(const std::string& url);

// For replays. The manifest of the archive at an s3:// URL: its root is
// PREFIX/events, or PREFIX itself when that holds the `_manifest/` objects.
// NotFound when neither does.
absl::StatusOr<ArchiveManifest> ReadS3ArchiveManifest(const std::string& url);
// The s3:// URL (endpoint and region kept) of a batch the manifest lists.
std::string S3ArchiveBatchUrl(const std::string& url, const ArchiveManifest& m,
                              const ArchiveEntry& e);
// The bytes of one object, for the URL of an object (s3://BUCKET/KEY?…).
absl::StatusOr<std::string> ReadS3Object(const std::string& url);
// The records of one batch (a local file or an s3:// object; zstd NDJSON or
// Parquet) as NDJSON text.
absl::StatusOr<std::string> ReadArchiveBatch(const std::string& location);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ARCHIVE_ARCHIVE_STORE_H_
