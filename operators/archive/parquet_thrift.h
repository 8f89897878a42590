// operators/archive/parquet_thrift.h
//
// The Thrift compact protocol, the encoding of every Parquet footer and
// page header (operators/archive/parquet_format.h builds the Parquet
// structs on it). Only what those structs use: structs, lists, bools,
// i16/i32/i64 (zigzag varints), binary; no maps, sets or messages.
//
// Writing. A struct is a series of fields, each with a header that holds
// the delta from the previous field id (1..15) and the type in one byte, or
// the type then the zigzag id when the delta does not fit; a 0 byte ends
// the struct. A bool field is its header alone (type 1 true, 2 false). A
// list header is one byte (size << 4 | type) below 15 elements, else
// 0xF0 | type then the size as a varint.
//
// Reading never trusts its input: every read checks the bytes left, a list
// cannot announce more elements than bytes remain, nesting is bounded, and
// the first problem makes the reader fail for good (`ok()` false, `error()`
// says what and where), as base/codec.h does. Fields a decoder does not know
// are skipped.
//
// Example:
//   ThriftWriter w;
//   w.FieldI32(1, 2);             // 0x15 0x04
//   w.FieldBinary(4, "ts");       // 0x38 0x02 't' 's'
//   w.EndStruct();                // 0x00
//   ThriftReader r(w.data());
//   ThriftField f;
//   while (r.NextField(&f)) { if (f.id == 1) n = r.ReadI32(f); else r.Skip(f.type); }
//   r.ok();
#ifndef VIGIL_OPERATORS_ARCHIVE_PARQUET_THRIFT_H_
#define VIGIL_OPERATORS_ARCHIVE_PARQUET_THRIFT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::parquet {

// Compact protocol type codes of fields and list elements. In a list, a bool
// element is kBoolTrue / kBoolFalse too (readers also accept 0 as false).
enum class CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

uint64_t ZigZag(int64_t v);
int64_t UnZigZag(uint64_t v);

class ThriftWriter {
 public:
  // The top-level struct is open from the start; EndStruct closes it.
  void FieldI16(int16_t id, int16_t v);
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBool(int16_t id, bool v);
  void FieldBinary(int16_t id, std::string_view v);
  void FieldDouble(int16_t id, double v);
  // Opens a nested struct (a union is a struct with one field set).
  void FieldStruct(int16_t id);
  void FieldList(int16_t id, CType elem, size_t size);
  void EndStruct();

  // List elements, after FieldList / ListHeader.
  void ListHeader(CType elem, size_t size);
  void I32(int32_t v) { Varint(ZigZag(v)); }
  void I64(int64_t v) { Varint(ZigZag(v)); }
  void Binary(std::string_view v);
  void BeginStruct();  // a struct element of a list

  void Varint(uint64_t v);
  const std::string& data() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  void FieldHeader(int16_t id, CType type);

  std::string out_;
  std::vector<int16_t> last_ids_ = {0};
};

struct ThriftField {
  int16_t id = 0;
  CType type = CType::kStop;
};

class ThriftReader {
 public:
  explicit ThriftReader(std::string_view in) : in_(in) {}

  // The next field of the current struct, or false at its end (the stop
  // byte is consumed and the enclosing struct resumes) or on an error.
  bool NextField(ThriftField* f);
  // Enters a nested struct: a struct-typed field or a struct list element.
  // Fails beyond a nesting of kMaxDepth.
  void BeginStruct();

  // Field values; a field of another type than expected fails the reader.
  bool ReadBool(const ThriftField& f);
  int16_t ReadI16(const ThriftField& f);
  int32_t ReadI32(const ThriftField& f);
  int64_t ReadI64(const ThriftField& f);
  std::string_view ReadBinary(const ThriftField& f);
  double ReadDouble(const ThriftField& f);
  // Checks that `f` is a struct and enters it.
  bool EnterStruct(const ThriftField& f);
  // Checks that `f` is a list of `elem` and returns its size (0 on error).
  size_t ReadListHeader(const ThriftField& f, CType elem);

  // List elements.
  size_t ListHeader(CType* elem);
  int32_t I32();
  int64_t I64();
  std::string_view Binary();
  bool ListBool();

  // Skips one field value of `type` (a whole struct or list, nested ones
  // too); SkipElement skips a list element (where a bool takes a byte).
  void Skip(CType type);
  void SkipElement(CType type);

  uint64_t Varint();
  uint8_t Byte();
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(std::string_view what);
  // Bytes consumed so far.
  size_t position() const { return pos_; }

  static constexpr size_t kMaxDepth = 32;

 private:
  bool Expect(const ThriftField& f, CType want);
  void SkipMap();

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
  std::vector<int16_t> last_ids_ = {0};  // one per open struct
  size_t depth_ = 0;                     // of lists and maps being skipped
};

}  // namespace vigil::parquet

#endif  // VIGIL_OPERATORS_ARCHIVE_PARQUET_THRIFT_H_
