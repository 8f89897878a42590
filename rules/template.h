// rules/template.h
//
// Annotation templates: the Go text/template subset that Prometheus rule
// files use, so their annotations can be pasted as they are.
//
//   {{ $value }} {{ .Value }}              the alert's value (Go's %v: 0.25, 1.5e+06)
//   {{ $labels.intent }} {{ .Labels.x }}   a label of the alert
//   {{ $externalLabels.env }} {{ $externalURL }}
//                                          the job's notify `labels:` and `external_url:`
//   {{ $value | humanizePercentage }}      pipelines: the left side is the last argument
//   {{ if gt $value 0.5 }}…{{ else if … }}…{{ else }}…{{ end }}
//   {{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}   (keys sorted)
//   {{ with $labels.dependency }}…{{ end }}, {{ $x := … }}, {{- trims -}}, {{/* comments */}}
//
// Functions: eq ne lt le gt ge and or not len index print printf println
// html urlquery; Prometheus' humanize humanize1024 humanizeDuration
// (seconds) humanizePercentage humanizeTimestamp (seconds since the epoch)
// title toUpper toLower match reReplaceAll (Go/RE2 regular expressions,
// $1 and ${name} in the replacement) safeHtml. Two conveniences over Go:
// numbers compare whatever their literal form (`gt $value 0` works), and
// printf's %d prints a number rounded.
//
// A template is parsed when the rule file loads: an unknown function,
// variable, field or label, a misplaced else/end or a bad literal is a
// `file:line:col:` error at its position. It is then executed against
// every branch with the labels the alert can carry (Check), so a type
// error in a branch that rarely runs is found before it pages. At run
// time an error renders as Prometheus does: `<error expanding template: …>`.
//
// Example:
//   ExprError err;
//   auto t = Template::Parse("{{ $value | humanizePercentage }} on {{ $labels.intent }}",
//                            {"intent"}, &err);
//   t->Render(0.0712, {{"intent", "faq"}});  // "7.12% on faq"
#ifndef VIGIL_RULES_TEMPLATE_H_
#define VIGIL_RULES_TEMPLATE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/expr_parser.h"

namespace vigil {

using Labels = std::map<std::string, std::string>;

namespace tmpl {
struct Node;
}  // namespace tmpl

// What `$externalLabels` and `$externalURL` hold: the notify section's
// `labels:` and `external_url:`. Set once when a job starts, before any
// alert renders; empty otherwise (in `vigil check` and `vigil test`).
struct TemplateEnv {
  Labels external_labels;
  std::string external_url;
};
void SetTemplateEnv(TemplateEnv env);
const TemplateEnv& GetTemplateEnv();

class Template {
 public:
  // `known_labels`: the labels an alert using this template can carry. On
  // error, `err->pos` is the byte offset in `text`.
  static std::optional<Template> Parse(std::string_view text,
                                       const std::vector<std::string>& known_labels,
                                       ExprError* err);
  // The text for an alert; a run-time error renders as
  // "<error expanding template: …>".
  std::string Render(double value, const Labels& labels) const;
  // Executes every branch once (range bodies once, with sample labels);
  // the first error, or nullopt.
  std::optional<ExprError> Check() const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<std::string> known_labels_;
  std::shared_ptr<const std::vector<tmpl::Node>> root_;
};

}  // namespace vigil

#endif  // VIGIL_RULES_TEMPLATE_H_
