#include "runtime/cli_help.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "base/strings.h"

namespace vigil::cli {
namespace {

constexpr size_t kWidth = 79;

// `text` wrapped at kWidth, every line indented by `indent`.
std::string Wrap(std::string_view text, size_t indent) {
  std::string out, line(indent, ' ');
  std::istringstream words{std::string(text)};
  std::string w;
  bool empty = true;
  while (words >> w) {
    if (!empty && line.size() + 1 + w.size() > kWidth) {
      out += line + "\n";
      line.assign(indent, ' ');
      empty = true;
    }
    if (!empty) line += ' ';
    line += w;
    empty = false;
  }
  if (!empty) out += line + "\n";
  return out;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

// The flag names in an entry's head: "--rate N --seed N" -> --rate, --seed.
std::vector<std::string> NamesIn(std::string_view head) {
  std::vector<std::string> out;
  std::istringstream words{std::string(head)};
  std::string w;
  while (words >> w) {
    if (w.size() < 2 || w[0] != '-') continue;
    const size_t end = w.find_first_of("=[");
    out.push_back(w.substr(0, end));
  }
  return out;
}

// roff text: backslashes, dashes and a leading dot or quote escaped.
std::string Roff(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

}  // namespace

const CommandHelp* FindCommand(std::string_view name) {
  for (const CommandHelp& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string Overview() {
  std::string out = StrCat(kTitle, "\n\nUsage:\n");
  for (const CommandHelp& c : Commands()) {
    std::string line = StrCat("  ", c.synopsis);
    if (line.size() < 29) {
      line.resize(30, ' ');
      std::string summary = Wrap(c.summary, 30);
      out += line + summary.substr(30);
    } else {
      out += line + "\n" + Wrap(c.summary, 30);
    }
  }
  StrAppend(&out, "\nRun 'vigil help COMMAND' or 'vigil COMMAND --help' for its flags and an ",
            "example;\n'vigil man' prints the manual page.\n\nEnvironment:\n", kEnvironment,
            "\n\nExit codes: ", kExitCodes, "\n");
  return out;
}

std::string CommandUsage(const CommandHelp& c) {
  std::string out = StrCat("Usage:\n  ", c.synopsis, "\n\n", Wrap(c.summary, 0));
  if (*c.flags_title != '\0') StrAppend(&out, "\n", c.flags_title, ":\n", c.flags, "\n");
  StrAppend(&out, "\nExample:\n", c.example, "\n");
  return out;
}

std::vector<FlagEntry> FlagEntries(const CommandHelp& c) {
  std::vector<FlagEntry> out;
  for (const std::string& l : Lines(c.flags)) {
    const size_t first = l.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    if (first == 2 && l[2] == '-') {
      FlagEntry e;
      const size_t gap = l.find("  ", 2);
      e.head = l.substr(2, gap == std::string::npos ? std::string::npos : gap - 2);
      if (gap != std::string::npos) {
        const size_t text = l.find_first_not_of(' ', gap);
        if (text != std::string::npos) e.text = l.substr(text);
      }
      e.names = NamesIn(e.head);
      out.push_back(std::move(e));
    } else if (!out.empty()) {
      out.back().text += (out.back().text.empty() ? "" : " ") + l.substr(first);
    }
  }
  return out;
}

std::vector<std::string> HelpFlags(const CommandHelp& c) {
  std::vector<std::string> out;
  for (const FlagEntry& e : FlagEntries(c)) out.insert(out.end(), e.names.begin(), e.names.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string ManPage(std::string_view version) {
  std::string out = StrCat(".TH VIGIL 1 \"\" \"vigil ", version, "\" \"User Commands\"\n",
                           ".SH NAME\nvigil \\- real\\-time stream processor for chatbot "
                           "observability\n.SH SYNOPSIS\n");
  for (const CommandHelp& c : Commands()) StrAppend(&out, ".B ", Roff(c.synopsis), "\n.br\n");
  StrAppend(&out,
            ".SH DESCRIPTION\nvigil reads chatbot events from files, Kafka or Kinesis, keeps "
            "event\\-time windows of latency percentiles, rates and counts, joins events to "
            "the turns they are about, and evaluates alert rules and SLOs written in YAML; "
            "alerts reach on\\-call through Alertmanager, PagerDuty, webhooks or Jira.\n"
            ".SH COMMANDS\n");
  for (const CommandHelp& c : Commands()) {
    StrAppend(&out, ".SS ", Roff(c.synopsis), "\n", Roff(c.summary), "\n");
    for (const FlagEntry& e : FlagEntries(c)) {
      StrAppend(&out, ".TP\n.B ", Roff(e.head), "\n", Roff(e.text), "\n");
    }
    out += ".PP\nExample:\n.PP\n.nf\n";
    for (const std::string& l : Lines(c.example)) StrAppend(&out, Roff(l), "\n");
    out += ".fi\n";
  }
  out += ".SH ENVIRONMENT\n";
  for (const std::string& l : Lines(kEnvironment)) {
    const size_t first = l.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    if (first == 2) {
      const size_t gap = l.find("  ", 2);
      StrAppend(&out, ".TP\n.B ", Roff(l.substr(2, gap - 2)), "\n");
      if (gap != std::string::npos)
        StrAppend(&out, Roff(l.substr(l.find_first_not_of(' ', gap))), "\n");
    } else {
      StrAppend(&out, Roff(l.substr(first)), "\n");
    }
  }
  StrAppend(&out, ".SH EXIT STATUS\n", Roff(kExitCodes), "\n",
            ".SH SEE ALSO\nThe docs/ folder of the vigil repository: commands, rule files, "
            "alerts, windows and event time, sources, outputs and paging, operations, "
            "scale\\-out, metrics, troubleshooting.\n");
  return out;
}

std::string CompletionScript(std::string_view shell) {
  if (shell != "bash" && shell != "zsh") return "";
  std::string commands, cases, files, values;
  for (const CommandHelp& c : Commands()) {
    StrAppend(&commands, commands.empty() ? "" : " ", c.name);
    std::string flags;
    for (const std::string& f : HelpFlags(c)) StrAppend(&flags, flags.empty() ? "" : " ", f);
    if (!flags.empty()) StrAppend(&cases, "    ", c.name, ") flags=\"", flags, "\" ;;\n");
    for (const FlagEntry& e : FlagEntries(c)) {
      for (const std::string& n : e.names) {
        // A path flag: the word after its name (a head may list several
        // flags, `--checkpoint-dir DIR --checkpoint-interval D`) names one.
        std::istringstream words(e.head.substr(e.head.find(n) + n.size()));
        std::string next;
        words >> next;
        const bool path = !next.starts_with("-") && (next.find("FILE") != std::string::npos ||
                                                     next.find("DIR") != std::string::npos);
        // Another value (D, N, ADDR, URL): nothing to complete.
        const bool value =
            !path && !next.empty() && std::isupper(static_cast<unsigned char>(next[0]));
        std::string& set = path ? files : values;
        if ((path || value) && set.find(" " + n + " ") == std::string::npos) {
          StrAppend(&set, set.empty() ? " " : "", n, " ");
        }
      }
    }
  }
  auto pattern = [](const std::string& names) {
    std::string out, name;
    for (std::istringstream in(names); in >> name;) StrAppend(&out, out.empty() ? "" : "|", name);
    return out;
  };
  const std::string files_pattern = pattern(files);
  // A flag both commands use, one with a path and one not, completes files.
  std::string values_only;
  for (std::istringstream in(values); in >> values;) {
    if (files.find(" " + values + " ") == std::string::npos) StrAppend(&values_only, values, " ");
  }
  const std::string values_pattern = pattern(values_only);
  std::string out;
  if (shell == "zsh") {
    out +=
        "#compdef vigil\n# vigil completion for zsh, through its bash completion support.\n"
        "autoload -U +X bashcompinit && bashcompinit\n";
  } else {
    out += "# vigil completion for bash: source <(vigil completion bash)\n";
  }
  StrAppend(&out, "_vigil() {\n",
            "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n",
            "  if [[ $COMP_CWORD -eq 1 ]]; then\n", "    COMPREPLY=($(compgen -W \"", commands,
            "\" -- \"$cur\"))\n", "    return\n", "  fi\n", "  case \"$prev\" in\n", "    ",
            files_pattern, ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", "    ",
            values_pattern, ") COMPREPLY=(); return ;;\n", "  esac\n", "  local flags=\"\"\n",
            "  case \"${COMP_WORDS[1]}\" in\n", cases, "    help) flags=\"", commands, "\" ;;\n",
            "    completion) flags=\"bash zsh\" ;;\n", "  esac\n",
            "  if [[ $cur == -* || ${COMP_WORDS[1]} == help || ",
            "${COMP_WORDS[1]} == completion ]]; then\n",
            "    COMPREPLY=($(compgen -W \"$flags --help\" -- \"$cur\"))\n", "  else\n",
            "    COMPREPLY=($(compgen -f -- \"$cur\"))\n", "  fi\n", "}\n",
            "complete -F _vigil vigil\n");
  return out;
}

}  // namespace vigil::cli
