#include "operators/generator/generator_writer.h"

namespace vigil::generator_internal {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Writes the escape sequence of one byte that NeedsEscape; returns the end.
char* WriteEscape(unsigned char c, char* p) {
  *p++ = '\\';
  switch (c) {
    case '"':
      *p++ = '"';
      break;
    case '\\':
      *p++ = '\\';
      break;
    case '\b':
      *p++ = 'b';
      break;
    case '\f':
      *p++ = 'f';
      break;
    case '\n':
      *p++ = 'n';
      break;
    case '\r':
      *p++ = 'r';
      break;
    case '\t':
      *p++ = 't';
      break;
    default:
      *p++ = 'u';
      *p++ = '0';
      *p++ = '0';
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xf];
  }
  return p;
}

}  // namespace

char* WriteJsonString(std::string_view s, char* out) {
  *out++ = '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (NeedsEscape(u)) {
      out = WriteEscape(u, out);
    } else {
      *out++ = c;
    }
  }
  *out++ = '"';
  return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
  const size_t size = out->size();
  out->resize(size + 6 * s.size() + 2);
  char* end = WriteJsonString(s, out->data() + size);
  out->resize(static_cast<size_t>(end - out->data()));
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

void TimestampFormatter::Write(TimeMs ts, EventWriter& w) {
  if (epoch_millis_) {
    w.Int(ts);
    return;
  }
  const int64_t second = FloorDiv(ts, 1000);
  Slot& slot = slots_[static_cast<uint64_t>(second) % kSlots];
  if (slot.second != second) {
    scratch_.assign(1, '"');
    AppendTimestamp(second * 1000, &scratch_);
    // Keep everything up to the decimal point; the milliseconds and zone
    // ("000Z") are written per event.
    const size_t size = scratch_.size() - 4;
    assert(size <= sizeof slot.prefix);
    std::memcpy(slot.prefix, scratch_.data(), size);
    slot.size = static_cast<uint8_t>(size);
    slot.second = second;
  }
  w.Raw(std::string_view(slot.prefix, slot.size));
  const auto millis = static_cast<int>(ts - second * 1000);
  w.Char(static_cast<char>('0' + millis / 100));
  w.Char(static_cast<char>('0' + millis / 10 % 10));
  w.Char(static_cast<char>('0' + millis % 10));
  w.Literal("Z\"");
}

}  // namespace vigil::generator_internal
