// The production case of a poisoned quantile, end to end with the binary:
// a valid `latency_ms: 1e13` turn in every minute of a generated stream,
// read with rules that put no bound on the field. Every minute's p50, p95
// and p99 must stay within the sketch's relative accuracy of the exact rank
// value (computed here from the file, poison included), and the P1 alert on
// p99 must not fire: before, one such record per minute pushed all three
// quantiles to about 15.7 s and seven of them paged.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

const char* kRules = R"(metrics:
  - metric: p50
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.5, latency_ms)
  - metric: p95
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.95, latency_ms)
  - metric: p99
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
alerts:
  - alert: LatencyP99Critical
    severity: P1
    expr: p99 > 10000
    for: 5m
)";

TEST(PoisonE2eTest, OneHugeLatencyPerMinuteMovesNoQuantile) {
  const std::string dir = TempPath("poison_", "");
  const std::string events = dir + "events.ndjson", poisoned = dir + "poisoned.ndjson",
                    rules = dir + "rules.yaml", results = dir + "results.ndjson";
  ASSERT_EQ(Sh(kVigil + " gen --rate 10 --duration 30m --seed 8 --out " + events).exit_code, 0);
  {
    std::ofstream out(rules);
    out << kRules;
  }
  // Exact latencies per minute, the poison included; one 1e13 turn placed
  // after the 30th turn of each minute.
  const std::regex message(
      R"re(^\{"ts":"(([^"]{16})[^"]*)","type":"message".*"latency_ms":([0-9.eE+-]+))re");
  std::map<std::string, std::vector<double>> by_minute;  // "2026-01-01T00:05" -> values
  {
    std::ofstream out(poisoned);
    std::string last_minute;
    for (const std::string& line : Lines(ReadFile(events))) {
      std::smatch m;
      if (std::regex_search(line, m, message)) {
        const std::string minute = m[2];
        if (minute != last_minute && !by_minute.contains(minute)) {
          last_minute = minute;
        } else if (minute == last_minute && by_minute[minute].size() == 30) {
          const std::string ts = m[1];  // in order: nothing after it is late
          out << R"({"ts":")" << ts
              << R"(","type":"message","session_id":"poison","turn_id":"poison-1","intent":"faq",)"
              << R"("latency_ms":1e13,"llm_timeout":false,"cache_hit":true})"
              << "\n";
          by_minute[minute].push_back(1e13);
        }
        by_minute[minute].push_back(std::stod(m[3]));
      }
      out << line << "\n";
    }
  }
  Result r = Sh(kVigil + " run --rules " + rules + " --input " + poisoned + " --results " +
                results + " --output json --http off --no-progress 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("\"state\":\"firing\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\"state\":\"pending\""), std::string::npos) << r.out;

  const std::regex result(
      R"re("metric":"(p50|p95|p99)","start":"([^"]{16})[^"]*".*"value":([0-9.eE+-]+))re");
  const std::map<std::string, double> q = {{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}};
  int checked = 0, poisoned_minutes = 0;
  for (const std::string& line : Lines(ReadFile(results))) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, result)) << line;
    std::vector<double> values = by_minute[m[2]];
    ASSERT_FALSE(values.empty()) << line;
    poisoned_minutes += std::count(values.begin(), values.end(), 1e13) > 0 && m[1] == "p50";
    std::sort(values.begin(), values.end());
    const double exact = values[static_cast<size_t>(
        std::floor(q.at(m[1]) * static_cast<double>(values.size() - 1)))];
    ASSERT_LT(exact, 1e13) << line;  // the poison occupies the top rank only
    EXPECT_LE(std::abs(std::stod(m[3]) - exact), 0.005 * exact + 1e-9)
        << line << " exact " << exact;
    ++checked;
  }
  EXPECT_EQ(checked, 3 * 31);  // 30 minutes, and the jitter before the first
  EXPECT_EQ(poisoned_minutes, 30);
}

}  // namespace
}  // namespace vigil
