// libFuzzer target: the rule-expression parser over arbitrary text (see
// scripts/fuzz.sh). Beyond "no crash, no sanitizer report": an error
// points inside the source and says something, and a parsed expression
// printed back (ExprToString, what reloads compare) parses again to the
// same text, unless the printed parentheses take it past the nesting limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rules/expr_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  vigil::ExprParse r = vigil::ParseExpr(source);
  if (!r.ok()) {
    if (r.error.pos > size || r.error.message.empty()) std::abort();
    return 0;
  }
  const std::string printed = vigil::ExprToString(*r.node);
  vigil::ExprParse again = vigil::ParseExpr(printed);
  if (!again.ok()) {
    // Printing parenthesises every operation, which can take an expression
    // near the nesting limit over it; nothing else may fail.
    if (again.error.message.find("nests deeper than") == std::string::npos) std::abort();
    return 0;
  }
  if (vigil::ExprToString(*again.node) != printed) std::abort();
  return 0;
}
