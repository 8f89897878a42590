// The command line's help (runtime/cli_help.h): every flag a parser
// accepts is in its command's help and nothing else is; `--help` and
// `vigil help` agree; the completion script completes in a real bash; the
// manual page renders with groff without a warning.
#include "runtime/cli_help.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "runtime/cli.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

TEST(CliHelpTest, EveryCommandDocumentsExactlyTheFlagsItsParserTakes) {
  size_t commands_with_flags = 0;
  for (const cli::CommandHelp& c : cli::Commands()) {
    const std::vector<std::string> parsed = ParserFlags(c.name);
    const std::vector<std::string> documented = cli::HelpFlags(c);
    for (const std::string& f : parsed) {
      EXPECT_TRUE(std::binary_search(documented.begin(), documented.end(), f))
          << "vigil " << c.name << " takes " << f << ", which its --help does not list";
    }
    for (const std::string& f : documented) {
      EXPECT_TRUE(std::binary_search(parsed.begin(), parsed.end(), f))
          << "vigil " << c.name << " --help lists " << f << ", which its parser does not take";
    }
    commands_with_flags += !parsed.empty();
  }
  // run, check, gen, replay, test, alerts, experiment, report, query,
  // dev-broker
  EXPECT_EQ(commands_with_flags, 10u);
  const std::vector<std::string> run = ParserFlags("run");
  EXPECT_TRUE(std::binary_search(run.begin(), run.end(), "--dry-run"));
  EXPECT_TRUE(std::binary_search(run.begin(), run.end(), "-X"));
}

TEST(CliHelpTest, FlagEntriesSplitHeadsAndDescriptions) {
  const cli::CommandHelp* gen = cli::FindCommand("gen");
  ASSERT_NE(gen, nullptr);
  const std::vector<cli::FlagEntry> entries = cli::FlagEntries(*gen);
  ASSERT_GE(entries.size(), 10u);
  EXPECT_EQ(entries[0].head, "--seed N");
  EXPECT_EQ(entries[0].names, std::vector<std::string>{"--seed"});
  EXPECT_EQ(entries[0].text, "PRNG seed (default 1); same seed, same bytes");
  const cli::CommandHelp* replay = cli::FindCommand("replay");
  bool several = false;
  for (const cli::FlagEntry& e : cli::FlagEntries(*replay)) {
    if (e.head.rfind("--max-out-of-orderness D --allowed-lateness D", 0) == 0) {
      several = true;
      EXPECT_EQ(e.names.size(), 4u) << e.head;
      EXPECT_EQ(e.text, "");  // "as for run" is on the next entry
    }
  }
  EXPECT_TRUE(several);
  EXPECT_EQ(cli::FindCommand("nosuch"), nullptr);
}

TEST(CliHelpTest, EachCommandAnswersHelpWithSynopsisFlagsAndExample) {
  for (const cli::CommandHelp& c : cli::Commands()) {
    const Result flag = Sh(kVigil + " " + c.name + " --help");
    EXPECT_EQ(flag.exit_code, 0) << c.name;
    EXPECT_EQ(flag.out.rfind(StrCat("Usage:\n  ", c.synopsis, "\n"), 0), 0u) << flag.out;
    EXPECT_NE(flag.out.find("\nExample:\n  "), std::string::npos) << flag.out;
    EXPECT_EQ(Sh(kVigil + " help " + c.name).out, flag.out) << c.name;
    EXPECT_EQ(Sh(kVigil + " " + c.name + " -h").out, flag.out) << c.name;
    for (const std::string& l : Lines(flag.out)) {
      EXPECT_LE(l.size(), 92u) << c.name << ": " << l;  // readable in a terminal
    }
  }
  const Result run = Sh(kVigil + " run --config x.yaml --help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("  --dry-run "), std::string::npos);
  const Result overview = Sh(kVigil + " --help");
  EXPECT_EQ(overview.exit_code, 0);
  EXPECT_EQ(Sh(kVigil + " help").out, overview.out);
  for (const cli::CommandHelp& c : cli::Commands()) {
    EXPECT_NE(overview.out.find(StrCat("  ", c.synopsis)), std::string::npos) << c.name;
  }
  const Result unknown = Sh(kVigil + " help replya 2>&1");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out.rfind("vigil: unknown command 'replya'; did you mean replay?\n", 0), 0u)
      << unknown.out;
  EXPECT_EQ(Sh(kVigil + " chekc x.yaml 2>&1")
                .out.rfind("vigil: unknown command 'chekc'; did you mean check?\n", 0),
            0u);
}

