// runtime/cli_help.h
//
// The help of the `vigil` command line, from one definition per
// subcommand (runtime/cli_help_text.cc): `vigil --help` (the overview),
// `vigil CMD --help` and `vigil help CMD` (synopsis, flags, example), the
// vigil(1) manual page (`vigil man`) and the shell completion scripts
// (`vigil completion bash|zsh`). The flags each parser accepts are checked
// against this text in the tests, so a flag cannot be added undocumented.
//
// Example:
//   std::fputs(CommandUsage(*FindCommand("run")).c_str(), stdout);
#ifndef VIGIL_RUNTIME_CLI_HELP_H_
#define VIGIL_RUNTIME_CLI_HELP_H_

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cli {

struct CommandHelp {
  const char* name;         // "run"
  const char* synopsis;     // "vigil run [flags]"
  const char* summary;      // one paragraph, unwrapped
  const char* flags_title;  // "Flags"; "" when it has none
  const char* flags;        // "  --name VALUE   what it does", aligned, wrapped
  const char* example;      // indented command lines
};

extern const char kTitle[];
extern const char kEnvironment[];
extern const char kExitCodes[];

std::span<const CommandHelp> Commands();
const CommandHelp* FindCommand(std::string_view name);

// `vigil --help`: the commands and where to read more.
std::string Overview();
// `vigil CMD --help`.
std::string CommandUsage(const CommandHelp& c);

// One entry of a flags text: the flags it names ("--rate", "-X"), its head
// ("--input FILE|-") and its description, unwrapped.
struct FlagEntry {
  std::vector<std::string> names;
  std::string head;
  std::string text;
};
std::vector<FlagEntry> FlagEntries(const CommandHelp& c);
// Every flag the help of `c` names, sorted, once each.
std::vector<std::string> HelpFlags(const CommandHelp& c);

// vigil(1) in roff (man(7) macros).
std::string ManPage(std::string_view version);
// The completion script for `shell` ("bash" or "zsh"); empty for another.
std::string CompletionScript(std::string_view shell);

}  // namespace vigil::cli

#endif  // VIGIL_RUNTIME_CLI_HELP_H_
