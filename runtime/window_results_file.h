// runtime/window_results_file.h
//
// Reading window results files back: the NDJSON that `--results FILE` (job
// key outputs.results) writes, one closed window per line,
//
//   {"metric":"latency_p95_ms","start":"2026-03-01T00:00:00.000Z",
//    "end":"2026-03-01T00:05:00.000Z","labels":{"intent":"billing"},
//    "value":812.5,"partial":true}
//
// (operators/sink/output_sinks.h, AppendWindowJson). Reports read these
// files instead of replaying the events, e.g. `vigil report tracker
// results.ndjson`. A file compressed with zstd (name ending in .zst) is
// read the same way. A window that a restarted job wrote again appears
// twice; readers keep the later line.
//
// Example:
//   uint64_t bad = 0;
//   absl::Status s = ReadWindowResults("results.ndjson", [](const StoredWindow& w) {
//     if (w.metric == "escalation_rate_monthly") Use(w.end, w.value);
//   }, &bad);
#ifndef VIGIL_RUNTIME_WINDOW_RESULTS_FILE_H_
#define VIGIL_RUNTIME_WINDOW_RESULTS_FILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/warehouse/warehouse_query.h"  // StoredWindow

namespace vigil {

// Whether `line` is a window result rather than an event: a JSON object
// with "metric", "start", "end" and "value".
bool IsWindowResultLine(std::string_view line);

// Whether the first non-empty line of the file is a window result. An
// error when the file cannot be read.
absl::StatusOr<bool> IsWindowResultsFile(const std::string& path);
// Whether the file holds no record at all (no non-empty line), as the
// results file of a run that closed no window does. An error when the file
// cannot be read.
absl::StatusOr<bool> HoldsNoRecord(const std::string& path);

// Calls `fn` for each window of the file, in file order. Lines that are not
// window results are counted in *malformed and skipped. An error when the
// file cannot be opened or its reading fails.
absl::Status ReadWindowResults(const std::string& path,
                               const std::function<void(const StoredWindow&)>& fn,
                               uint64_t* malformed);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_WINDOW_RESULTS_FILE_H_
