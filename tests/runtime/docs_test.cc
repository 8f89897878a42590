// The documentation (README.md, docs/, deploy/README.md, bench/README.md)
// checked against the repository and the binary:
//   - every relative link names a file that exists, and a #fragment a
//     heading of that page;
//   - every `vigil CMD --flag` written in a code block or span is a flag
//     CMD accepts (as its --help lists them);
//   - every block marked <!-- runnable --> runs, from a copy of the
//     repository root where build/vigil is the binary under test, and prints
//     what the page shows after each command ("# " lines; "…" stands for any
//     text); it writes only under build/. VIGIL_UPDATE_DOCS=1 rewrites the
//     lines that differ, so the tour is regenerated rather than edited;
//   - docs/metrics.md lists every series the source registers, and only those.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

const std::string kSource = VIGIL_SOURCE_DIR;
const std::string kVigil = VIGIL_BINARY;

struct Doc {
  std::string path;  // relative to the source root
  std::vector<std::string> lines;
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      if (start < text.size()) out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::vector<Doc> Docs() {
  std::vector<std::string> paths = {"README.md", "deploy/README.md", "bench/README.md"};
  std::vector<std::string> pages;
  for (const auto& e : fs::directory_iterator(kSource + "/docs")) {
    if (e.path().extension() == ".md") pages.push_back("docs/" + e.path().filename().string());
  }
  std::sort(pages.begin(), pages.end());
  paths.insert(paths.end(), pages.begin(), pages.end());
  std::vector<Doc> docs;
  for (const std::string& p : paths) docs.push_back({p, SplitLines(ReadFile(kSource + "/" + p))});
  return docs;
}

bool IsFence(const std::string& line) { return line.rfind("```", 0) == 0; }

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces
// to hyphens.
std::string Slug(std::string heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_' || c >= 0x80) {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (c == ' ') {
      out.push_back('-');
    }
  }
  return out;
}

std::set<std::string> Anchors(const Doc& doc) {
  std::set<std::string> out;
  bool fence = false;
  for (const std::string& line : doc.lines) {
    if (IsFence(line)) fence = !fence;
    if (fence || line.empty() || line[0] != '#') continue;
    const size_t text = line.find_first_not_of('#');
    if (text == std::string::npos || line[text] != ' ') continue;
    out.insert(Slug(line.substr(text + 1)));
  }
  return out;
}

// `line` without its inline code spans.
std::string WithoutCode(const std::string& line) {
  return std::regex_replace(line, std::regex("`[^`]*`"), "");
}

TEST(DocsTest, EveryLinkResolves) {
  const std::vector<Doc> docs = Docs();
  std::map<std::string, std::set<std::string>> anchors;
  for (const Doc& d : docs) anchors[d.path] = Anchors(d);
  const std::regex link(R"(\]\(([^)\s]+)\))");
  int links = 0;
  for (const Doc& d : docs) {
    bool fence = false;
    for (size_t i = 0; i < d.lines.size(); ++i) {
      if (IsFence(d.lines[i])) fence = !fence;
      if (fence) continue;
      const std::string text = WithoutCode(d.lines[i]);
      for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
        const std::string target = (*it)[1].str();
        if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 ||
            target.rfind("mailto:", 0) == 0) {
          continue;
        }
        ++links;
        const std::string where = d.path + ":" + std::to_string(i + 1) + ": " + target;
        const size_t hash = target.find('#');
        const std::string file = target.substr(0, hash);
        const std::string fragment = hash == std::string::npos ? "" : target.substr(hash + 1);
        std::string resolved = d.path;
        if (!file.empty()) {
          resolved = (fs::path(d.path).parent_path() / file).lexically_normal().string();
          EXPECT_TRUE(fs::exists(kSource + "/" + resolved)) << where << ": no such file";
        }
        if (!fragment.empty()) {
          ASSERT_TRUE(anchors.count(resolved)) << where << ": anchors only into checked pages";
          EXPECT_TRUE(anchors[resolved].count(fragment)) << where << ": no such heading";
        }
      }
    }
  }
  EXPECT_GT(links, 30);  // the check found the links
}

const std::vector<std::string> kCommands = {"run",  "check",      "gen",        "replay",
                                            "test", "alerts",     "dev-broker", "version",
                                            "help", "completion", "man"};

