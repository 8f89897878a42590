// HistoryResult and the /api/query parameters on small hand-made windows:
// the range is on the window's start, labels must all match, a later
// window of a series and start replaces an earlier one, the step keeps the
// last window to end in each interval, and text, JSON and CSV exactly.
#include "runtime/history_query.h"

#include <cmath>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kT0 = 1772323200000;  // 2026-03-01T00:00:00Z

StoredWindow W(std::vector<std::pair<std::string, std::string>> labels, TimeMs start, double value,
               const std::string& metric = "m") {
  StoredWindow w;
  w.metric = metric;
  w.labels = std::move(labels);
  w.start = start;
  w.end = start + kHour;
  w.value = value;
  return w;
}

TEST(HistoryQueryTest, RangeLabelsAndReplacements) {
  HistoryQuery q;
  q.metric = "m";
  q.labels = {{"intent", "faq"}};
  q.from = kT0 + kHour;
  q.to = kT0 + 3 * kHour;
  HistoryResult r(q);
  r.Add(W({{"intent", "faq"}, {"model", "a"}}, kT0, 1));              // before the range
  r.Add(W({{"model", "a"}, {"intent", "faq"}}, kT0 + kHour, 2));      // in
  r.Add(W({{"intent", "faq"}, {"model", "a"}}, kT0 + kHour, 2.5));    // replaces it
  r.Add(W({{"intent", "faq"}, {"model", "a"}}, kT0 + 2 * kHour, 3));  // in
  r.Add(W({{"intent", "faq"}, {"model", "a"}}, kT0 + 3 * kHour, 4));  // at `to`: out
  r.Add(W({{"intent", "billing"}}, kT0 + kHour, 5));                  // other labels
  r.Add(W({{"intent", "faq"}}, kT0 + kHour, 6, "other"));             // other metric
  StoredWindow partial = W({{"intent", "faq"}}, kT0 + 2 * kHour, std::nan(""));
  partial.partial = true;
  r.Add(partial);
  EXPECT_EQ(r.windows(), 3u);
  EXPECT_EQ(r.ToText(),
            "m{intent=\"faq\"}\n"
            "  2026-03-01T03:00:00.000Z  null  partial\n"
            "m{intent=\"faq\",model=\"a\"}\n"
            "  2026-03-01T02:00:00.000Z  2.5\n"
            "  2026-03-01T03:00:00.000Z  3\n");
  EXPECT_EQ(
      r.ToJson(),
      "{\"metric\":\"m\",\"series\":[{\"labels\":{\"intent\":\"faq\"},\"windows\":[{\"start\":"
      "\"2026-03-01T02:00:00.000Z\",\"end\":\"2026-03-01T03:00:00.000Z\",\"value\":null,"
      "\"partial\":true}]},{\"labels\":{\"intent\":\"faq\",\"model\":\"a\"},\"windows\":[{"
      "\"start\":\"2026-03-01T01:00:00.000Z\",\"end\":\"2026-03-01T02:00:00.000Z\",\"value\":"
      "2.5},{\"start\":\"2026-03-01T02:00:00.000Z\",\"end\":\"2026-03-01T03:00:00.000Z\","
      "\"value\":3}]}]}");
  EXPECT_EQ(r.ToCsv(),
            "metric,intent,model,start,end,value,partial\n"
            "m,faq,,2026-03-01T02:00:00.000Z,2026-03-01T03:00:00.000Z,,true\n"
            "m,faq,a,2026-03-01T01:00:00.000Z,2026-03-01T02:00:00.000Z,2.5,false\n"
            "m,faq,a,2026-03-01T02:00:00.000Z,2026-03-01T03:00:00.000Z,3,false\n");
}

TEST(HistoryQueryTest, AStepKeepsTheLastWindowToEndInEachInterval) {
  HistoryQuery q;
  q.metric = "m";
  q.step = 6 * kHour;
  HistoryResult r(q);
  // Hourly windows ending 01:00 … 13:00: intervals (00:00, 06:00], (06:00,
  // 12:00], (12:00, 18:00] keep the ones ending 06:00, 12:00 and 13:00.
  for (int h = 0; h < 13; ++h) r.Add(W({}, kT0 + h * kHour, h));
  EXPECT_EQ(r.ToCsv(),
            "metric,start,end,value,partial\n"
            "m,2026-03-01T05:00:00.000Z,2026-03-01T06:00:00.000Z,5,false\n"
            "m,2026-03-01T11:00:00.000Z,2026-03-01T12:00:00.000Z,11,false\n"
            "m,2026-03-01T12:00:00.000Z,2026-03-01T13:00:00.000Z,12,false\n");
}