// The help texts as they are meant to read, word for word. After a
// deliberate change: for c in '' run check ...; do vigil $c --help >
// tests/runtime/golden/help${c:+_$c}.txt; done
TEST(CliHelpTest, TheHelpTextsAreTheGoldenOnes) {
  const std::string golden = std::string(VIGIL_SOURCE_DIR) + "/tests/runtime/golden/";
  EXPECT_EQ(Sh(kVigil + " --help").out, ReadFile(golden + "help.txt"));
  for (const cli::CommandHelp& c : cli::Commands()) {
    EXPECT_EQ(Sh(kVigil + " " + c.name + " --help").out,
              ReadFile(golden + "help_" + c.name + ".txt"))
        << "vigil " << c.name << " --help differs from tests/runtime/golden/help_" << c.name
        << ".txt";
  }
}

// Completes in bash as a user's shell would, with the script sourced.
std::string Complete(const std::string& words) {
  const std::string script = TempPath("complete", ".bash");
  std::ofstream(script) << Sh(kVigil + " completion bash").out << "COMP_WORDS=(" << words
                        << ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_vigil\n"
                        << "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  return Sh("bash " + script).out;
}

TEST(CliHelpTest, BashCompletesCommandsAndEachCommandsFlags) {
  EXPECT_EQ(Complete("vigil re"), "replay\nreport\n");
  EXPECT_EQ(Complete("vigil rep"), "replay\nreport\n");
  EXPECT_EQ(Complete("vigil repo"), "report\n");
  EXPECT_EQ(Complete("vigil run --dr"), "--dry-run\n");
  EXPECT_EQ(Complete("vigil check --s"), "--strict\n");
  EXPECT_EQ(Complete("vigil gen --inc"), "--incident\n");
  EXPECT_EQ(Complete("vigil help dev"), "dev-broker\n");
  EXPECT_EQ(Complete("vigil completion z"), "zsh\n");
  // A flag taking a file completes file names.
  const std::string dir = TempPath("complete_dir", "");
  Sh("mkdir -p " + dir + " && touch " + dir + "/job-a.yaml");
  EXPECT_EQ(Complete("vigil run --config " + dir + "/job-"), dir + "/job-a.yaml\n");
  // One taking another value (a duration, a number) completes nothing (the
  // harness prints an empty line for no candidates).
  EXPECT_EQ(Complete("vigil run --checkpoint-interval " + dir + "/job-"), "\n");
  EXPECT_EQ(Complete("vigil gen --rate " + dir + "/job-"), "\n");
  // After a flag without a value, replay's paths.
  EXPECT_EQ(Complete("vigil replay --allow-fresh-start " + dir + "/job-"), dir + "/job-a.yaml\n");
  // The registration a shell sees after sourcing it.
  const Result registered =
      Sh("bash -c 'source <(" + kVigil + " completion bash); complete -p vigil' 2>&1");
  EXPECT_EQ(registered.out, "complete -F _vigil vigil\n");
  const Result zsh = Sh(kVigil + " completion zsh");
  EXPECT_EQ(zsh.out.rfind("#compdef vigil\n", 0), 0u);
  EXPECT_NE(zsh.out.find("complete -F _vigil vigil"), std::string::npos);
  EXPECT_EQ(Sh(kVigil + " completion fish 2>&1").exit_code, 2);
}

TEST(CliHelpTest, TheManualPageRendersWithoutWarnings) {
  const std::string page = TempPath("vigil", ".1");
  ASSERT_EQ(Sh(kVigil + " man > " + page).exit_code, 0);
  const std::string roff = ReadFile(page);
  EXPECT_EQ(roff.rfind(StrCat(".TH VIGIL 1 \"\" \"vigil ", VIGIL_VERSION, "\""), 0), 0u);
  EXPECT_NE(roff.find(".B \\-\\-dry\\-run\n"), std::string::npos);
  // groff -ww: every warning; -z: no output.
  const Result warnings = Sh("groff -man -Tutf8 -ww -z " + page + " 2>&1");
  EXPECT_EQ(warnings.exit_code, 0);
  EXPECT_EQ(warnings.out, "");
  // -P-cbou: plain text, no overstrike bold or underline.
  const Result text = Sh("groff -man -Tutf8 -P-cbou " + page + " 2>&1");
  EXPECT_NE(text.out.find("vigil run [flags]"), std::string::npos) << text.out.substr(0, 2000);
}

}  // namespace
}  // namespace vigil
