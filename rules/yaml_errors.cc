#include "rules/yaml_errors.h"

#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"

namespace vigil {
namespace {

// Line `n` (0-based) of `text`, without its newline.
std::string_view LineOf(std::string_view text, int n) {
  size_t start = 0;
  for (int i = 0; i < n; ++i) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  const size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

bool StartsAListItem(std::string_view line) {
  const size_t first = line.find_first_not_of(' ');
  return first != std::string_view::npos && line.substr(first, 2) == "- ";
}

bool IndentsWithATab(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return line.substr(0, first).find('\t') != std::string_view::npos;
}

// Where the innermost '[' or '{' that is still open at `offset` was opened
// (quotes and comments skipped); false when none is.
bool OpenBracket(std::string_view text, size_t offset, char open, int* line, int* col) {
  struct Open {
    char c;
    int line;
    int col;
  };
  std::vector<Open> stack;
  int l = 0;
  int c = 0;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < offset && i < text.size(); ++i, ++c) {
    const char ch = text[i];
    if (ch == '\n') {
      ++l;
      c = -1;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote != 0) {
      if (ch == '\\' && quote == '"') {
        ++i;
        ++c;
      } else if (ch == quote) {
        quote = 0;
      }
      continue;
    }
    if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      comment = true;
    } else if (ch == '[' || ch == '{') {
      stack.push_back({ch, l, c});
    } else if ((ch == ']' || ch == '}') && !stack.empty()) {
      stack.pop_back();
    }
  }
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    if (it->c == open) {
      *line = it->line + 1;
      *col = it->col + 1;
      return true;
    }
  }
  return false;
}

// The words for a message yaml-cpp gives (its ErrorMsg constants); empty
// when there are none better than the parser's.
std::string Explain(const std::string& msg, std::string_view line, int col) {
  if (msg == YAML::ErrorMsg::END_OF_SEQ) {
    if (StartsAListItem(line)) {
      return "this list item is not at the indentation of the items before it: a list item "
             "must start with '- ' at the column of its siblings";
    }
    return "this line is indented less than the keys of the list item above it: the keys of "
           "one item must line up with its first key (the one after '- ')";
  }
  if (msg == YAML::ErrorMsg::END_OF_MAP) {
    if (StartsAListItem(line)) {
      return "a list item where a key of the mapping above was expected: indent the list "
             "under the key it belongs to";
    }
    return "this line is not at the indentation of the keys before it: the keys of one "
           "mapping must start in the same column, and the text of a '|' or '>' block must be "
           "indented more than its key";
  }
  if (msg == YAML::ErrorMsg::MAP_VALUE) {
    const size_t colon = line.find(": ");
    const bool first_colon = colon != std::string_view::npos && static_cast<int>(colon) + 1 == col;
    if (first_colon) {
      return "this key is indented more than the key before it: the keys of one mapping must "
             "start in the same column";
    }
    return "': ' inside a plain value starts a mapping: put the value in quotes";
  }
  if (msg == YAML::ErrorMsg::BLOCK_ENTRY || msg == YAML::ErrorMsg::TAB_IN_INDENTATION) {
    if (IndentsWithATab(line)) return "a tab indents this line: YAML indents with spaces only";
    return "a list item ('- ') cannot start here: a list is the value of a key, indented "
           "under it, or a whole document";
  }
  if (msg == YAML::ErrorMsg::UNKNOWN_TOKEN) {
    const char c = col >= 1 && col <= static_cast<int>(line.size()) ? line[col - 1] : '?';
    return StrCat("'", std::string(1, c),
                  "' cannot start a plain value (YAML reserves it): put the value in quotes");
  }
  if (msg.rfind(YAML::ErrorMsg::INVALID_ESCAPE, 0) == 0) {
    const std::string c = msg.substr(std::string_view(YAML::ErrorMsg::INVALID_ESCAPE).size());
    return StrCat("'\\", c,
                  "' is not an escape of a double-quoted string: put the value in single quotes "
                  "('...'), where a backslash is a backslash, or write '\\\\",
                  c, "'");
  }
  if (msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
    return "'*' starts an alias, and no anchor ('&name') of that name is defined: put a value "
           "that starts with '*' in quotes";
  }
  if (msg == YAML::ErrorMsg::EOF_IN_SCALAR) {
    return "the file ends inside a quoted value: close the quote";
  }
  if (msg == YAML::ErrorMsg::DOC_IN_SCALAR) {
    return "'---' or '...' at the start of a line ends the document, here inside a value: "
           "indent the value's lines";
  }
  return "";
}

}  // namespace

YamlSyntaxError ExplainYamlError(const YAML::ParserException& e, std::string_view text) {
  YamlSyntaxError out{e.mark.line + 1, e.mark.column + 1, ""};
  const bool seq_flow = e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW;
  if (seq_flow || e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    const char open = seq_flow ? '[' : '{';
    const char close = seq_flow ? ']' : '}';
    int line = 0;
    int col = 0;
    if (e.mark.pos >= 0 && OpenBracket(text, static_cast<size_t>(e.mark.pos), open, &line, &col)) {
      out.line = line;
      out.col = col;
    }
    out.message =
        StrCat("this '", std::string(1, open), "' is never closed with '", std::string(1, close),
               "' (put a value that starts with '", std::string(1, open), "' in quotes)");
    return out;
  }
  out.message = Explain(e.msg, LineOf(text, e.mark.line), out.col);
  if (out.message.empty()) out.message = StrCat("YAML: ", e.msg);
  return out;
}

std::string YamlErrorLine(const std::string& file, const YAML::ParserException& e,
                          std::string_view text) {
  const YamlSyntaxError err = ExplainYamlError(e, text);
  return StrCat(file, ":", err.line, ":", err.col, ": ", err.message);
}

}  // namespace vigil
