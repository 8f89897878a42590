#include "runtime/cli.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/generator/generator.h"
#include "operators/source/dead_reason.h"
#include "rules/scopes.h"
#include "runtime/allocator.h"
#include "runtime/cli_args.h"
#include "runtime/cli_flag_effects.h"
#include "runtime/cli_help.h"
#include "runtime/cli_job_flags.h"
#include "runtime/dry_run.h"
#include "runtime/job.h"
#include "runtime/replay.h"
#include "runtime/rule_test.h"

namespace vigil {
namespace {

using cli::AddAlertmanager;
using cli::Args;
using cli::DurationFlag;
using cli::GeneratorFlag;
using cli::JobFlag;
using cli::OutputFlag;
using cli::ParseNumber;
using cli::RangeBoundFlag;
using cli::RunFlags;
using cli::SourceFlag;
using cli::Usage;

// "http://127.0.0.1:9464/" for `--http 127.0.0.1:0` bound to 9464; a
// wildcard host stays as given ("http://0.0.0.0:9464/").
std::string ServingUrl(const std::string& listen, uint16_t port, bool tls) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty()) host = "0.0.0.0";
  return StrCat(tls ? "https://" : "http://", host, ":", port, "/");
}

// A rule that reads a field no event has (a misspelt `cahce_hit`) gives a
// metric stuck at 0 without any error: say so.
void PrintUnseenFields(const std::vector<std::string>& fields) {
  if (fields.empty()) return;
  std::string list;
  for (const std::string& f : fields) StrAppend(&list, list.empty() ? "" : ", ", "'", f, "'");
  std::fprintf(stderr,
               "vigil: the rules read %s, but no accepted event carried %s; a misspelt name "
               "is never carried, and the rules reading it never see a value\n",
               list.c_str(), fields.size() == 1 ? "it" : "them");
}

void PrintSummary(const JobSummary& s) {
  std::fprintf(stderr,
               "vigil: %llu records in %.2fs, %llu processed, %llu dead-lettered (%llu late), "
               "%llu windows, %llu alerts fired%s\n",
               static_cast<unsigned long long>(s.records), s.seconds,
               static_cast<unsigned long long>(s.processed),
               static_cast<unsigned long long>(s.dead_lettered),
               static_cast<unsigned long long>(s.late), static_cast<unsigned long long>(s.windows),
               static_cast<unsigned long long>(s.firing_transitions),
               s.skipped ? StrCat(", ", s.skipped, " outside --from/--to").c_str() : "");
  // Which reasons, when not only lateness: a rule that reads a field as a
  // number while events carry a string dead-letters them all as wrong_type.
  if (s.dead_lettered > s.late) {
    std::string reasons;
    for (int r = 0; r < kDeadReasonCount; ++r) {
      if (s.dead_letters[r] == 0 || static_cast<DeadReason>(r) == DeadReason::kUnmatched) continue;
      StrAppend(&reasons, reasons.empty() ? "" : ", ", s.dead_letters[r], " ",
                DeadReasonName(static_cast<DeadReason>(r)));
    }
    std::fprintf(stderr, "vigil: dead-lettered: %s\n", reasons.c_str());
  }
  // Processed, but not in every window: a metric's or stream's limit.
  if (!s.left_out.empty()) {
    std::string list;
    for (const auto& [what, n] : s.left_out) {
      StrAppend(&list, list.empty() ? "" : ", ", n, " by ", what);
    }
    std::fprintf(stderr,
                 "vigil: events left out at a limit (limit:, limits.max_series): %s; see "
                 "docs/rules.md, Limits\n",
                 list.c_str());
  }
}

std::atomic<Job*> g_job{nullptr};
std::atomic<bool> g_stopping{false};
extern "C" void OnSignal(int) {
  g_stopping.store(true);
  if (Job* job = g_job.load()) job->Stop();
}
extern "C" void OnHangup(int) {
  if (Job* job = g_job.load()) job->RequestReload();
}

