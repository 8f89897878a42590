// operators/dataflow/join_values.h
//
// How a join keeps the fields of an event it waits with, and of a record
// it found: the values packed one after the other (a kind byte, then a
// byte, a double or a varint-sized string), in the arena of its state and
// in checkpoints. Inline: this runs for every field of every event a join
// keeps.
//
// Example:
//   Encoder enc;
//   PackValue(Value::Number(3), &enc);
//   PackValue(Value::String("faq"), &enc);
//   const std::string packed = enc.Release();
//   Value v[2];
//   UnpackValues(packed, 2, v);        // v[0] 3, v[1] "faq" (a view into packed)
#ifndef VIGIL_OPERATORS_DATAFLOW_JOIN_VALUES_H_
#define VIGIL_OPERATORS_DATAFLOW_JOIN_VALUES_H_

#include <cstring>
#include <string_view>

#include "base/codec.h"
#include "rules/value.h"

namespace vigil {

inline void PackValue(const Value& v, Encoder* enc) {
  // The kind and the fixed part in one append: this runs for every field
  // of every event a join keeps and every record it finds.
  char head[1 + 10];
  size_t n = 0;
  head[n++] = static_cast<char>(v.kind);
  switch (v.kind) {
    case Value::Kind::kBool:
      head[n++] = v.b ? 1 : 0;
      break;
    case Value::Kind::kNumber:
      std::memcpy(head + n, &v.num, sizeof v.num);
      n += sizeof v.num;
      break;
    case Value::Kind::kString:
      for (uint64_t size = v.str.size();; size >>= 7) {  // as Encoder::PutVarint
        head[n++] = static_cast<char>(size < 0x80 ? size : (size & 0x7f) | 0x80);
        if (size < 0x80) break;
      }
      break;
    case Value::Kind::kMissing:
    case Value::Kind::kNull:
      break;
  }
  enc->PutRaw({head, n});
  if (v.kind == Value::Kind::kString) enc->PutRaw(v.str);
}

// Reads `n` values packed by PackValue, the i-th into out[at(i)]; strings
// are views into `packed`.
template <typename At>
bool UnpackValuesAt(std::string_view packed, size_t n, const At& at, Value* out) {
  Decoder dec(packed);
  for (size_t i = 0; i < n; ++i) {
    Value& v = out[at(i)];
    const uint8_t kind = dec.GetByte();
    switch (static_cast<Value::Kind>(kind)) {
      case Value::Kind::kMissing:
        v = Value::Missing();
        break;
      case Value::Kind::kNull:
        v = Value::Null();
        break;
      case Value::Kind::kBool:
        v = Value::Bool(dec.GetByte() != 0);
        break;
      case Value::Kind::kNumber:
        v = Value::Number(dec.GetDouble());
        break;
      case Value::Kind::kString:
        v = Value::String(dec.GetString());
        break;
      default:
        return false;
    }
  }
  return dec.ok() && dec.empty();
}

inline bool UnpackValues(std::string_view packed, size_t n, Value* out) {
  return UnpackValuesAt(
      packed, n, [](size_t i) { return i; }, out);
}

// Splits `packed` (n values packed by PackValue) into each value's bytes.
inline void SliceValues(std::string_view packed, std::string_view* out, size_t n) {
  Decoder dec(packed);
  for (size_t i = 0; i < n; ++i) {
    const std::string_view from = dec.rest();
    switch (static_cast<Value::Kind>(dec.GetByte())) {
      case Value::Kind::kBool:
        dec.GetByte();
        break;
      case Value::Kind::kNumber:
        dec.GetDouble();
        break;
      case Value::Kind::kString:
        dec.GetString();
        break;
      default:
        break;
    }
    out[i] = from.substr(0, from.size() - dec.rest().size());
  }
}

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_JOIN_VALUES_H_
