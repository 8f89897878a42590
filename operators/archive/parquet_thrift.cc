#include "operators/archive/parquet_thrift.h"

#include <cstring>

#include "base/strings.h"

namespace vigil::parquet {

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void ThriftWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void ThriftWriter::FieldHeader(int16_t id, CType type) {
  const int delta = id - last_ids_.back();
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>(delta << 4 | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<char>(type));
    Varint(ZigZag(id));
  }
  last_ids_.back() = id;
}

void ThriftWriter::FieldI16(int16_t id, int16_t v) {
  FieldHeader(id, CType::kI16);
  Varint(ZigZag(v));
}

void ThriftWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, CType::kI32);
  Varint(ZigZag(v));
}

void ThriftWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, CType::kI64);
  Varint(ZigZag(v));
}

void ThriftWriter::FieldBool(int16_t id, bool v) {
  FieldHeader(id, v ? CType::kBoolTrue : CType::kBoolFalse);
}

void ThriftWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, CType::kBinary);
  Binary(v);
}

void ThriftWriter::FieldDouble(int16_t id, double v) {
  FieldHeader(id, CType::kDouble);
  char bytes[8];
  std::memcpy(bytes, &v, 8);  // little-endian hosts only, as the rest of vigil
  out_.append(bytes, 8);
}

void ThriftWriter::FieldStruct(int16_t id) {
  FieldHeader(id, CType::kStruct);
  BeginStruct();
}

void ThriftWriter::FieldList(int16_t id, CType elem, size_t size) {
  FieldHeader(id, CType::kList);
  ListHeader(elem, size);
}

void ThriftWriter::EndStruct() {
  out_.push_back(0);
  if (last_ids_.size() > 1) last_ids_.pop_back();
}

void ThriftWriter::ListHeader(CType elem, size_t size) {
  if (size < 15) {
    out_.push_back(static_cast<char>(size << 4 | static_cast<size_t>(elem)));
  } else {
    out_.push_back(static_cast<char>(0xF0 | static_cast<int>(elem)));
    Varint(size);
  }
}

void ThriftWriter::Binary(std::string_view v) {
  Varint(v.size());
  out_.append(v);
}

void ThriftWriter::BeginStruct() { last_ids_.push_back(0); }

// Reading.

void ThriftReader::Fail(std::string_view what) {
  if (error_.empty()) error_ = StrCat(what, " at byte ", pos_);
  pos_ = in_.size();
}

uint8_t ThriftReader::Byte() {
  if (pos_ >= in_.size()) {
    Fail("unexpected end of data");
    return 0;
  }
  return static_cast<uint8_t>(in_[pos_++]);
}

uint64_t ThriftReader::Varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t b = Byte();
    if (!ok()) return 0;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Fail("varint longer than 10 bytes");
  return 0;
}

void ThriftReader::BeginStruct() {
  if (last_ids_.size() > kMaxDepth) {
    Fail("structs nested too deep");
    return;
  }
  last_ids_.push_back(0);
}

bool ThriftReader::NextField(ThriftField* f) {
  if (!ok() || last_ids_.empty()) return false;
  const uint8_t b = Byte();
  if (!ok()) return false;
  if (b == 0) {
    last_ids_.pop_back();
    return false;
  }
  f->type = static_cast<CType>(b & 0x0F);
  const int delta = b >> 4;
  if (delta != 0) {
    f->id = static_cast<int16_t>(last_ids_.back() + delta);
  } else {
    const int64_t id = UnZigZag(Varint());
    if (id < -32768 || id > 32767) Fail("field id out of range");
    f->id = static_cast<int16_t>(id);
  }
  if (f->type == CType::kStop || f->type > CType::kStruct) {
    Fail(StrCat("unknown field type ", static_cast<int>(f->type)));
    return false;
  }
  last_ids_.back() = f->id;
  return ok();
}

bool ThriftReader::Expect(const ThriftField& f, CType want) {
  const bool is_bool = f.type == CType::kBoolTrue || f.type == CType::kBoolFalse;
  const bool want_bool = want == CType::kBoolTrue || want == CType::kBoolFalse;
  if (f.type == want || (is_bool && want_bool)) return true;
  Fail(StrCat("field ", f.id, " has type ", static_cast<int>(f.type), ", expected ",
              static_cast<int>(want)));
  return false;
}

bool ThriftReader::ReadBool(const ThriftField& f) {
  return Expect(f, CType::kBoolTrue) && f.type == CType::kBoolTrue;
}

int16_t ThriftReader::ReadI16(const ThriftField& f) {
  if (!Expect(f, CType::kI16)) return 0;
  const int64_t v = UnZigZag(Varint());
  if (v < -32768 || v > 32767) Fail("i16 out of range");
  return ok() ? static_cast<int16_t>(v) : 0;
}

