// runtime/cli_flag_effects.h
//
// Flags of `vigil run` that only mean something for another source or
// output than the job has: generator flags with a file or Kafka input,
// Kafka flags with a file, --instance without Kinesis, archive settings
// without --archive, web settings with --http off. They are accepted (a
// job file may set the source the flags were meant for) but the job says
// that they do nothing, one line each.
//
// Example:
//   for (const std::string& line : FlagsWithoutEffect({"--rate"}, config)) Log(line);
//   // "--rate does nothing here: it sets the generator, and the job reads files"
#ifndef VIGIL_RUNTIME_CLI_FLAG_EFFECTS_H_
#define VIGIL_RUNTIME_CLI_FLAG_EFFECTS_H_

#include <string>
#include <vector>

#include "runtime/job_config.h"

namespace vigil {

// The flag names given on the command line ("--rate", from "--rate 5" or
// "--rate=5"), in order, from argv[first] on.
std::vector<std::string> GivenFlags(int argc, char** argv, int first);

// One line per flag of `given` that the final `config` makes meaningless.
std::vector<std::string> FlagsWithoutEffect(const std::vector<std::string>& given,
                                            const JobConfig& config);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CLI_FLAG_EFFECTS_H_
