// runtime/cli.h
//
// The `vigil` command line. Subcommands:
//   vigil run [flags]         run the stream job (no flags: the embedded demo)
//   vigil check FILE...       validate rule files; file:line:col: errors, exit 1
//   vigil gen [flags]         write synthetic chatbot events as NDJSON
//   vigil help | --help       usage; vigil version
// Exit codes: 0 success, 1 errors found or the job failed, 2 bad usage or
// configuration.
#ifndef VIGIL_RUNTIME_CLI_H_
#define VIGIL_RUNTIME_CLI_H_

namespace vigil {

int RunCli(int argc, char** argv);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CLI_H_
