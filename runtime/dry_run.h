// runtime/dry_run.h
//
// `vigil run --dry-run`: a production job file, run as it is written, without
// touching anything production owns. Rules, windows and alerts work as
// configured and print on the console; what would leave the process is
// turned off:
//   - no notification: every receiver and route of `notify:` is dropped
//     (alerts still evaluate, fire and resolve, on the console; its labels
//     and external_url stay, so annotations render as in production);
//   - no checkpoint is read or written (`checkpoint.dir`);
//   - a Kafka source reads in a consumer group of its own
//     ("<group>-dry-run-<host>-<pid>") and commits no offset, so the
//     production group keeps its partitions and positions;
//   - nothing is written: Kafka outputs, the results and dead-letter files,
//     record outputs (directory, webhook, topics) and the archive are off;
//   - the HTTP endpoint moves to 127.0.0.1 on a free port (the address is
//     printed), so it collides with no production listener or scrape.
// A scale-out instance (`--partials`) cannot run dry: its only output is the
// partials topic the merge stage reads.
//
// Example:
//   absl::StatusOr<std::vector<std::string>> off = ApplyDryRun(&config);
//   for (const std::string& line : *off) Log("dry run: " + line);
#ifndef VIGIL_RUNTIME_DRY_RUN_H_
#define VIGIL_RUNTIME_DRY_RUN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/job_config.h"

namespace vigil {

// Turns `config` into its dry run; returns what was turned off, one line
// each, for the log.
absl::StatusOr<std::vector<std::string>> ApplyDryRun(JobConfig* config);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_DRY_RUN_H_
