// base/codec.h
//
// A compact, versionless binary encoding for window and alert state. Every
// aggregate, pane store and alert state serialises itself through these two
// classes, so checkpoints and the pane exchange between instances share one
// format: little-endian fixed-width doubles, LEB128 varints for integers
// (zig-zag for signed), and length-prefixed byte strings.
//
// Decoding never trusts its input: every read checks the remaining length
// and a failed read leaves the decoder in a sticky error state, so a caller
// reads a whole record and checks `ok()` once at the end.
//
// Example:
//   Encoder enc;
//   enc.PutVarint(42);
//   enc.PutDouble(0.5);
//   enc.PutString("faq");
//   Decoder dec(enc.data());
//   uint64_t n = dec.GetVarint();        // 42
//   double d = dec.GetDouble();          // 0.5
//   std::string_view s = dec.GetString();  // "faq"
//   assert(dec.ok() && dec.empty());
#ifndef VIGIL_BASE_CODEC_H_
#define VIGIL_BASE_CODEC_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vigil {

class Encoder {
 public:
  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }
  void PutSigned(int64_t v) {
    PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void PutDouble(double d) {
    char bytes[sizeof d];
    std::memcpy(bytes, &d, sizeof d);
    buf_.append(bytes, sizeof d);
  }
  void PutString(std::string_view s) {
    PutVarint(s.size());
    buf_.append(s);
  }
  void PutByte(uint8_t b) { buf_.push_back(static_cast<char>(b)); }
  // Bytes another Encoder wrote (e.g. one value sliced from its output).
  void PutRaw(std::string_view bytes) { buf_.append(bytes); }

  const std::string& data() const { return buf_; }
  std::string Release() { return std::move(buf_); }
  void Clear() { buf_.clear(); }  // keeps the capacity, for reuse

 private:
  std::string buf_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}

  uint64_t GetVarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (data_.empty()) return Fail();
      uint8_t b = static_cast<uint8_t>(data_.front());
      data_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t GetSigned() {
    uint64_t u = GetVarint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  double GetDouble() {
    double d = 0;
    if (data_.size() < sizeof d) return static_cast<double>(Fail());
    std::memcpy(&d, data_.data(), sizeof d);
    data_.remove_prefix(sizeof d);
    return d;
  }
  std::string_view GetString() {
    uint64_t n = GetVarint();
    if (!ok_ || n > data_.size()) {
      Fail();
      return {};
    }
    std::string_view s = data_.substr(0, n);
    data_.remove_prefix(n);
    return s;
  }
  uint8_t GetByte() {
    if (data_.empty()) return static_cast<uint8_t>(Fail());
    uint8_t b = static_cast<uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }

  // Marks the input as malformed, e.g. when a decoded value is out of range.
  uint64_t Fail() {
    ok_ = false;
    data_ = {};
    return 0;
  }
  bool ok() const { return ok_; }
  // Whether everything was read.
  bool done() const { return data_.empty(); }
  bool empty() const { return data_.empty(); }
  // What is left to read.
  std::string_view rest() const { return data_; }

 private:
  std::string_view data_;
  bool ok_ = true;
};

}  // namespace vigil

#endif  // VIGIL_BASE_CODEC_H_