// Creates and runs a job with signal handling (SIGINT/SIGTERM stop, SIGHUP
// reloads the rules), then `after` and the summary line.
int RunJob(const JobConfig& config, std::unique_ptr<Sink> extra,
           const std::function<void()>& after = {}) {
  // Before the job builds its operators; a rule reload keeps the limits.
  SetDefaultOperatorLimits({config.max_series});
  // Handlers first: a stop asked for while the job is being built (a slow
  // broker, a large checkpoint) is honoured as soon as it runs, never fatal.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGHUP, OnHangup);
  absl::StatusOr<std::unique_ptr<Job>> job = Job::Create(config, std::move(extra));
  if (!job.ok()) {
    std::fprintf(stderr, "vigil: %s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  g_job.store(job->get());
  if (g_stopping.load()) (*job)->Stop();
  if ((*job)->http_port() != 0) {  // always: with port 0 it is the only way to learn it
    std::fprintf(stderr, "vigil: serving the status page and /metrics on %s\n",
                 ServingUrl(config.http_listen, (*job)->http_port(), (*job)->http_tls()).c_str());
  }
  // Shutdown is bounded: once a signal asked the job to stop, it has
  // shutdown_timeout to drain, flush and checkpoint before the process exits 1.
  absl::Notification finished;
  std::thread watchdog([&] {
    while (!g_stopping.load()) {
      if (finished.WaitForNotificationWithTimeout(absl::Milliseconds(50))) return;
    }
    if (!finished.WaitForNotificationWithTimeout(absl::Milliseconds(config.shutdown_timeout))) {
      std::fprintf(stderr, "\nvigil: shutdown took longer than %s; exiting without finishing it\n",
                   FormatDuration(config.shutdown_timeout).c_str());
      std::_Exit(1);
    }
  });
  const int code = (*job)->Run();
  finished.Notify();
  watchdog.join();
  g_job.store(nullptr);
  if (after) after();
  PrintSummary((*job)->summary());
  PrintUnseenFields((*job)->unseen_fields());
  return code;
}

int Run(int argc, char** argv) {
  JobConfig config = DefaultJobConfig();
  Args a(argc, argv, 2);
  std::string err, v;
  // The job file comes first so that flags override it wherever they stand.
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--config") {
      absl::StatusOr<JobConfig> c = LoadJobConfig(argv[i + 1], config);
      if (!c.ok()) return Usage(std::string(c.status().message()));
      config = *c;
    }
  }
  // --rules replaces the job file's rules (as every flag overrides the
  // file) rather than adding to them.
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--rules" || arg.starts_with("--rules=")) {
      config.rule_files.clear();
      break;
    }
  }
  cli::GeneratorFlagsSeen gen{.start_now = config.source.generator_start_now};
  RunFlags seen;
  while (!a.Done()) {
    // A flag consumed needs nothing more: the empty branches are alike.
    // NOLINTNEXTLINE(bugprone-branch-clone)
    if (GeneratorFlag(a, &config.source.generator.generator, &gen, &err)) {
    } else if (a.Value("--config", &v, &err)) {
    } else if (a.Value("--alertmanager", &v, &err)) {  // run only: a replay never pages
      if (err.empty()) err = AddAlertmanager(v, &config.notify);
    } else if (SourceFlag(a, &seen, &config, &err)) {
    } else if (OutputFlag(a, &config, &err)) {
    } else if (a.Flag("--dry-run")) {
      seen.dry_run = true;
    } else if (JobFlag(a, &config, &err)) {
    } else {
      return Usage(a.Unknown("run"));
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  config.source.generator_start_now = gen.start_now;
  for (const std::string& line : FlagsWithoutEffect(GivenFlags(argc, argv, 2), config)) {
    Log(line);
  }
  if (config.scale_out.merge && !config.scale_out.partials.empty()) {
    return Usage("--merge and --partials: an instance publishes partials or merges them");
  }
  // The merge stage is a consumer group of its own.
  if (config.scale_out.merge && !seen.group && config.source.kafka.group_id == "vigil") {
    config.source.kafka.group_id = "vigil-merge";
  }
  if (seen.dry_run) {
    absl::StatusOr<std::vector<std::string>> off = ApplyDryRun(&config);
    if (!off.ok()) return Usage(std::string(off.status().message()));
    Log(off->empty() ? "dry run: this job sends and writes nothing anyway"
                     : "dry run: nothing leaves this process");
    for (const std::string& line : *off) Log(StrCat("dry run: ", line));
  }
  return RunJob(config, nullptr);
}

int Replay(int argc, char** argv) {
  JobConfig config = DefaultJobConfig();
  config.source.kind = SourceKind::kFile;
  config.outputs.console = false;
  config.http_listen = "";
  bool json = false;
  std::vector<std::string> paths;
  std::string err, v;
  Args a(argc, argv, 2);
  while (!a.Done()) {
    if (a.Value("--from", &v, &err)) {
      RangeBoundFlag(v, &config.from, &err);
    } else if (a.Value("--to", &v, &err)) {
      RangeBoundFlag(v, &config.to, &err);
    } else if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "json") err = "--output must be text or json";
      json = v == "json";
    } else if (JobFlag(a, &config, &err)) {
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown("replay"));
    } else {
      paths.push_back(a.Take());
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (paths.empty()) return Usage("replay needs event files or directories");
  if (config.from >= config.to) return Usage("--from must be before --to");
  bool past_to = false;
  absl::StatusOr<std::vector<std::string>> files =
      ExpandEventPaths(paths, config.from, config.to, &past_to);
  if (!files.ok()) return Usage(std::string(files.status().message()));
  config.source.paths = *files;
  // An archive's batches past --to are not read, but its data goes on: a
  // window ending by --to is complete, as in a replay of the whole file.
  if (past_to) config.event_time.input_end = config.to - 1;
  auto timeline = std::make_unique<TimelineSink>();
  TimelineSink* t = timeline.get();
  return RunJob(config, std::move(timeline),
                [&] { cli::Print(json ? t->ToJson() + "\n" : t->ToText()); });
}

