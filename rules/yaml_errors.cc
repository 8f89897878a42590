#include "rules/yaml_errors.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "yaml-cpp/depthguard.h"

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
  if (dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr) {
    out.message =
        "YAML nested too deeply here (the parser stops at a few hundred levels of "
        "brackets or indentation; no rule needs more than a few)";
    return out;
  }
  out.message = Explain(e.msg, LineOf(text, e.mark.line), out.col);
  if (out.message.empty()) out.message = StrCat("YAML: ", e.msg);
  return out;
}

namespace {

// Whether `line` starts like a mapping key ("  value: ...", "  - alert: A").
bool LooksLikeAKey(std::string_view line) {
  size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos) return false;
  if (line.substr(i, 2) == "- ") i = line.find_first_not_of(' ', i + 2);
  const size_t start = i;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' ||
                             line[i] == '-' || line[i] == '.')) {
    ++i;
  }
  return i > start && i < line.size() && line[i] == ':' &&
         (i + 1 == line.size() || line[i + 1] == ' ');
}

// The offset just past the quote that closes the one at `open`; npos when
// none does. In '...' a quote is doubled to escape it; in "..." a
// backslash escapes the next character.
size_t CloseOf(std::string_view text, size_t open) {
  const char q = text[open];
  for (size_t i = open + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == q) {
      if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<RunawayQuote> FindRunawayQuote(std::string_view text) {
  std::vector<size_t> starts = {0};  // of each line
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts.push_back(i + 1);
  }
  auto line_at = [&](size_t offset) {
    return static_cast<int>(std::upper_bound(starts.begin(), starts.end(), offset) -
                            starts.begin());  // 1-based
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t eol = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, eol - pos);
    // A value that starts with a quote: after "key: " or "- ".
    size_t v = std::string_view::npos;
    const size_t first = line.find_first_not_of(' ');
    if (first != std::string_view::npos && line[first] != '#') {
      size_t after = first;
      if (line.substr(first, 2) == "- ") after = line.find_first_not_of(' ', first + 2);
      const size_t colon = line.find(": ", after == std::string_view::npos ? first : after);
      const size_t value =
          colon == std::string_view::npos ? after : line.find_first_not_of(' ', colon + 2);
      if (value != std::string_view::npos && value < line.size() &&
          (line[value] == '"' || line[value] == '\'')) {
        v = value;
      }
    }
    if (v == std::string_view::npos) {
      pos = eol + 1;
      continue;
    }
    const size_t open = pos + v;
    const size_t close = CloseOf(text, open);
    if (close != std::string_view::npos && close <= eol) {
      pos = eol + 1;
      continue;
    }
    // It runs on: over a line that looks like a key?
    const size_t end = close == std::string_view::npos ? text.size() : close;
    for (size_t at = eol + 1; at < end;) {
      const size_t next = std::min(text.find('\n', at), text.size());
      if (LooksLikeAKey(text.substr(at, std::min(next, end) - at))) {
        RunawayQuote r;
        r.line = line_at(open);
        r.col = static_cast<int>(v) + 1;
        r.key_line = line_at(at);
        r.close_line = close == std::string_view::npos ? 0 : line_at(close - 1);
        r.message = StrCat(
            "this quoted value is not closed on its line and runs on ",
            r.close_line ? StrCat("to line ", r.close_line) : std::string("to the end of the file"),
            ", over line ", r.key_line, " that looks like a key: is its closing ",
            text[open] == '"' ? "'\"'" : "\"'\"", " missing?");
        return r;
      }
      at = next + 1;
    }
    pos = end >= text.size() ? text.size() : end;
  }
  return std::nullopt;
}

void NormalizeLineBreaks(std::string* text) {
  for (size_t i = text->find('\r'); i != std::string::npos; i = text->find('\r', i + 1)) {
    if (i + 1 == text->size() || (*text)[i + 1] != '\n') (*text)[i] = '\n';
  }
}

YAML::Node LoadOneDocument(const std::string& text, std::optional<YamlSyntaxError>* second) {
  std::vector<YAML::Node> docs = YAML::LoadAll(text);
  second->reset();
  if (docs.empty()) return YAML::Node();
  for (size_t i = 1; i < docs.size(); ++i) {
    if (docs[i].IsNull()) continue;
    // The `---` line that starts it: the last one before its first node.
    const size_t at =
        std::min<size_t>(static_cast<size_t>(std::max(docs[i].Mark().pos, 0)), text.size());
    size_t start = std::string::npos;
    for (size_t p = 0; p < at;) {
      const size_t eol = text.find('\n', p);
      const size_t end = eol == std::string::npos ? text.size() : eol;
      if (text.compare(p, 3, "---") == 0) start = p;
      if (eol == std::string::npos) break;
      p = end + 1;
    }
    YamlSyntaxError err;
    if (start == std::string::npos) {  // no '---' (a document after '...'): its first node
      err.line = docs[i].Mark().line + 1;
      err.col = docs[i].Mark().column + 1;
    } else {
      err.line = 1 + static_cast<int>(std::count(
                         text.begin(), text.begin() + static_cast<std::ptrdiff_t>(start), '\n'));
      err.col = 1;
    }
    err.message =
        start != std::string::npos
            ? "a second YAML document starts here; vigil reads one document per file, so "
              "everything below would be ignored: remove this '---' line, or move what follows "
              "into a file of its own"
            : "this comes after the end of the file's top-level value (a '{...}' mapping, a "
              "list or a '...' line before it ends it), so it would be ignored: write the top "
              "level as 'key: value' lines";
    *second = std::move(err);
    break;
  }
  return docs[0];
}

YAML::Node LoadOneDocument(const std::string& file, const std::string& text, std::string* second) {
  std::optional<YamlSyntaxError> err;
  YAML::Node root = LoadOneDocument(text, &err);
  second->clear();
  if (err) *second = StrCat(file, ":", err->line, ":", err->col, ": ", err->message);
  return root;
}

std::string YamlErrorLine(const std::string& file, const YAML::ParserException& e,
                          std::string_view text) {
  const YamlSyntaxError err = ExplainYamlError(e, text);
  return StrCat(file, ":", err.line, ":", err.col, ": ", err.message);
}

}  // namespace vigil
