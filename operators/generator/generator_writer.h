// operators/generator/generator_writer.h
//
// The output side of the traffic generator: JSON string quoting, a writer
// that formats one event into a fixed buffer with no bounds checks on the hot
// path (every event the generator writes has a known upper size), and a cache
// of formatted RFC 3339 second prefixes so that a timestamp costs a copy and
// three digits instead of a calendar conversion.
//
// Example:
//   EventWriter w;
//   w.Literal("{\"n\":");
//   w.Int(42);
//   w.Literal(",\"s\":");
//   w.String("say \"hi\"");
//   w.Literal("}\n");
//   w.view();   // {"n":42,"s":"say \"hi\""}  and a newline
#ifndef VIGIL_OPERATORS_GENERATOR_GENERATOR_WRITER_H_
#define VIGIL_OPERATORS_GENERATOR_GENERATOR_WRITER_H_

#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/time.h"

namespace vigil::generator_internal {

// Writes `s` as a JSON string literal, quotes included, at `out` and returns
// the end: '"' and '\' are escaped, control characters become \n, \t, ... or
// \u00XX, and all other bytes (UTF-8 included) pass through. `out` must have
// room for 6 * s.size() + 2 bytes.
char* WriteJsonString(std::string_view s, char* out);

// The same, appended to a string.
void AppendJsonString(std::string_view s, std::string* out);

// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);

class EventWriter {
 public:
  // No event the generator writes comes near this; `Reset` asserts it.
  static constexpr size_t kCapacity = 2048;

  void Reset() { end_ = buf_; }

  void Raw(std::string_view s) {
    std::memcpy(end_, s.data(), s.size());
    end_ += s.size();
  }
  template <size_t N>
  void Literal(const char (&s)[N]) {
    std::memcpy(end_, s, N - 1);
    end_ += N - 1;
  }
  void Char(char c) { *end_++ = c; }
  void Int(int64_t v) { end_ = std::to_chars(end_, end_ + 24, v).ptr; }
  void Bool(bool b) {
    if (b) {
      Literal("true");
    } else {
      Literal("false");
    }
  }
  // A JSON string with escaping; for strings not already quoted at setup.
  void String(std::string_view s) { end_ = WriteJsonString(s, end_); }

  std::string_view view() const {
    assert(static_cast<size_t>(end_ - buf_) <= kCapacity);
    return std::string_view(buf_, static_cast<size_t>(end_ - buf_));
  }

 private:
  char buf_[kCapacity];
  char* end_ = buf_;
};

// Writes `ts` as the JSON value of an event's time: epoch milliseconds, or an
// RFC 3339 string in UTC. The date and time up to the second come from a
// small direct-mapped cache keyed by the second; the out-of-order jitter makes
// neighbouring seconds alternate, hence several slots rather than one.
class TimestampFormatter {
 public:
  explicit TimestampFormatter(bool epoch_millis) : epoch_millis_(epoch_millis) {}

  void Write(TimeMs ts, EventWriter& w);

 private:
  static constexpr int kSlots = 8;
  struct Slot {
    int64_t second = kMinTime;
    char prefix[40];  // "\"YYYY-MM-DDTHH:MM:SS." (wider for years past 9999)
    uint8_t size = 0;
  };

  bool epoch_millis_;
  Slot slots_[kSlots];
  std::string scratch_;
};

}  // namespace vigil::generator_internal

#endif  // VIGIL_OPERATORS_GENERATOR_GENERATOR_WRITER_H_