// `vigil help [COMMAND]`, `vigil COMMAND --help`.
int Help(const std::string& command) {
  if (command.empty()) {
    std::fputs(cli::Overview().c_str(), stdout);
    return 0;
  }
  const cli::CommandHelp* c = cli::FindCommand(command);
  if (c == nullptr) {
    std::vector<std::string> names;
    for (const cli::CommandHelp& h : cli::Commands()) names.emplace_back(h.name);
    const std::string s = Suggest(command, names);
    return Usage(StrCat("unknown command '", command, "'",
                        s.empty() ? std::string() : StrCat("; did you mean ", s, "?")));
  }
  std::fputs(cli::CommandUsage(*c).c_str(), stdout);
  return 0;
}

int Dispatch(int argc, char** argv) {
  const std::string cmd = argv[1];
  if (cmd == "run") return Run(argc, argv);
  if (cmd == "check") return cli::Check(argc, argv);
  if (cmd == "gen") return cli::Gen(argc, argv);
  if (cmd == "dev-broker") return cli::DevBroker(argc, argv);
  if (cmd == "replay") return Replay(argc, argv);
  if (cmd == "alerts") return cli::Alerts(argc, argv);
  if (cmd == "experiment") return cli::Experiment(argc, argv);
  if (cmd == "report") return cli::Report(argc, argv);
  if (cmd == "query") return cli::Query(argc, argv);
  if (cmd == "test") return cli::Test(argc, argv);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (argc > 3) return Usage("help takes one command");
    return Help(argc == 3 ? argv[2] : "");
  }
  if (cmd == "version" || cmd == "--version") {
    if (argc > 2) return Usage(StrCat("version takes no arguments: ", argv[2]));
    std::puts("vigil " VIGIL_VERSION);
    std::printf("allocator: %s\n", AllocatorDescription().c_str());
    return 0;
  }
  if (cmd == "completion") {
    const std::string script = argc == 3 ? cli::CompletionScript(argv[2]) : "";
    if (script.empty()) return Usage("completion needs a shell: bash or zsh");
    std::fputs(script.c_str(), stdout);
    return 0;
  }
  if (cmd == "man") {
    if (argc > 2) return Usage(StrCat("man takes no arguments: ", argv[2]));
    std::fputs(cli::ManPage(VIGIL_VERSION).c_str(), stdout);
    return 0;
  }
  std::vector<std::string> names;
  for (const cli::CommandHelp& h : cli::Commands()) names.emplace_back(h.name);
  const std::string s = Suggest(cmd, names);
  return Usage(StrCat("unknown command '", cmd, "'",
                      s.empty() ? std::string() : StrCat("; did you mean ", s, "?")));
}

}  // namespace

int cli::RunJobFor(const JobConfig& config, std::unique_ptr<Sink> extra,
                   const std::function<void()>& after) {
  return RunJob(config, std::move(extra), after);
}

int RunCli(int argc, char** argv) {
  if (argc < 2) return Usage("missing command (run, check, gen, replay, test, ...)");
  // COMMAND --help / -h, wherever it stands.
  if (cli::FindCommand(argv[1]) != nullptr) {
    for (int i = 2; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--help" || a == "-h") return Help(argv[1]);
    }
  }
  return Dispatch(argc, argv);
}

std::vector<std::string> ParserFlags(const std::string& command) {
  std::vector<std::string> flags;
  // Commands without a flag parser: their arguments are files or none.
  for (const char* plain : {"version", "help", "completion", "man"}) {
    if (command == plain) return flags;
  }
  std::string name = command, probe = "--\x01";
  char* argv[] = {name.data(), name.data(), probe.data()};
  cli::SetFlagSink(&flags);
  (void)Dispatch(3, argv);
  cli::SetFlagSink(nullptr);
  std::sort(flags.begin(), flags.end());
  flags.erase(std::unique(flags.begin(), flags.end()), flags.end());
  return flags;
}

}  // namespace vigil
