// runtime/cli_job_flags.h
//
// The flags that build a JobConfig, shared by the job-running commands:
// `vigil run` takes them all, `vigil replay` JobFlag's. Each returns false
// when `a` is not at one of its flags, and sets *err when the value is
// wrong (the messages the commands' --help and docs/commands.md show).
//
// Example:
//   JobConfig config = DefaultJobConfig();
//   cli::RunFlags seen;
//   while (!a.Done()) {
//     if (cli::SourceFlag(a, &seen, &config, &err)) {
//     } else if (cli::JobFlag(a, &config, &err)) {
//     } else return Usage(a.Unknown("run"));
//     if (!err.empty()) return Usage(a.Error(err));
//   }
#ifndef VIGIL_RUNTIME_CLI_JOB_FLAGS_H_
#define VIGIL_RUNTIME_CLI_JOB_FLAGS_H_

#include <string>

#include "runtime/cli_args.h"
#include "runtime/job_config.h"

namespace vigil::cli {

// Flags every job-running command takes (run, replay): the rules, the
// outputs both write, event time, limits, workers and checkpoints.
bool JobFlag(Args& a, JobConfig* config, std::string* err);

// What the flags of `vigil run` said beyond the config itself.
struct RunFlags {
  bool inputs = false;  // an --input or --merge: the job file's inputs are replaced
  bool group = false;   // --group
  bool dry_run = false;
};

// The flags of `vigil run` that say what it reads and in which role (an
// instance, the merge stage).
bool SourceFlag(Args& a, RunFlags* seen, JobConfig* config, std::string* err);

// The flags of `vigil run` that say what it shows and keeps: the console,
// the HTTP server, the archive.
bool OutputFlag(Args& a, JobConfig* config, std::string* err);

// --alertmanager URL: every alert, whatever its severity, to the
// Alertmanager at URL (repeat the flag for each member of an HA cluster).
// The receiver is named "alertmanager"; a job file's receivers and routes
// stay. Returns an error message, or "".
std::string AddAlertmanager(const std::string& url, NotifyConfig* notify);

}  // namespace vigil::cli

#endif  // VIGIL_RUNTIME_CLI_JOB_FLAGS_H_
