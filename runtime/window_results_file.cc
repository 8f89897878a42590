#include "runtime/window_results_file.h"

#include <simdjson.h>

#include <cmath>
#include <memory>
#include <vector>

#include "base/strings.h"
#include "operators/source/line_source.h"

namespace vigil {
namespace {

constexpr size_t kMaxLine = 1 << 20;

// Parses one line into *w; false when it is not a window result.
bool ParseWindow(simdjson::dom::parser& parser, std::string_view line, bool padded,
                 StoredWindow* w) {
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size(), !padded).get(doc) != simdjson::SUCCESS) return false;
  std::string_view metric, start, end;
  simdjson::dom::element value;
  if (doc["metric"].get(metric) != simdjson::SUCCESS ||
      doc["start"].get(start) != simdjson::SUCCESS || doc["end"].get(end) != simdjson::SUCCESS ||
      doc["value"].get(value) != simdjson::SUCCESS) {
    return false;
  }
  const std::optional<TimeMs> s = ParseRfc3339(start), e = ParseRfc3339(end);
  if (!s || !e) return false;
  w->metric.assign(metric);
  w->start = *s;
  w->end = *e;
  if (value.is_null()) {
    w->value = std::nan("");
  } else if (value.get(w->value) != simdjson::SUCCESS) {
    return false;
  }
  w->labels.clear();
  simdjson::dom::object labels;
  if (doc["labels"].get(labels) == simdjson::SUCCESS) {
    for (auto [k, v] : labels) {
      std::string_view text;
      if (v.get(text) != simdjson::SUCCESS) return false;
      w->labels.emplace_back(std::string(k), std::string(text));
    }
  }
  bool partial = false;
  w->partial = doc["partial"].get(partial) == simdjson::SUCCESS && partial;
  return true;
}

}  // namespace

bool IsWindowResultLine(std::string_view line) {
  simdjson::dom::parser parser;
  StoredWindow w;
  return ParseWindow(parser, line, /*padded=*/false, &w);
}

namespace {

// A read error of `path` (an open error names it already).
absl::Status ReadError(const std::string& path, const absl::Status& s) {
  return absl::Status(s.code(), StrCat(path, ": ", std::string(s.message())));
}

}  // namespace

absl::StatusOr<bool> IsWindowResultsFile(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RecordSource>> src = OpenFileSource(path, kMaxLine);
  if (!src.ok()) return src.status();
  std::vector<Record> batch;
  if (!(*src)->Next(&batch, 1) || batch.empty()) {
    if (!(*src)->status().ok()) return ReadError(path, (*src)->status());
    return false;
  }
  simdjson::dom::parser parser;
  StoredWindow w;
  return ParseWindow(parser, batch[0].data, /*padded=*/true, &w);
}

absl::StatusOr<bool> HoldsNoRecord(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RecordSource>> src = OpenFileSource(path, kMaxLine);
  if (!src.ok()) return src.status();
  std::vector<Record> batch;
  while ((*src)->Next(&batch, 1)) {
    if (!batch.empty()) return false;
  }
  if (!(*src)->status().ok()) return ReadError(path, (*src)->status());
  return true;
}

absl::Status ReadWindowResults(const std::string& path,
                               const std::function<void(const StoredWindow&)>& fn,
                               uint64_t* malformed) {
  absl::StatusOr<std::unique_ptr<RecordSource>> src = OpenFileSource(path, kMaxLine);
  if (!src.ok()) return src.status();
  simdjson::dom::parser parser;
  StoredWindow w;
  std::vector<Record> batch;
  while ((*src)->Next(&batch, 4096)) {
    for (const Record& r : batch) {
      if (!r.oversized && ParseWindow(parser, r.data, /*padded=*/true, &w)) {
        fn(w);
      } else {
        ++*malformed;
      }
    }
  }
  return (*src)->status();
}

}  // namespace vigil
