// The /metrics text (runtime/prometheus_text.h): escaping of HELP text and
// label values, values that read back as the same double, and a page that
// Prometheus' own parser (promtool check metrics) accepts.
#include "runtime/prometheus_text.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <cmath>
#include <limits>
#include <string>

#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

TEST(PrometheusTextTest, HelpTextIsEscapedSoItStaysOneLine) {
  prometheus::Registry r;
  prometheus::BuildGauge()
      .Name("vigil_metric_n")
      .Help("count with a back\\slash and \"quotes\"\nand a second line")
      .Register(r)
      .Add({})
      .Set(3);
  EXPECT_EQ(PrometheusText(r.Collect()),
            "# HELP vigil_metric_n count with a back\\\\slash and \"quotes\"\\nand a second "
            "line\n"
            "# TYPE vigil_metric_n gauge\n"
            "vigil_metric_n 3\n");
}

TEST(PrometheusTextTest, LabelValuesEscapeBackslashQuoteAndLineBreak) {
  prometheus::Registry r;
  auto& f = prometheus::BuildCounter().Name("vigil_x_total").Help("x").Register(r);
  f.Add({{"intent", "a\"b\\c\nd\tü"}}).Increment(2);
  EXPECT_EQ(PrometheusText(r.Collect()),
            "# HELP vigil_x_total x\n"
            "# TYPE vigil_x_total counter\n"
            "vigil_x_total{intent=\"a\\\"b\\\\c\\nd\tü\"} 2\n");
}

TEST(PrometheusTextTest, ValuesReadBackAsTheSameDouble) {
  prometheus::Registry r;
  auto& f = prometheus::BuildGauge().Name("g").Help("g").Register(r);
  // 16 significant digits would write 0.01407795229784759, another double.
  f.Add({{"k", "a"}}).Set(0.014077952297847586);
  f.Add({{"k", "b"}}).Set(1767225780);
  f.Add({{"k", "c"}}).Set(std::numeric_limits<double>::infinity());
  f.Add({{"k", "d"}}).Set(-std::numeric_limits<double>::infinity());
  f.Add({{"k", "e"}}).Set(std::nan(""));
  f.Add({{"k", "f"}}).Set(1e300);
  f.Add({{"k", "g"}}).Set(-0.5);
  const std::string text = PrometheusText(r.Collect());
  EXPECT_NE(text.find("g{k=\"a\"} 0.014077952297847586\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"b\"} 1767225780\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"c\"} +Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"d\"} -Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"e\"} NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"f\"} 1e+300\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"g\"} -0.5\n"), std::string::npos) << text;
  EXPECT_EQ(std::stod("0.014077952297847586"), 0.014077952297847586);
}

TEST(PrometheusTextTest, HistogramsAndSummariesHaveTheirSeries) {
  prometheus::Registry r;
  prometheus::BuildHistogram()
      .Name("h_seconds")
      .Help("h")
      .Register(r)
      .Add({{"a", "1"}}, prometheus::Histogram::BucketBoundaries{0.5, 2})
      .Observe(1);
  prometheus::BuildSummary()
      .Name("s_seconds")
      .Help("s")
      .Register(r)
      .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}})
      .Observe(4);
  EXPECT_EQ(PrometheusText(r.Collect()),
            "# HELP h_seconds h\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{a=\"1\",le=\"0.5\"} 0\n"
            "h_seconds_bucket{a=\"1\",le=\"2\"} 1\n"
            "h_seconds_bucket{a=\"1\",le=\"+Inf\"} 1\n"
            "h_seconds_sum{a=\"1\"} 1\n"
            "h_seconds_count{a=\"1\"} 1\n"
            "# HELP s_seconds s\n"
            "# TYPE s_seconds summary\n"
            "s_seconds{quantile=\"0.5\"} 4\n"
            "s_seconds_sum 4\n"
            "s_seconds_count 1\n");
}

TEST(PrometheusTextTest, PrometheusParsesThePage) {
  if (Sh("command -v promtool >/dev/null").exit_code != 0) {
    GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  }
  prometheus::Registry r;
  auto& g = prometheus::BuildGauge()
                .Name("vigil_metric_share_ratio")
                .Help("ratio(intent == \"a\\\"b\" or intent == \"back\\\\slash\")\nover 1m")
                .Register(r);
  g.Add({{"intent", "new\nline \"q\" back\\slash"}}).Set(0.1);
  g.Add({{"intent", "x"}}).Set(std::numeric_limits<double>::infinity());
  const std::string page = TempPath("prom", "page.txt");
  {
    std::FILE* f = std::fopen(page.c_str(), "w");
    ASSERT_NE(f, nullptr);
    const std::string text = PrometheusText(r.Collect());
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const Result check = Sh("promtool check metrics < " + page + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  std::remove(page.c_str());
}

}  // namespace
}  // namespace vigil
