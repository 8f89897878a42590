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
  // Go's %v: the shortest digits, an exponent from 1e6 and below 1e-4.
  EXPECT_EQ(Render("{{ $value }}", 1234567), "1.234567e+06");
  EXPECT_EQ(Render("{{ $value }}", 999999), "999999");
  EXPECT_EQ(Render("{{ $value }}", 1e6), "1e+06");
  EXPECT_EQ(Render("{{ $value }}", 0.0001), "0.0001");
  EXPECT_EQ(Render("{{ $value }}", 0.00001234), "1.234e-05");
  EXPECT_EQ(Render("{{ $value }}", 0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Render("{{ $value }}", -1.5e-300), "-1.5e-300");
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

TEST(TemplateTest, HumanizeDurationTakesSecondsAsPrometheus) {
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 90), "1m 30s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 1.5), "1.5s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 86400), "1d 0h 0m 0s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 93784), "1d 2h 3m 4s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 3600.9), "1h 0m 0s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", -90), "-1m 30s");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 0.25), "250ms");
  EXPECT_EQ(Render("{{ $value | humanizeDuration }}", 0.0000015), "1.5us");
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
            "label 'intnt' is not among this alert's labels (intent, alertname, severity); did "
            "you mean 'intent'?");

  ExprError dotted = ParseError("{{ .Labels.region }}", {"alertname", "severity"});
  EXPECT_EQ(dotted.pos, 3u);
  EXPECT_EQ(dotted.message,
            "label 'region' is not among this alert's labels (alertname, severity)");
}

}  // namespace
}  // namespace vigil
