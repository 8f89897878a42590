// tests/operators/generator/generator_test_util.h
//
// Helpers shared by the generator tests: generating into NDJSON and walking
// the events, their times and fields, and tallies of generated traffic.
#ifndef VIGIL_TESTS_OPERATORS_GENERATOR_GENERATOR_TEST_UTIL_H_
#define VIGIL_TESTS_OPERATORS_GENERATOR_GENERATOR_TEST_UTIL_H_

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "operators/generator/generator.h"

namespace vigil::generator_test {

using simdjson::dom::element;
using simdjson::dom::element_type;

inline constexpr TimeMs kStart = 1795518000000;  // 2026-11-24T11:00:00Z
inline constexpr DurationMs kMinute = 60000;

inline std::string Generate(const GeneratorOptions& options, uint64_t events) {
  EventGenerator gen(options);
  std::string out;
  for (uint64_t i = 0; i < events && gen.Next(&out); ++i) {
  }
  return out;
}

// Calls `f` with every event of an NDJSON buffer, failing the test on any
// line that is not one JSON object. The buffer must have SIMDJSON_PADDING
// bytes of spare capacity.
inline void ForEachEvent(const std::string& ndjson, const std::function<void(element)>& f) {
  ASSERT_GE(ndjson.capacity(), ndjson.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  ASSERT_EQ(parser.parse_many(ndjson.data(), ndjson.size(), simdjson::dom::DEFAULT_BATCH_SIZE)
                .get(stream),
            simdjson::SUCCESS);
  size_t docs = 0;
  for (auto doc : stream) {
    element e;
    ASSERT_EQ(doc.get(e), simdjson::SUCCESS) << "event " << docs;
    ASSERT_TRUE(e.is_object()) << "event " << docs;
    f(e);
    ++docs;
  }
  EXPECT_EQ(docs, static_cast<size_t>(std::count(ndjson.begin(), ndjson.end(), '\n')));
}

// Runs a generator to the end of its duration and calls `f` with every
// event, a few megabytes at a time.
inline void ForEachGenerated(const GeneratorOptions& options,
                             const std::function<void(element)>& f) {
  constexpr size_t kChunk = 4 << 20;
  EventGenerator gen(options);
  std::string chunk;
  chunk.reserve(kChunk + 4096 + simdjson::SIMDJSON_PADDING);
  bool more = true;
  while (more) {
    chunk.clear();
    while (chunk.size() < kChunk && (more = gen.Next(&chunk))) {
    }
    ForEachEvent(chunk, f);
  }
}

inline TimeMs Ts(element e) {
  if (e["ts"].is_int64()) return e["ts"].get_int64().value();
  const std::optional<TimeMs> ts = ParseRfc3339(e["ts"].get_string().value());
  EXPECT_TRUE(ts.has_value()) << e["ts"];
  return ts.value_or(0);
}

inline std::string_view Str(element e, const char* field) { return e[field].get_string().value(); }

inline element_type TypeOf(element e, const char* field) { return e[field].value().type(); }

inline double Quantile(std::vector<int64_t> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

inline constexpr std::string_view kIntents[] = {
    "product_discovery", "product_question", "faq",      "order_tracking",
    "return_request",    "recommendation",   "chitchat", "escalation"};

struct TrafficStats {
  int64_t intents[std::size(kIntents)] = {};
  std::vector<int64_t> latencies;
  int64_t messages = 0, errors = 0, timeouts = 0, guardrails = 0, cache_hits = 0;
  int64_t escalations = 0, escalation_intents = 0, thumbs_down = 0, feedback = 0;
  int64_t labels = 0, labels_agreeing = 0, bedrock_opens = 0, over_10s = 0;

  void Add(element e) {
    const std::string_view type = Str(e, "type");
    if (type == "message") {
      ++messages;
      const std::string_view intent = Str(e, "intent");
      ++intents[std::find(std::begin(kIntents), std::end(kIntents), intent) - kIntents];
      escalation_intents += intent == "escalation";
      latencies.push_back(e["latency_ms"].get_int64().value());
      over_10s += latencies.back() > 10000;
      const bool timeout = e["llm_timeout"].get_bool().value();
      timeouts += timeout;
      errors += timeout || !e["error_service"].is_null();
      guardrails += e["guardrail_triggered"].get_bool().value();
      cache_hits += e["cache_hit"].get_bool().value();
    } else if (type == "escalation") {
      ++escalations;
    } else if (type == "feedback") {
      ++feedback;
      thumbs_down += e["rating"].get_int64().value() < 0;
    } else if (type == "intent_label") {
      ++labels;
      labels_agreeing += Str(e, "predicted") == Str(e, "actual");
    } else if (type == "circuit_breaker") {
      bedrock_opens += Str(e, "service") == "bedrock" && Str(e, "state") == "open";
    }
  }
  double Share(int64_t n) const { return static_cast<double>(n) / static_cast<double>(messages); }
};

}  // namespace vigil::generator_test

#endif  // VIGIL_TESTS_OPERATORS_GENERATOR_GENERATOR_TEST_UTIL_H_
