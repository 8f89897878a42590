// libFuzzer target: the NDJSON line reader over arbitrary bytes (see
// scripts/fuzz.sh), against a plain model of what it must return: one
// record per line (split at '\n', a trailing '\r' dropped), blank lines
// skipped but counted, each with its 1-based line number and byte offset;
// a line over the record limit comes back as an oversized record holding
// its first 256 bytes. The first input byte picks the record limit and the
// batch size, so short inputs reach the oversized paths.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operators/source/line_source.h"

namespace {

struct Expected {
  std::string data;
  uint64_t line, offset, size;
  bool oversized;
};

std::vector<Expected> Model(std::string_view in, size_t max_record) {
  std::vector<Expected> out;
  uint64_t line = 0, offset = 0;
  while (offset < in.size()) {
    const size_t nl = in.find('\n', offset);
    const size_t end = nl == std::string_view::npos ? in.size() : nl;
    std::string_view text = in.substr(offset, end - offset);
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > max_record) {
      out.push_back({std::string(text.substr(0, 256)), line, offset, text.size(), true});
    } else if (text.find_first_not_of(" \t") != std::string_view::npos) {
      out.push_back({std::string(text), line, offset, text.size(), false});
    }
    offset = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_record = 1 + data[0] % 64;
  const size_t batch = 1 + data[0] / 64;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  static const int fd = ::memfd_create("lines", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, in.data(), in.size(), 0) != static_cast<ssize_t>(in.size())) {
    std::abort();
  }
  auto src = vigil::OpenFileSource("/proc/self/fd/" + std::to_string(fd), max_record);
  if (!src.ok()) std::abort();
  std::vector<vigil::Record> records;
  std::vector<Expected> got;
  while ((*src)->Next(&records, batch)) {
    if (records.empty() || records.size() > batch) std::abort();
    for (const vigil::Record& r : records) {
      got.push_back({std::string(r.data), r.line, r.offset, r.size, r.oversized});
    }
  }
  if (!(*src)->status().ok()) std::abort();
  const std::vector<Expected> want = Model(in, max_record);
  if (got.size() != want.size()) std::abort();
  for (size_t i = 0; i < want.size(); ++i) {
    const Expected &g = got[i], &w = want[i];
    if (g.data != w.data || g.line != w.line || g.offset != w.offset || g.size != w.size ||
        g.oversized != w.oversized) {
      std::abort();
    }
  }
  return 0;
}
