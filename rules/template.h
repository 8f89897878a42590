// rules/template.h
//
// Annotation templates, a small, checked subset of Prometheus' Go templates:
//   {{ $value }}                       the alert's value
//   {{ $labels.intent }}               a label of the alerting group
//   {{ $value | humanize }}            12.3k, 4.56M, 500m (0.5)
//   {{ $value | humanizePercentage }}  0.0712 -> 7.12%
//   {{ $value | humanizeDuration }}    milliseconds -> 1m30s
//   {{ $value | printf "%.1f" }}       one printf verb for a number
// A template is compiled when the rule file loads and *executed* against the
// labels the alert can carry, so a misspelt label or function is a
// `file:line:col:` error in `vigil check`, never a broken page.
//
// Example:
//   auto t = Template::Parse("p99 {{ $value | printf \"%.0f\" }} ms on {{ $labels.intent }}",
//                            {"intent"});
//   t->Render(12034.4, {{"intent", "faq"}});  // "p99 12034 ms on faq"
#ifndef VIGIL_RULES_TEMPLATE_H_
#define VIGIL_RULES_TEMPLATE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/expr_parser.h"

namespace vigil {

using Labels = std::map<std::string, std::string>;

class Template {
 public:
  // `known_labels`: the labels an alert using this template can carry. On
  // error, `err->pos` is the byte offset in `text`.
  static std::optional<Template> Parse(std::string_view text,
                                       const std::vector<std::string>& known_labels,
                                       ExprError* err);
  std::string Render(double value, const Labels& labels) const;
  const std::string& source() const { return source_; }

 private:
  enum class Func { kNone, kHumanize, kHumanizePercentage, kHumanizeDuration, kPrintf };
  struct Part {
    std::string literal;  // text before the action
    bool has_action = false;
    bool is_value = false;  // else a label
    std::string label;
    Func func = Func::kNone;
    std::string format;    // for printf
    bool integer = false;  // printf %d: the value is rounded and passed as a long long
  };
  std::string source_;
  std::vector<Part> parts_;
};

}  // namespace vigil

#endif  // VIGIL_RULES_TEMPLATE_H_
