// runtime/cli.h
//
// The `vigil` command line: run, check, gen, replay, test, alerts,
// dev-broker, version, help, completion, man (their help: runtime/
// cli_help_text.cc). `vigil COMMAND --help` and `vigil help COMMAND` print a
// command's synopsis, flags and example.
// Exit codes: 0 success, 1 errors found or the job failed, 2 bad usage or
// configuration.
//
// Example:
//   return RunCli(argc, argv);
#ifndef VIGIL_RUNTIME_CLI_H_
#define VIGIL_RUNTIME_CLI_H_

#include <string>
#include <vector>

namespace vigil {

int RunCli(int argc, char** argv);

// The flags the parser of `command` accepts, sorted: what the help of each
// command is checked against.
std::vector<std::string> ParserFlags(const std::string& command);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CLI_H_
