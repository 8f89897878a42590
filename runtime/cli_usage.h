// runtime/cli_usage.h
//
// The text of `vigil --help`: every subcommand and its flags.
//
// Example:
//   std::fputs(cli::kUsage, stdout);
#ifndef VIGIL_RUNTIME_CLI_USAGE_H_
#define VIGIL_RUNTIME_CLI_USAGE_H_

namespace vigil::cli {

extern const char kUsage[];

}  // namespace vigil::cli

#endif  // VIGIL_RUNTIME_CLI_USAGE_H_
