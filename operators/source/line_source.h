// operators/source/line_source.h
//
// NDJSON sources: a file (plain, or zstd-compressed when its name ends in
// .zst), standard input, or bytes in memory. Records are the lines; empty lines are skipped
// and a trailing '\r' is dropped. A line longer than the record limit is
// not buffered whole: it is skipped up to its newline and returned as an
// oversized record holding its first bytes, so a 10 MB line costs no more
// memory than the limit.
//
// Example:
//   absl::StatusOr<std::unique_ptr<RecordSource>> src = OpenFileSource("ev.ndjson", 1 << 20);
//   auto in = OpenStdinSource(1 << 20);
#ifndef VIGIL_OPERATORS_SOURCE_LINE_SOURCE_H_
#define VIGIL_OPERATORS_SOURCE_LINE_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "operators/source/record_source.h"

namespace vigil {

// With `idle`, a path that is no regular file (a named pipe) behaves as
// standard input below: an empty batch when it has had nothing to read
// for 100 ms.
absl::StatusOr<std::unique_ptr<RecordSource>> OpenFileSource(const std::string& path,
                                                             size_t max_record_bytes,
                                                             bool idle = false);
// Standard input. When it is a pipe or terminal with nothing to read for
// 100 ms, Next returns an empty batch (and true), so that a job waiting
// for input still answers signals and reloads, checkpoints, and closes
// windows by the clock.
std::unique_ptr<RecordSource> OpenStdinSource(size_t max_record_bytes);
// NDJSON held in memory (an archive batch fetched from S3 or decoded from
// Parquet), named `name` in messages.
std::unique_ptr<RecordSource> OpenBufferSource(std::string name, std::string ndjson,
                                               size_t max_record_bytes);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SOURCE_LINE_SOURCE_H_
