// tests/operators/dataflow/record_lines.h
//
// Records of hand-written NDJSON lines, as a reader hands them over: one
// buffer holding every line, padded for the parser, each record a view of
// its line, numbered from 1.
//
// Example:
//   RecordLines lines;
//   lines.Add(R"({"ts":1000,"type":"message"})");
//   workers.Parse(lines.records());
#ifndef VIGIL_TESTS_OPERATORS_DATAFLOW_RECORD_LINES_H_
#define VIGIL_TESTS_OPERATORS_DATAFLOW_RECORD_LINES_H_

#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/source/record_source.h"

namespace vigil {

class RecordLines {
 public:
  // Before the first records().
  void Add(std::string_view line) {
    spans_.emplace_back(buffer_.size(), line.size());
    buffer_.append(line);
    buffer_.push_back('\n');
  }
  // Every line added, as records; no Add after.
  const std::vector<Record>& records() {
    if (records_.size() == spans_.size()) return records_;
    buffer_.append(simdjson::SIMDJSON_PADDING, ' ');
    for (const auto& [at, size] : spans_) {
      records_.push_back({std::string_view(buffer_).substr(at, size), records_.size() + 1});
    }
    return records_;
  }

 private:
  std::string buffer_;
  std::vector<std::pair<size_t, size_t>> spans_;
  std::vector<Record> records_;
};

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_DATAFLOW_RECORD_LINES_H_
