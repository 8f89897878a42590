// rules/yaml_errors.h
//
// YAML syntax errors in words. yaml-cpp reports "end of sequence not found"
// or "illegal map value"; an SRE editing a rule file needs to know which
// line is wrong and what to change. ExplainYamlError turns the parser's
// message and position into a sentence with a hint, and for an unclosed
// '[' or '{' points at the bracket that is never closed.
//
// Example:
//   try {
//     YAML::Load(text);
//   } catch (const YAML::ParserException& e) {
//     const YamlSyntaxError err = ExplainYamlError(e, text);
//     // "rules.yaml:4:4: this list item is not at the indentation of ..."
//     Report(err.line, err.col, err.message);
//   }
#ifndef VIGIL_RULES_YAML_ERRORS_H_
#define VIGIL_RULES_YAML_ERRORS_H_

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

struct YamlSyntaxError {
  int line = 0;  // 1-based
  int col = 0;   // 1-based
  std::string message;
};

// `text`: the whole document the parser read.
YamlSyntaxError ExplainYamlError(const YAML::ParserException& e, std::string_view text);

// The same as one line: "FILE:LINE:COL: message".
std::string YamlErrorLine(const std::string& file, const YAML::ParserException& e,
                          std::string_view text);

// YAML 1.2 reads a lone CR (old Mac line ends) as a line break, as LF and
// CRLF; yaml-cpp does not, and would read such a file as one line. Makes
// each lone CR an LF, byte for byte, so positions stay where they were.
void NormalizeLineBreaks(std::string* text);

// Loads a file meant to hold one YAML document. YAML::Load reads the first
// document only, so the rules after a `---` line would be dropped without
// a word: when a second document with content follows, *second says where
// its `---` is (an empty one, as a trailing `---` makes, is ignored).
// Throws YAML::ParserException as YAML::Load does.
YAML::Node LoadOneDocument(const std::string& text, std::optional<YamlSyntaxError>* second);

// The same, for callers that report errors as one line: "FILE:LINE:COL: ...".
YAML::Node LoadOneDocument(const std::string& file, const std::string& text, std::string* second);

// A quoted value that does not close on its line and runs on over lines
// that look like keys ("    value: count()"): most likely its closing
// quote is missing, and the keys it swallowed are why the file has other
// errors (a field "missing", a syntax error far below). Looked for only
// when a file has errors; a quoted value meant to span lines rarely holds
// "key: " at the start of a line.
struct RunawayQuote {
  int line = 0;  // the opening quote, 1-based
  int col = 0;
  int key_line = 0;    // the first swallowed key-like line
  int close_line = 0;  // where it closes; 0: it never does
  std::string message;
};
std::optional<RunawayQuote> FindRunawayQuote(std::string_view text);

}  // namespace vigil

#endif  // VIGIL_RULES_YAML_ERRORS_H_
