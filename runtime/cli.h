// runtime/cli.h
//
// The `vigil` command line: subcommands run, check, gen and help.
#ifndef VIGIL_RUNTIME_CLI_H_
#define VIGIL_RUNTIME_CLI_H_

namespace vigil {

int RunCli(int argc, char** argv);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CLI_H_
