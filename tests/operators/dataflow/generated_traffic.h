// Generated reference traffic for the dataflow tests: the generator's
// NDJSON with incidents, held in one padded buffer with a Record per line,
// and window results as text that compares equal only when the values are
// equal to the bit.
//
//   GeneratedTraffic t(5, 100, 90 * 60'000, {"latency_spike@20m+10m"});
//   for (const Record& r : t.records) { ... }
#ifndef VIGIL_TESTS_OPERATORS_DATAFLOW_GENERATED_TRAFFIC_H_
#define VIGIL_TESTS_OPERATORS_DATAFLOW_GENERATED_TRAFFIC_H_

#include <simdjson.h>

#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/sink.h"
#include "operators/generator/generator.h"
#include "operators/source/record_source.h"

namespace vigil {

struct GeneratedTraffic {
  // `seed`, events per second, event time covered, incidents; from
  // 2026-11-24T11:00:00Z, ts in epoch milliseconds. `extra` lines follow.
  GeneratedTraffic(uint64_t seed, double rate, DurationMs duration,
                   const std::vector<std::string>& incidents,
                   const std::vector<std::string>& extra = {}) {
    GeneratorOptions options;
    options.seed = seed;
    options.start = 1795518000000;  // 2026-11-24T11:00:00Z
    options.rate = rate;
    options.duration = duration;
    options.epoch_millis = true;
    for (const std::string& i : incidents) options.incidents.push_back(*ParseIncident(i));
    EventGenerator gen(options);
    std::string line;
    std::vector<std::pair<size_t, size_t>> spans;
    while (gen.Next(&line)) {
      spans.emplace_back(text.size(), line.size() - 1);
      text += line;
      line.clear();
    }
    for (const std::string& e : extra) {
      spans.emplace_back(text.size(), e.size());
      text += e + "\n";
    }
    text.append(simdjson::SIMDJSON_PADDING, ' ');
    for (const auto& [at, size] : spans) {
      Record rec;
      rec.data = std::string_view(text).substr(at, size);
      rec.size = size;
      records.push_back(rec);
    }
  }
  GeneratedTraffic(const GeneratedTraffic&) = delete;
  GeneratedTraffic& operator=(const GeneratedTraffic&) = delete;

  std::string text;  // the lines, then padding; records view into it
  std::vector<Record> records;
};

// StrCat writes the shortest text that reads back as the same double, so
// equal text is equal bits.
inline std::string FormatResult(const WindowResult& r) {
  return StrCat(r.def->name, " ", r.start, "-", r.end, " ", r.group, " = ", r.value);
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_DATAFLOW_GENERATED_TRAFFIC_H_
