#include "rules/template.h"

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace vigil {
namespace {

const std::vector<std::string> kKnown = {"intent", "alertname", "severity"};

// Parses with the known labels above and renders; a parse error fails the
// test and renders as "<error>".
std::string Render(std::string_view text, double value, const Labels& labels = {}) {
  ExprError err;
  std::optional<Template> t = Template::Parse(text, kKnown, &err);
  if (!t) {
    ADD_FAILURE() << text << ": " << err.pos << ": " << err.message;
    return "<error>";
  }
  EXPECT_EQ(t->source(), text);
  return t->Render(value, labels);
}

ExprError ParseError(std::string_view text, const std::vector<std::string>& known = kKnown) {
  ExprError err;
  std::optional<Template> t = Template::Parse(text, known, &err);
  EXPECT_FALSE(t.has_value()) << text;
  return err;
}

TEST(TemplateTest, PlainTextIsKept) {
  EXPECT_EQ(Render("the Bedrock circuit breaker is open", 1),
            "the Bedrock circuit breaker is open");
  EXPECT_EQ(Render("", 1), "");
  EXPECT_EQ(Render("{ braces } and } alone", 1), "{ braces } and } alone");
}

TEST(TemplateTest, Value) {
  EXPECT_EQ(Render("{{ $value }}", 12.5), "12.5");
  EXPECT_EQ(Render("{{ $value }}", 12), "12");
  EXPECT_EQ(Render("{{$value}}", 0.1), "0.1");
  EXPECT_EQ(Render("{{ .Value }}", -3), "-3");
  EXPECT_EQ(Render("v={{ $value }} ms", 1e21), "v=1e+21 ms");
  EXPECT_EQ(Render("{{ $value }}", std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(Render("{{ $value }}", std::numeric_limits<double>::infinity()), "+Inf");
}

TEST(TemplateTest, Labels) {
  const Labels labels = {{"intent", "faq"}, {"alertname", "EscalationHigh"}};
  EXPECT_EQ(Render("{{ $labels.intent }}", 0, labels), "faq");
  EXPECT_EQ(Render("{{ .Labels.alertname }}/{{ $labels.intent }}", 0, labels),
            "EscalationHigh/faq");
  // A known label the group does not carry renders empty.
  EXPECT_EQ(Render("[{{ $labels.severity }}]", 0, labels), "[]");
}

TEST(TemplateTest, Humanize) {
  EXPECT_EQ(Render("{{ $value | humanize }}", 1234), "1.234k");
  EXPECT_EQ(Render("{{ $value | humanize }}", 1234567), "1.235M");
  EXPECT_EQ(Render("{{ $value | humanize }}", 4.56e9), "4.56G");
  EXPECT_EQ(Render("{{ $value | humanize }}", 12), "12");
  EXPECT_EQ(Render("{{ $value | humanize }}", 999.9), "999.9");
  EXPECT_EQ(Render("{{ $value | humanize }}", -2500), "-2.5k");
  // Below one, SI prefixes for the small (as Prometheus does).
  EXPECT_EQ(Render("{{ $value | humanize }}", 0.5), "500m");
  EXPECT_EQ(Render("{{ $value | humanize }}", 0.0012), "1.2m");
  EXPECT_EQ(Render("{{ $value | humanize }}", 0), "0");
}

TEST(TemplateTest, HumanizePercentage) {
  EXPECT_EQ(Render("{{ $value | humanizePercentage }}", 0.0712), "7.12%");
  EXPECT_EQ(Render("{{ $value | humanizePercentage }}", 0.5), "50%");
  EXPECT_EQ(Render("{{ $value | humanizePercentage }}", 1), "100%");
  EXPECT_EQ(Render("{{ $value | humanizePercentage }}", 0.123456), "12.35%");
  EXPECT_EQ(Render("{{ $value | humanizePercentage }}", 0), "0%");
}

TEST(TemplateTest, HumanizeDuration) {
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 90000), "1m30s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 1500.4), "1s500ms");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 86400000), "1d");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 0), "0s");
}

TEST(TemplateTest, Printf) {
  EXPECT_EQ(Render("{{ $value | printf \"%.2f\" }}", 3.14159), "3.14");
  EXPECT_EQ(Render("{{ $value | printf \"%.0f\" }} ms", 12034.4), "12034 ms");
  EXPECT_EQ(Render("{{ $value | printf \"%5.1f%%\" }}", 12.34), " 12.3%");
  EXPECT_EQ(Render("{{ $value | printf \"%.3e\" }}", 1234.6), "1.235e+03");
  EXPECT_EQ(Render("{{ $value | printf \"%g\" }}", 0.25), "0.25");
  // %d prints the value rounded to an integer.
  EXPECT_EQ(Render("{{ $value | printf \"%d\" }}", 41.6), "42");
  EXPECT_EQ(Render("{{ $value | printf \"%d ms\" }}", 7), "7 ms");
  // Letters around the verb are literal text, not part of the format.
  EXPECT_EQ(Render("{{ $value | printf \"%d errors\" }}", 42), "42 errors");
  EXPECT_EQ(Render("{{ $value | printf \"%d days\" }}", 3), "3 days");
  EXPECT_EQ(Render("{{ $value | printf \"%.1f lld\" }}", 2), "2.0 lld");
}

TEST(TemplateTest, HeaderExample) {
  ExprError err;
  auto t = Template::Parse("p99 {{ $value | printf \"%.0f\" }} ms on {{ $labels.intent }}",
                           {"intent"}, &err);
  ASSERT_TRUE(t.has_value()) << err.message;
  EXPECT_EQ(t->Render(12034.4, {{"intent", "faq"}}), "p99 12034 ms on faq");
}

TEST(TemplateTest, SeveralActions) {
  EXPECT_EQ(Render("{{ $labels.intent }}: {{ $value | humanizePercentage }} (limit 5%), "
                   "{{ $value }}",
                   0.0712, {{"intent", "faq"}}),
            "faq: 7.12% (limit 5%), 0.0712");
}

TEST(TemplateTest, UnknownLabelListsKnownLabels) {
  ExprError err = ParseError("x {{ $labels.intnt }}");
  EXPECT_EQ(err.pos, 5u);
  EXPECT_EQ(err.message,
            "label 'intnt' is not among this alert's labels (intent, alertname, severity)");

  ExprError dotted = ParseError("{{ .Labels.region }}", {"alertname", "severity"});
  EXPECT_EQ(dotted.pos, 3u);
  EXPECT_EQ(dotted.message,
            "label 'region' is not among this alert's labels (alertname, severity)");
}

TEST(TemplateTest, UnknownVariable) {
  ExprError err = ParseError("ok {{ value }}");
  EXPECT_EQ(err.pos, 6u);
  EXPECT_EQ(err.message, "unknown template variable 'value'; use $value or $labels.<name>");
  EXPECT_EQ(ParseError("{{ }}").message,
            "unknown template variable ''; use $value or $labels.<name>");
}

TEST(TemplateTest, UnknownFunction) {
  ExprError err = ParseError("{{ $value }} and {{ $value | humanise }}");
  EXPECT_EQ(err.pos, 20u);
  EXPECT_EQ(err.message,
            "unknown template function 'humanise'; known: humanize, humanizePercentage, "
            "humanizeDuration, printf");
  ExprError on_label = ParseError("{{ $labels.intent | humanize }}");
  EXPECT_EQ(on_label.pos, 3u);
  EXPECT_EQ(on_label.message, "functions apply to $value only");
}

TEST(TemplateTest, UnterminatedAction) {
  ExprError err = ParseError("abc {{ $value");
  EXPECT_EQ(err.pos, 4u);
  EXPECT_EQ(err.message, "unterminated '{{' in template");
  EXPECT_EQ(ParseError("{{ $value }} then {{ $value }").pos, 18u);
  EXPECT_EQ(ParseError("{{ $value }").pos, 0u);
}

TEST(TemplateTest, PrintfValidation) {
  const std::string kMessage =
      "printf needs one quoted format with a single number verb, e.g. printf \"%.2f\"";
  for (std::string_view bad : {
           "{{ $value | printf \"%s\" }}",
           "{{ $value | printf \"%.2f %.2f\" }}",
           "{{ $value | printf %.2f }}",
           "{{ $value | printf \"%\" }}",
           "{{ $value | printf \"no verb\" }}",
           "{{ $value | printf \"%%\" }}",
           "{{ $value | printf \"%x\" }}",
           "{{ $value | printf \"%n\" }}",
           "{{ $value | printf \"%.2f }}",
           "{{ $value | printf }}",
       }) {
    ExprError err = ParseError(bad);
    EXPECT_EQ(err.pos, 3u) << bad;
    EXPECT_EQ(err.message, kMessage) << bad;
  }
}

}  // namespace
}  // namespace vigil