// The flags `vigil CMD --help` lists, and --help/-h.
std::set<std::string> FlagsOf(const std::string& cmd) {
  std::set<std::string> out = {"--help", "-h"};
  const Result r = Sh(kVigil + " " + cmd + " --help 2>&1");
  EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.out;
  // Flag lines start with two spaces and a dash; the flags are what comes
  // before the description column (a run of spaces), several to a line.
  const std::regex flag(R"((?:^|[\s,])(--?[A-Za-z][A-Za-z0-9.-]*))");
  for (const std::string& line : Lines(r.out)) {
    if (line.rfind("  -", 0) != 0) continue;
    const size_t gap = line.find("   ", 2);
    const std::string names = line.substr(0, gap);
    for (std::sregex_iterator it(names.begin(), names.end(), flag), end; it != end; ++it) {
      out.insert((*it)[1].str());
    }
  }
  return out;
}

// Every `vigil CMD ...` in `text`: (CMD, the flags written after it).
std::vector<std::pair<std::string, std::vector<std::string>>> Invocations(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (size_t i = 0; i < words.size(); ++i) {
    // A command word: vigil or a path to it, first or after a shell
    // separator ("journalctl -u vigil" and "--group vigil" are no commands).
    std::string w = words[i];
    while (!w.empty() && (w[0] == '<' || w[0] == '(' || w[0] == '$' || w[0] == '"')) w.erase(0, 1);
    if (w != "vigil" && !(w.size() > 6 && w.compare(w.size() - 6, 6, "/vigil") == 0)) continue;
    static const std::set<std::string> kBefore = {"|",    "||",   "&&", ";",    "sudo",
                                                  "exec", "then", "do", "time", "!"};
    if (i > 0 && !kBefore.count(words[i - 1]) && w == words[i]) continue;
    if (i + 1 == words.size()) continue;
    std::string cmd = words[i + 1];
    size_t from = i + 2;
    if (cmd[0] == '-') {  // vigil --help, vigil --version
      cmd = "";
      from = i + 1;
    } else if (std::find(kCommands.begin(), kCommands.end(), cmd) == kCommands.end()) {
      continue;  // prose ("vigil COMMAND", "vigil is")
    }
    std::vector<std::string> flags;
    for (size_t j = from; j < words.size(); ++j) {
      std::string f = words[j];
      if (f == "|" || f == "||" || f == "&&" || f == ";" || f == "#" || f[0] == '>' ||
          f.rfind("2>", 0) == 0 || f == "<" || f == "vigil") {
        break;
      }
      while (!f.empty() && (f[0] == '[' || f[0] == '(' || f[0] == '"')) f.erase(0, 1);
      if (f.size() < 2 || f[0] != '-' || f == "--" || f == "-") continue;
      f = f.substr(0, f.find_first_of("=[]),.`'\"\\"));
      if (f.size() > 1 && !std::isdigit(static_cast<unsigned char>(f[1]))) flags.push_back(f);
    }
    out.emplace_back(cmd, flags);
  }
  return out;
}

