// rules/template_lexer.h
//
// The lexer of annotation templates (internal to rules/template_*.cc): a
// template's text into pieces of text and the tokens of its {{ actions }},
// with Go's trim markers ({{- -}}) applied and comments dropped.
//
// Example:
//   std::vector<tmpl::Item> items;
//   ExprError err;
//   tmpl::LexTemplate("a {{ $value | humanize }}", &items, &err);
//   // items[0].text == "a ", items[1].tokens: $value, |, humanize
#ifndef VIGIL_RULES_TEMPLATE_LEXER_H_
#define VIGIL_RULES_TEMPLATE_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

#include "rules/template_ast.h"

namespace vigil::tmpl {

enum class Tok {
  kIdent,
  kVar,
  kField,
  kLiteral,
  kPipe,
  kLParen,
  kRParen,
  kDeclare,
  kAssign,
  kComma
};

struct Token {
  Tok kind;
  size_t pos;
  std::string name;                 // kIdent, kVar (without '$')
  std::vector<std::string> fields;  // kVar, kField
  TValue literal;                   // kLiteral
};

// One piece of the template: text, or an action's tokens.
struct Item {
  bool action = false;
  size_t pos = 0;
  std::string text;
  std::vector<Token> tokens;
};

// Splits `text` into items; false (and `err` set) on a lexical error.
bool LexTemplate(std::string_view text, std::vector<Item>* items, ExprError* err);

}  // namespace vigil::tmpl

#endif  // VIGIL_RULES_TEMPLATE_LEXER_H_
