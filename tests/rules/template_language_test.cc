// The Go text/template language of annotation templates: control
// structures, variables, functions, templates from public Prometheus rule
// files, and every class of error with its position.
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "rules/template.h"

namespace vigil {
namespace {

const std::vector<std::string> kKnown = {"alertname", "severity", "instance", "job",
                                         "namespace", "pod",      "intent",   "dependency"};

std::string Render(std::string_view text, double value, const Labels& labels = {}) {
  ExprError err;
  std::optional<Template> t = Template::Parse(text, kKnown, &err);
  if (!t) {
    ADD_FAILURE() << text << ": " << err.pos << ": " << err.message;
    return "<error>";
  }
  return t->Render(value, labels);
}

// "pos: message" of the parse (or check) error.
std::string Error(std::string_view text) {
  ExprError err;
  std::optional<Template> t = Template::Parse(text, kKnown, &err);
  if (t) return "no error";
  return std::to_string(err.pos) + ": " + err.message;
}

const Labels kPod = {{"alertname", "KubePodCrashLooping"},
                     {"severity", "warning"},
                     {"namespace", "chat"},
                     {"pod", "bot-7d9f"},
                     {"instance", "10.0.3.7:9100"},
                     {"job", "node-exporter"}};

// Annotations as they appear in public rule files (kube-prometheus,
// node-mixin, awesome-prometheus-alerts), with the text Prometheus renders.
TEST(TemplateLanguageTest, PrometheusRuleFileTemplates) {
  struct Case {
    std::string_view text;
    double value;
    std::string_view want;
  };
  const Case cases[] = {
      {R"t(Pod {{ $labels.namespace }}/{{ $labels.pod }} is in waiting state (reason: "CrashLoopBackOff").)t",
       1, R"t(Pod chat/bot-7d9f is in waiting state (reason: "CrashLoopBackOff").)t"},
      {"{{ $value | humanizePercentage }} of the {{ $labels.job }} targets in {{ $labels.namespace "
       "}} "
       "namespace are down.",
       0.125, "12.5% of the node-exporter targets in chat namespace are down."},
      {R"t(Filesystem at {{ $labels.instance }} has only {{ printf "%.2f" $value }}% available space left.)t",
       4.56789, "Filesystem at 10.0.3.7:9100 has only 4.57% available space left."},
      {"Host out of memory (instance {{ $labels.instance }})\n  VALUE = {{ $value }}\n  LABELS = "
       "{{ $labels }}",
       7.5,
       "Host out of memory (instance 10.0.3.7:9100)\n  VALUE = 7.5\n  LABELS = "
       "map[alertname:KubePodCrashLooping instance:10.0.3.7:9100 job:node-exporter "
       "namespace:chat pod:bot-7d9f severity:warning]"},
      {"{{ .Labels.job }} has {{ .Value | humanize1024 }}B of memory in use",
       3.5 * 1024 * 1024 * 1024, "node-exporter has 3.5GiB of memory in use"},
      {"Prometheus has not ingested samples for {{ $value | humanizeDuration }}.", 754,
       "Prometheus has not ingested samples for 12m 34s."},
      {"certificate expires at {{ $value | humanizeTimestamp }}", 1798761600.5,
       "certificate expires at 2027-01-01 00:00:00.5 +0000 UTC"},
      {R"t({{ $labels.instance | reReplaceAll ":[0-9]+$" "" }} is down)t", 0, "10.0.3.7 is down"},
      {R"t({{ reReplaceAll "(.+):(?P<port>[0-9]+)" "host $1 port ${port}" $labels.instance }})t", 0,
       "host 10.0.3.7 port 9100"},
      {"{{ $labels.severity | toUpper }}: {{ $labels.job | title }} ({{ toLower \"NODE\" }})", 0,
       "WARNING: Node-Exporter (node)"},
      {"{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}ok{{ end }}", 0.7,
       "warning"},
      {"{{ if and (gt $value 0.5) (eq $labels.severity \"warning\" \"critical\") }}page{{ end }}",
       0.7, "page"},
      {"{{ if or (lt $value 0.0) (not (ne $labels.job \"node-exporter\")) }}yes{{ end }}", 1,
       "yes"},
      {"{{ range $k, $v := $labels }}{{ if ne $k \"alertname\" }}{{ $k }}={{ $v }} {{ end }}{{ end "
       "}}",
       0, "instance=10.0.3.7:9100 job=node-exporter namespace=chat pod=bot-7d9f severity=warning "},
      {"{{ range .Labels }}[{{ . }}]{{ end }}", 0,
       "[KubePodCrashLooping][10.0.3.7:9100][node-exporter][chat][bot-7d9f][warning]"},
      {"{{ with $labels.dependency }}dependency {{ . }}{{ else }}no dependency{{ end }}", 0,
       "no dependency"},
      {"{{ $v := $value | humanize }}{{ $labels.pod }}: {{ $v }} restarts", 2500,
       "bot-7d9f: 2.5k restarts"},
      {"{{- /* a comment */ -}}\n  {{ $value -}}  \n  {{- \" s\" }}", 3, "3 s"},
      {"{{ printf \"%s has %d pods, %5.1f%% %q %v %t\" $labels.job 3.0 12.34 \"x\" 0.5 true }}", 0,
       "node-exporter has 3 pods,  12.3% \"x\" 0.5 true"},
      {"{{ $value | printf \"%.0f\" | printf \"[%s]\" }}", 12.6, "[13]"},
      {"{{ index $labels \"namespace\" }} {{ len $labels.pod }} {{ print 1.0 2.0 \"a\" \"b\" }}", 0,
       "chat 8 1 2ab"},
      {"{{ match \"^10\\\\.\" $labels.instance }} {{ safeHtml \"<b>\" }} {{ html \"<b>\" }}", 0,
       "true <b> &lt;b&gt;"},
  };
  for (const Case& c : cases) EXPECT_EQ(Render(c.text, c.value, kPod), c.want) << c.text;
}

TEST(TemplateLanguageTest, DotIsTheRangeElementAndDollarTheAlert) {
  EXPECT_EQ(Render("{{ range $labels }}{{ $.Labels.pod }}:{{ . }};{{ end }}", 0,
                   {{"pod", "p"}, {"job", "j"}}),
            "p:j;p:p;");
  EXPECT_EQ(Render("{{ range $labels }}x{{ else }}empty{{ end }}", 0, {}), "empty");
  EXPECT_EQ(Render("{{ with $labels.pod }}{{ . }}/{{ $.Value }}{{ end }}", 4, {{"pod", "p"}}),
            "p/4");
}

TEST(TemplateLanguageTest, VariablesAreScopedToTheirBlock) {
  EXPECT_EQ(Render("{{ $x := 1.0 }}{{ if true }}{{ $x = 2.0 }}{{ $y := 3.0 }}{{ end }}{{ $x }}", 0),
            "2");
  EXPECT_EQ(Error("{{ if true }}{{ $y := 3.0 }}{{ end }}{{ $y }}"),
            "40: undefined variable \"$y\"");
}

TEST(TemplateLanguageTest, NumbersCompareWhateverTheirLiteralForm) {
  // Go would refuse `gt $value 0` (float64 against int); here it compares.
  EXPECT_EQ(Render("{{ if gt $value 0 }}up{{ end }}", 0.5), "up");
  EXPECT_EQ(Render("{{ if eq $value 2 }}two{{ end }}", 2), "two");
  EXPECT_EQ(Render("{{ if lt $labels.job \"z\" }}before{{ end }}", 0, {{"job", "a"}}), "before");
}

TEST(TemplateLanguageTest, ExternalLabelsAndUrl) {
  SetTemplateEnv({{{"env", "prod"}}, "https://vigil.example"});
  EXPECT_EQ(
      Render("{{ $externalLabels.env }} {{ $externalURL }}/alerts {{ .ExternalLabels.env }}", 0),
      "prod https://vigil.example/alerts prod");
  SetTemplateEnv({});
  EXPECT_EQ(Render("[{{ $externalLabels.env }}][{{ .ExternalURL }}]", 0), "[][]");
}

TEST(TemplateLanguageTest, GoPrintfMismatchesPrintAsGoDoes) {
  EXPECT_EQ(Render("{{ printf \"%s\" $value }}", 1.5), "%!s(float64=1.5)");
  EXPECT_EQ(Render("{{ printf \"%d %d\" $value }}", 1), "1 %!d(MISSING)");
  EXPECT_EQ(Render("{{ printf \"%.1f\" $value \"x\" }}", 1), "1.0%!(EXTRA string=x)");
  EXPECT_EQ(Render("{{ printf \"%-6s|%06.2f|%x\" \"ab\" 3.14159 \"hi\" }}", 0),
            "ab    |003.14|6869");
  // Widths and precisions past 10^6 are refused, not written out; %d of a
  // number past ±2^63 has no integer.
  EXPECT_EQ(Render("{{ printf \"%999999999d|%d\" $value 2 }}", 1), "%!(BADWIDTH)|2");
  EXPECT_EQ(Render("{{ printf \"%.999999999f.\" $value }}", 1), "%!(BADPREC).");
  EXPECT_EQ(Render("{{ printf \"%99999999999999999999999d\" $value }}", 1), "%!(BADWIDTH)");
  EXPECT_EQ(Render("{{ printf \"%d\" $value }}", 1e300), "%!d(float64=1e+300)");
  EXPECT_EQ(Render("{{ printf \"%d\" $value }}", 9.21e18), "9210000000000000000");
  EXPECT_EQ(Render("{{ printf \"%d\" $value }}", 0x1p63), "%!d(float64=9.223372036854776e+18)");
}

TEST(TemplateLanguageTest, HumanizeFamily) {
  EXPECT_EQ(Render("{{ humanize1024 $value }}", 1023), "1023");
  EXPECT_EQ(Render("{{ humanize1024 $value }}", 1024), "1ki");
  EXPECT_EQ(Render("{{ humanize1024 $value }}", 0.5), "0.5");
  EXPECT_EQ(Render("{{ humanize $value }}", 1.5e24), "1.5Y");
  EXPECT_EQ(Render("{{ humanize \"2048\" }}", 0), "2.048k");
  EXPECT_EQ(Render("{{ humanizeTimestamp $value }}", 0), "1970-01-01 00:00:00 +0000 UTC");
  EXPECT_EQ(Render("{{ humanizeTimestamp $value }}", std::numeric_limits<double>::quiet_NaN()),
            "NaN");
}

TEST(TemplateLanguageTest, ReReplaceAllFollowsGo) {
  const Labels l = {{"job", "banana"}};
  EXPECT_EQ(Render("{{ reReplaceAll \"a\" \"o\" $labels.job }}", 0, l), "bonono");
  EXPECT_EQ(Render("{{ reReplaceAll \"ana\" \"<$0>\" $labels.job }}", 0, l), "b<ana>na");
  // An empty match right after a match is skipped, as in Go.
  EXPECT_EQ(Render("{{ reReplaceAll \"a*\" \"-\" $labels.job }}", 0, l), "-b-n-n-");
  EXPECT_EQ(Render("{{ reReplaceAll \"(b)\" \"$$1 ${1}x $1x\" $labels.job }}", 0, l),
            "$1 bx anana");
}

TEST(TemplateLanguageTest, RunTimeErrorsRenderAsPrometheusDoes) {
  EXPECT_EQ(Render("{{ humanize $labels.job }}", 0, {{"job", "faq"}}),
            "<error expanding template: humanize: \"faq\" is not a number>");
}

TEST(TemplateLanguageTest, EveryErrorClassWithItsPosition) {
  struct Case {
    std::string_view text;
    std::string_view want;
  };
  const Case cases[] = {
      {"abc {{ $value", "4: unclosed action: '{{' without '}}'"},
      {"{{ }}", "0: empty action: '{{ }}' holds nothing"},
      {"{{ $value | humanise }}", "12: unknown function 'humanise'; did you mean 'humanize'?"},
      {"{{ if gt $value 0.5 }}x{{ end }} {{ toupper $labels.job }}",
       "36: unknown function 'toupper'; did you mean 'toUpper'?"},
      {"{{ query \"up\" | first | value }}",
       "3: function 'query' needs Prometheus' query engine or wall clock, which annotation "
       "templates here do not have"},
      {"x {{ $vlaue }}", "5: undefined variable \"$vlaue\"; did you mean '$value'?"},
      {"{{ $labels.intnt }}",
       "3: label 'intnt' is not among this alert's labels (alertname, severity, instance, job, "
       "namespace, pod, intent, dependency); did you mean 'intent'?"},
      {"{{ .Valeu }}", "3: unknown field '.Valeu'; did you mean '.Value'?"},
      {"{{ .Value.x }}", "3: .Value has no field 'x'"},
      {"a {{ end }}", "2: unexpected {{end}}"},
      {"{{ else }}", "0: unexpected {{else}}"},
      {"{{ if gt $value 1.0 }}high", "0: {{if}} without a matching {{end}}"},
      {"{{ if true }}a{{ else }}b{{ else }}c{{ end }}", "25: a second {{else}} in the same {{if}}"},
      {"{{ if }}x{{ end }}", "3: missing value for if"},
      {"{{ end x }}", "0: unexpected {{end}}"},
      {"{{ humanize }}", "3: wrong number of arguments for humanize: want 1, got 0"},
      {"{{ $value | reReplaceAll \"a\" }}",
       "12: wrong number of arguments for reReplaceAll: want 3, got 2"},
      {"{{ reReplaceAll \"(\" \"\" $labels.job }}",
       "16: reReplaceAll: bad regular expression: missing ): ("},
      {"{{ 1.2.3 }}", "3: bad number syntax: '1.2.3'"},
      {"{{ \"abc }}", "3: unterminated string"},
      {"{{ \"a\\qb\" }}", "5: unknown escape sequence '\\q'"},
      {"{{ $value \"x\" }}",
       "10: a value cannot take arguments; only a function can (e.g. printf "
       "\"%.1f\" $value)"},
      {"{{ $value | $labels.job }}", "12: only a function can follow '|'"},
      {"{{ $value | }}", "10: missing command after '|'"},
      {"{{ (humanize $value }}", "3: unclosed '('"},
      {"{{ define \"x\" }}{{ end }}", "3: 'define' is not supported in annotation templates"},
      {"{{ range $value }}x{{ end }}", "9: range can't iterate over float64"},
      // Found by executing every branch, although $value rarely gets there.
      {"{{ if gt $value 1e9 }}{{ toUpper $value }}{{ end }}",
       "25: toUpper: wants a string, got float64"},
      {"{{ if gt $labels.job 5.0 }}x{{ end }}",
       "6: gt: incompatible types for comparison: string and float64"},
      {"{{ 'x' }}", "3: character constants ('x') are not supported; use a string \"x\""},
      {"{{ /* open", "3: unclosed comment"},
  };
  for (const Case& c : cases) EXPECT_EQ(Error(c.text), c.want) << c.text;
}

}  // namespace
}  // namespace vigil