TEST(DocsTest, EveryFlagWrittenAfterACommandIsOneItAccepts) {
  std::map<std::string, std::set<std::string>> accepted;
  for (const std::string& cmd : kCommands) accepted[cmd] = FlagsOf(cmd);
  accepted[""] = {"--help", "-h", "--version"};
  const std::regex span("`([^`]*)`");
  int checked = 0;
  for (const Doc& d : Docs()) {
    bool fence = false;
    std::string pending;  // a code-block line continued with '\'
    for (size_t i = 0; i < d.lines.size(); ++i) {
      const std::string& line = d.lines[i];
      std::vector<std::string> pieces;
      if (IsFence(line)) {
        fence = !fence;
        continue;
      }
      if (fence) {
        if (!line.empty() && line.back() == '\\') {
          pending += line.substr(0, line.size() - 1) + " ";
          continue;
        }
        pieces.push_back(pending + line);
        pending.clear();
      } else {
        for (std::sregex_iterator it(line.begin(), line.end(), span), end; it != end; ++it) {
          pieces.push_back((*it)[1].str());
        }
      }
      for (const std::string& piece : pieces) {
        for (const auto& [cmd, flags] : Invocations(piece)) {
          for (const std::string& f : flags) {
            ++checked;
            EXPECT_TRUE(accepted[cmd].count(f)) << d.path << ":" << i + 1 << ": vigil " << cmd
                                                << " does not accept " << f << " (" << piece << ")";
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 30);  // the check found the commands
}

// A command of a runnable block and the output the page shows after it.
struct Step {
  std::string command;
  size_t line = 0;                    // 1-based, of the command's first line
  std::vector<std::string> expected;  // without the "# "
  size_t expected_line = 0;           // where the expected lines start
};

struct Block {
  const Doc* doc;
  size_t line;
  std::vector<Step> steps;
};

std::vector<Block> RunnableBlocks(const std::vector<Doc>& docs) {
  std::vector<Block> blocks;
  for (const Doc& d : docs) {
    for (size_t i = 0; i + 1 < d.lines.size(); ++i) {
      if (d.lines[i] != "<!-- runnable -->") continue;
      EXPECT_TRUE(d.lines[i + 1] == "```sh" || d.lines[i + 1] == "```bash")
          << d.path << ":" << i + 2 << ": a runnable block is a sh block right after the marker";
      Block b{&d, i + 2, {}};
      bool after_command = false;
      std::string continued;
      const std::regex heredoc(R"(<<-?'?([A-Za-z_]+)'?)");
      for (size_t j = i + 2; j < d.lines.size() && !IsFence(d.lines[j]); ++j) {
        const std::string& line = d.lines[j];
        // A here-document is part of its command, up to its delimiter.
        std::smatch here;
        if (continued.empty() && line.rfind("#", 0) != 0 &&
            std::regex_search(line, here, heredoc)) {
          b.steps.push_back({line, j + 1, {}, 0});
          for (++j; j < d.lines.size() && d.lines[j] != here[1].str(); ++j) {
            b.steps.back().command += "\n" + d.lines[j];
          }
          b.steps.back().command += "\n" + here[1].str();
          after_command = true;
          continue;
        }
        if (line.rfind("#", 0) == 0) {
          if (after_command && (line == "#" || line.rfind("# ", 0) == 0)) {
            if (b.steps.back().expected.empty()) b.steps.back().expected_line = j + 1;
            b.steps.back().expected.push_back(line.size() > 2 ? line.substr(2) : "");
          }
          continue;
        }
        after_command = false;
        if (line.empty()) continue;
        if (continued.empty()) b.steps.push_back({"", j + 1, {}, 0});
        if (line.back() == '\\') {
          continued += line.substr(0, line.size() - 1);
          continue;
        }
        b.steps.back().command = continued + line;
        continued.clear();
        after_command = true;
      }
      blocks.push_back(std::move(b));
    }
  }
  return blocks;
}

// An expected line, "…" matching any text.
bool Matches(const std::string& expected, const std::string& actual) {
  std::string re;
  size_t start = 0;
  for (size_t at; (at = expected.find("…", start)) != std::string::npos;
       start = at + std::string("…").size()) {
    re += std::regex_replace(expected.substr(start, at - start),
                             std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
          ".*";
  }
  re += std::regex_replace(expected.substr(start), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  return std::regex_match(actual, std::regex(re));
}

// A directory that looks like the repository root to a runnable block.
std::string Sandbox(const std::string& name) {
  const std::string root = TempPath("docs_", name);
  fs::remove_all(root);
  fs::create_directories(root + "/build");
  fs::create_symlink(kVigil, root + "/build/vigil");
  for (const char* dir : {"deploy", "docs", "tests"}) {
    fs::create_directory_symlink(kSource + "/" + dir, root + "/" + dir);
  }
  return root;
}

TEST(DocsTest, RunnableBlocksPrintWhatThePagesShow) {
  const std::vector<Doc> docs = Docs();
  const std::vector<Block> blocks = RunnableBlocks(docs);
  ASSERT_FALSE(blocks.empty());
  const bool update = std::getenv("VIGIL_UPDATE_DOCS") != nullptr;
  struct Edit {
    size_t first;  // 0-based line
    size_t count;
    std::vector<std::string> lines;
  };
  std::map<std::string, std::vector<Edit>> edits;  // by page, in page order
  bool tour = false;
  for (size_t n = 0; n < blocks.size(); ++n) {
    const Block& b = blocks[n];
    const std::string where = b.doc->path + ":" + std::to_string(b.line);
    tour |= b.doc->path == "README.md";
    const std::string root = Sandbox("block" + std::to_string(n));
    const std::string out = root + "_out";
    fs::remove_all(out);
    fs::create_directories(out);
    std::string script = "cd " + root + "\n";
    for (size_t s = 0; s < b.steps.size(); ++s) {
      const std::string file = out + "/" + std::to_string(s);
      script +=
          "{ " + b.steps[s].command + "\n} > " + file + ".out 2>&1; echo $? > " + file + ".rc\n";
    }
    std::ofstream(out + "/script.sh") << script;
    const Result run = Sh("timeout 300 bash " + out + "/script.sh 2>&1");
    EXPECT_EQ(run.exit_code, 0) << where << ": " << run.out;
    for (size_t s = 0; s < b.steps.size(); ++s) {
      const Step& step = b.steps[s];
      const std::string file = out + "/" + std::to_string(s);
      const std::string output = ReadFile(file + ".out");
      EXPECT_EQ(ReadFile(file + ".rc"), "0\n")
          << b.doc->path << ":" << step.line << ": " << step.command << " failed:\n"
          << output;
      if (step.expected.empty()) continue;
      std::vector<std::string> actual = SplitLines(output);
      bool same = actual.size() == step.expected.size();
      for (size_t k = 0; same && k < actual.size(); ++k)
        same = Matches(step.expected[k], actual[k]);
      if (same) continue;
      if (update) {
        std::vector<std::string> now;
        for (size_t k = 0; k < actual.size(); ++k) {
          const bool keep = k < step.expected.size() && Matches(step.expected[k], actual[k]);
          now.push_back(actual[k].empty() ? "#" : "# " + (keep ? step.expected[k] : actual[k]));
        }
        edits[b.doc->path].push_back({step.expected_line - 1, step.expected.size(), now});
        ADD_FAILURE() << b.doc->path << ":" << step.line << ": rewritten; check the diff";
        continue;
      }
      std::string shown, got;
      for (const std::string& l : step.expected) shown += "# " + l + "\n";
      for (const std::string& l : actual) got += "# " + l + "\n";
      ADD_FAILURE() << b.doc->path << ":" << step.line << ": " << step.command
                    << " printed something else than the page shows.\npage:\n"
                    << shown << "binary:\n"
                    << got << "(VIGIL_UPDATE_DOCS=1 ctest -R DocsTest rewrites the page)";
    }
    // Nothing written at the root: only under build/ (ignored by git).
    for (const auto& e : fs::directory_iterator(root)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(name == "build" || name == "deploy" || name == "docs" || name == "tests")
          << where << ": the block writes " << name << " into the repository root";
    }
  }
  EXPECT_TRUE(tour) << "the README's tour is runnable";
  for (const auto& [path, page_edits] : edits) {
    std::vector<std::string> lines = SplitLines(ReadFile(kSource + "/" + path));
    // From the bottom up, so that earlier positions stay valid.
    for (auto e = page_edits.rbegin(); e != page_edits.rend(); ++e) {
      lines.erase(lines.begin() + e->first, lines.begin() + e->first + e->count);
      lines.insert(lines.begin() + e->first, e->lines.begin(), e->lines.end());
    }
    std::ofstream f(kSource + "/" + path);
    for (const std::string& line : lines) f << line << "\n";
  }
}

TEST(DocsTest, TheMetricsReferenceListsEverySeriesTheSourceRegisters) {
  std::set<std::string> registered;
  const std::regex name(R"re(\.Name\("(vigil_[a-z_]+)"\))re");
  for (const char* dir : {"/runtime", "/operators"}) {
    for (const auto& e : fs::recursive_directory_iterator(kSource + dir)) {
      if (e.path().extension() != ".cc") continue;
      const std::string text = ReadFile(e.path().string());
      for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
        registered.insert((*it)[1].str());
      }
    }
  }
  ASSERT_GT(registered.size(), 40u);
  const std::string page = ReadFile(kSource + "/docs/metrics.md");
  std::set<std::string> documented;
  const std::regex doc_name(R"(`(vigil_[a-z_]+)[`{])");
  for (std::sregex_iterator it(page.begin(), page.end(), doc_name), end; it != end; ++it) {
    documented.insert((*it)[1].str());
  }
  for (const std::string& n : registered) {
    EXPECT_TRUE(documented.count(n)) << n << " is on /metrics but not in docs/metrics.md";
  }
  for (const std::string& n : documented) {
    EXPECT_TRUE(registered.count(n) || n == "vigil_metric_")
        << n << " is in docs/metrics.md but nothing registers it";
  }
}

}  // namespace
}  // namespace vigil