TEST(HistoryQueryTest, CsvQuotesWhatItMust) {
  HistoryQuery q;
  q.metric = "m";
  HistoryResult r(q);
  r.Add(W({{"topic", "a,\"b\""}}, kT0, 1));
  EXPECT_EQ(r.ToCsv(),
            "metric,topic,start,end,value,partial\n"
            "m,\"a,\"\"b\"\"\",2026-03-01T00:00:00.000Z,2026-03-01T01:00:00.000Z,1,false\n");
}

// A label named like a fixed column is headed label_NAME (label_label_NAME
// when a label has that name too): no header is there twice.
TEST(HistoryQueryTest, CsvHeadersAreUnique) {
  HistoryQuery q;
  q.metric = "m";
  HistoryResult r(q);
  r.Add(W({{"end", "e1"}, {"value", "v1"}, {"label_value", "x"}}, kT0, 1));
  EXPECT_EQ(r.ToCsv(),
            "metric,label_end,label_value,label_label_value,start,end,value,partial\n"
            "m,e1,x,v1,2026-03-01T00:00:00.000Z,2026-03-01T01:00:00.000Z,1,false\n");
}

TEST(HistoryQueryTest, ALabelValueMayHoldAnEscapedComma) {
  std::vector<std::pair<std::string, std::string>> labels;
  ASSERT_TRUE(ParseLabelFilter(R"(intent=a\,b,path=c:\\d\e,x==)", &labels).ok());
  EXPECT_EQ(labels, (std::vector<std::pair<std::string, std::string>>{
                        {"intent", "a,b"}, {"path", R"(c:\d\e)"}, {"x", "="}}));
  // A series has one value of each label: two would select nothing.
  labels.clear();
  EXPECT_EQ(ParseLabelFilter("k=a,k=A", &labels).message(),
            "labels: 'k' is given twice (a series has one value of each)");
}

TEST(HistoryQueryTest, ApiParameters) {
  absl::StatusOr<HistoryQuery> q = ParseHistoryQuery(
      "metric=latency_p95_ms&labels=intent%3Dfaq%2Cmodel%3Da&from=2026-03-01T00:00:00%2B01:00"
      "&to=2026-03-02T00:00:00Z&step=1h");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->metric, "latency_p95_ms");
  EXPECT_EQ(q->labels,
            (std::vector<std::pair<std::string, std::string>>{{"intent", "faq"}, {"model", "a"}}));
  EXPECT_EQ(q->from, kT0 - kHour);
  EXPECT_EQ(q->to, kT0 + 24 * kHour);
  EXPECT_EQ(q->step, kHour);
  // Window starts are whole milliseconds: a bound past one rounds up, so a
  // window starting at kT0 is after `from` .0005 and before `to` .0005.
  EXPECT_EQ(ParseHistoryQuery("metric=m&from=2026-03-01T00:00:00.0005Z")->from, kT0 + 1);
  EXPECT_EQ(ParseHistoryQuery("metric=m&to=2026-03-01T00:00:00.0005Z")->to, kT0 + 1);
  auto error = [](const char* s) { return std::string(ParseHistoryQuery(s).status().message()); };
  EXPECT_EQ(error("labels=a=b"), "metric= is required");
  EXPECT_EQ(error("metric=m&limit=3"),
            "unknown parameter 'limit' (allowed: metric, labels, from, to, step)");
  EXPECT_EQ(error("metric=m&step=0s"), "step needs a duration such as 1h, not '0s'");
  EXPECT_EQ(error("metric=m&labels=faq"),
            "labels: 'faq' is not NAME=VALUE (e.g. intent=faq,model=haiku)");
  EXPECT_EQ(error("metric=m&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z"),
            "from must be before to");
  EXPECT_EQ(error("metric=%zz"), "metric: a malformed %-escape");
}

}  // namespace
}  // namespace vigil
