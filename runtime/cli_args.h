// runtime/cli_args.h
//
// Flag parsing shared by the `vigil` subcommands: flags of the form
// `--name VALUE` or `--name=VALUE`, and the value parsers whose error
// messages every subcommand shares.
//
// Example:
//   Args a(argc, argv, 2);
//   std::string v, err;
//   while (!a.Done()) {
//     if (a.Value("--out", &v, &err)) { ... }
//     else if (a.Flag("--verbose")) { ... }
//     else return Usage(StrCat("unknown flag: ", a.Peek()));
//     if (!err.empty()) return Usage(err);
//   }
#ifndef VIGIL_RUNTIME_CLI_ARGS_H_
#define VIGIL_RUNTIME_CLI_ARGS_H_

#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "base/strings.h"
#include "base/time.h"
#include "operators/dataflow/sink.h"
#include "operators/generator/generator.h"
#include "runtime/job_config.h"

namespace vigil::cli {

// Writes all of `text`, a NUL byte in a label value included (fputs of
// c_str() stopped there, mid-line).
inline void Print(std::string_view text, FILE* to = stdout) {
  std::fwrite(text.data(), 1, text.size(), to);
}

// Reads flags of the form --name VALUE or --name=VALUE.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
  }
  bool Done() const { return pos_ >= args_.size(); }
  const std::string& Peek() const { return args_[pos_]; }
  bool Flag(const char* name) {
    Known(name);
    if (args_[pos_] != name) return false;
    ++pos_;
    return true;
  }
  // Returns true if the current argument is `name`; the value goes to *out.
  bool Value(const char* name, std::string* out, std::string* error) {
    Known(name);
    const std::string& a = args_[pos_];
    const size_t n = std::strlen(name);
    if (a.compare(0, n, name) != 0) return false;
    if (a.size() > n && a[n] == '=') {
      *out = a.substr(n + 1);
      ++pos_;
      return true;
    }
    if (a.size() != n) return false;
    if (pos_ + 1 >= args_.size()) {
      *error = missing_ = StrCat(name, " needs a value");
      ++pos_;
      return true;
    }
    *out = args_[pos_ + 1];
    pos_ += 2;
    return true;
  }
  std::string Take() { return args_[pos_++]; }
  // The message for `error`, a flag's check of its value: "--output needs a
  // value" when the flag was last without one (the check saw an empty
  // value and would say what is wrong with that).
  std::string Error(const std::string& error) const { return missing_.empty() ? error : missing_; }
  // "unknown flag for run: --htpp; did you mean --http?": the current
  // argument against every flag the loop has asked about (so call it last).
  std::string Unknown(std::string_view command) const;

 private:
  void Known(const char* name) {
    if (known_.empty() || known_.back() != name) known_.emplace_back(name);
  }
  std::vector<std::string> args_;
  size_t pos_ = 0;
  std::vector<std::string> known_;  // the flags asked about, for Unknown
  std::string missing_;             // "--x needs a value", once one was
};

// Prints the error and a hint to stderr; returns the bad-usage exit code 2.
int Usage(const std::string& error);
// Prints `why` (an input that could not be read, a server that failed) to
// stderr; returns exit code 1.
int Failed(const absl::Status& why);
// Introspection (ParserFlags in runtime/cli.h): with a sink, Args::Unknown
// stores there every flag the parser asked about, and Usage prints nothing.
void SetFlagSink(std::vector<std::string>* sink);
bool ParseNumber(const std::string& s, double* out);
// What the generator flags of one command line have set: `--start now`,
// and whether an --incident or --month came yet (the first of each
// replaces the list the defaults or the job file gave; later ones add).
struct GeneratorFlagsSeen {
  bool start_now = false;
  bool incident = false;
  bool month = false;
};
// Generator flags shared by `gen` and `run`. Returns false if `a` is not at
// a generator flag; sets *error on a bad value.
bool GeneratorFlag(Args& a, GeneratorOptions* g, GeneratorFlagsSeen* seen, std::string* error);
// Parse a duration / RFC 3339 time into *out, or set *err (if still empty).
void DurationFlag(std::string_view flag, const std::string& v, DurationMs* out, std::string* err);
void TimeFlag(const std::string& v, TimeMs* out, std::string* err);
// A bound of a [from, to) range of event times, which are whole
// milliseconds: a time past the millisecond ("…00.0001Z") rounds up, so
// that the range holds the same times as the bounds written.
void RangeBoundFlag(const std::string& v, TimeMs* out, std::string* err);
// "-X KEY=VALUE" / "--kafka-property KEY=VALUE": a librdkafka property.
bool KafkaPropertyFlag(Args& a, std::vector<std::pair<std::string, std::string>>* out,
                       std::string* err);

// Subcommands defined outside cli.cc.
int Gen(int argc, char** argv);
int DevBroker(int argc, char** argv);
int Alerts(int argc, char** argv);
// `vigil experiment report --url URL`: the report of a running job, from its
// /api/rules and /api/metrics; `format` as for ExperimentReport.
int ExperimentReportFromJob(const std::string& url, const std::string& format);
// `vigil report escalations|tracker ...` and `vigil experiment report ...`
// (runtime/cli_report.cc).
int Report(int argc, char** argv);
// `vigil check FILE...` (runtime/cli_check.cc).
int Check(int argc, char** argv);
// `vigil test FILE...`: rule unit tests (runtime/rule_test.h).
int Test(int argc, char** argv);
int Experiment(int argc, char** argv);
// `vigil query METRIC ...` (runtime/cli_query.cc).
int Query(int argc, char** argv);
// GET `path` (with its query) of the running job at `url`: the body, or
// nullopt after printing why not (runtime/cli_experiment.cc); with
// `quiet_404`, nullopt without a word when the job answers 404 (an endpoint
// it does not serve, such as /api/query without a results database).
std::optional<std::string> FetchFromJob(const std::string& url, std::string_view path,
                                        bool quiet_404 = false);
// Runs the job of `config` with `extra` as one more sink, then `after`, with
// the signal handling of `vigil run` (runtime/cli.cc); the exit code.
int RunJobFor(const JobConfig& config, std::unique_ptr<Sink> extra,
              const std::function<void()>& after);

}  // namespace vigil::cli

#endif  // VIGIL_RUNTIME_CLI_ARGS_H_
