// Baseline for the end-to-end benchmark: reads an NDJSON file with the same
// reader and parses every record with the same simdjson DOM parser the job
// uses, touching `ts` and `type`, and nothing else. vigil's end-to-end rate
// is reported as a fraction of this one, measured in the same run.
//
// Usage: parse_only FILE
#include <simdjson.h>

#include <chrono>
#include <cstdio>

#include "operators/source/line_source.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parse_only FILE\n");
    return 2;
  }
  auto src = vigil::OpenFileSource(argv[1], 1 << 20);
  if (!src.ok()) {
    std::fprintf(stderr, "%s\n", std::string(src.status().message()).c_str());
    return 1;
  }
  simdjson::dom::parser parser;
  std::vector<vigil::Record> batch;
  uint64_t records = 0, ok = 0, type_len = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while ((*src)->Next(&batch, 4096)) {
    for (const vigil::Record& r : batch) {
      ++records;
      simdjson::dom::element doc;
      if (parser.parse(r.data.data(), r.data.size(), false).get(doc)) continue;
      simdjson::dom::element ts, type;
      if (doc["ts"].get(ts) || doc["type"].get(type)) continue;
      type_len += type.get_string().value_unsafe().size();
      ++ok;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "{\"records\":%llu,\"parsed\":%llu,\"seconds\":%.3f,\"events_per_second\":%.0f,"
      "\"checksum\":%llu}\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(ok), secs,
      static_cast<double>(records) / secs, static_cast<unsigned long long>(type_len));
  return 0;
}