int32_t ThriftReader::ReadI32(const ThriftField& f) { return Expect(f, CType::kI32) ? I32() : 0; }

int64_t ThriftReader::ReadI64(const ThriftField& f) { return Expect(f, CType::kI64) ? I64() : 0; }

std::string_view ThriftReader::ReadBinary(const ThriftField& f) {
  return Expect(f, CType::kBinary) ? Binary() : std::string_view();
}

double ThriftReader::ReadDouble(const ThriftField& f) {
  if (!Expect(f, CType::kDouble)) return 0;
  if (in_.size() - pos_ < 8) {
    Fail("unexpected end of data");
    return 0;
  }
  double v;
  std::memcpy(&v, in_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

bool ThriftReader::EnterStruct(const ThriftField& f) {
  if (!Expect(f, CType::kStruct)) return false;
  BeginStruct();
  return ok();
}

size_t ThriftReader::ReadListHeader(const ThriftField& f, CType elem) {
  if (!Expect(f, CType::kList)) return 0;
  CType got;
  const size_t n = ListHeader(&got);
  const bool bools = (got == CType::kBoolTrue || got == CType::kBoolFalse) &&
                     (elem == CType::kBoolTrue || elem == CType::kBoolFalse);
  if (ok() && got != elem && !bools) {
    Fail(StrCat("list of field ", f.id, " has elements of type ", static_cast<int>(got),
                ", expected ", static_cast<int>(elem)));
    return 0;
  }
  return ok() ? n : 0;
}

size_t ThriftReader::ListHeader(CType* elem) {
  const uint8_t b = Byte();
  *elem = static_cast<CType>(b & 0x0F);
  uint64_t n = b >> 4;
  if (n == 15) n = Varint();
  // Every element takes at least one byte: a larger count is corrupt, and
  // checking here keeps a decoder from reserving memory for it.
  if (ok() && n > in_.size() - pos_) Fail(StrCat("list of ", n, " elements in fewer bytes"));
  return ok() ? static_cast<size_t>(n) : 0;
}

int32_t ThriftReader::I32() {
  const int64_t v = UnZigZag(Varint());
  if (v < INT32_MIN || v > INT32_MAX) Fail("i32 out of range");
  return ok() ? static_cast<int32_t>(v) : 0;
}

int64_t ThriftReader::I64() { return UnZigZag(Varint()); }

std::string_view ThriftReader::Binary() {
  const uint64_t n = Varint();
  if (!ok()) return {};
  if (n > in_.size() - pos_) {
    Fail(StrCat("binary of ", n, " bytes past the end"));
    return {};
  }
  std::string_view v = in_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return v;
}

bool ThriftReader::ListBool() {
  const uint8_t b = Byte();
  if (b > 2) Fail("bad bool element");
  return b == 1;
}

void ThriftReader::Skip(CType type) {
  ThriftField f;
  CType elem;
  switch (type) {
    case CType::kBoolTrue:
    case CType::kBoolFalse:
      return;  // a field's bool lives in its header; list elements use SkipElement
    case CType::kI8:
      Byte();
      return;
    case CType::kI16:
    case CType::kI32:
    case CType::kI64:
      Varint();
      return;
    case CType::kDouble:
      if (in_.size() - pos_ < 8) Fail("unexpected end of data");
      pos_ += ok() ? 8 : 0;
      return;
    case CType::kBinary:
      Binary();
      return;
    case CType::kStruct:
      BeginStruct();
      while (NextField(&f)) Skip(f.type);
      return;
    case CType::kList:
    case CType::kSet: {
      const size_t n = ListHeader(&elem);
      for (size_t i = 0; i < n && ok(); ++i) SkipElement(elem);
      return;
    }
    case CType::kMap:
      SkipMap();
      return;
    default:
      Fail(StrCat("unknown type ", static_cast<int>(type)));
  }
}

void ThriftReader::SkipElement(CType type) {
  if (type == CType::kBoolTrue || type == CType::kBoolFalse) {
    ListBool();
    return;
  }
  if (++depth_ > kMaxDepth) {
    Fail("values nested too deep");
  } else {
    Skip(type);
  }
  --depth_;
}

void ThriftReader::SkipMap() {
  const uint64_t n = Varint();
  if (n == 0 || !ok()) return;
  const uint8_t types = Byte();
  if (n > in_.size() - pos_) Fail(StrCat("map of ", n, " entries in fewer bytes"));
  for (uint64_t i = 0; i < n && ok(); ++i) {
    SkipElement(static_cast<CType>(types >> 4));
    SkipElement(static_cast<CType>(types & 0x0F));
  }
}

}  // namespace vigil::parquet
