// libFuzzer target: the archive's Parquet writer and reader (see
// scripts/fuzz.sh).
//
// The input drives a generator of a batch of records: how many, which of the
// archive's columns and which other keys each has (duplicates too), and
// values of every JSON type: strings with unicode, escapes and up to a few
// kB, integers at the int64/uint64 edges and past 2^53, doubles from 5e-324
// to 1e308, timestamps as RFC 3339 strings (zones, fractions, years 0000 and
// 9999, invalid dates) or epoch milliseconds in and out of range, nested
// arrays and objects, now and then a record that is not an object. Beyond
// "no crash, no sanitizer report":
//   - a batch with a record that is not a JSON object is refused with
//     InvalidArgument, any other batch encodes;
//   - the file reads back to as many records, each equal to its input
//     member by member once parsed (the last occurrence of a key counts, a
//     null column is a missing member, `ts` compares as the time it reads
//     as, numbers by value);
//   - the file with bytes overwritten (from the rest of the input), and the
//     raw input, read back as an error or as records that are JSON objects.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "operators/archive/parquet_reader.h"
#include "operators/archive/parquet_writer.h"
#include "tests/operators/archive/canonical_json.h"

namespace {

using vigil::AppendJsonString;
using vigil::StrAppend;
using vigil::StrCat;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "parquet_writer_fuzz: %s\n", what.c_str());
  std::abort();
}

std::string Pick(FuzzedDataProvider& in, std::initializer_list<std::string_view> options) {
  const size_t i = in.ConsumeIntegralInRange<size_t>(0, options.size() - 1);
  return std::string(*(options.begin() + i));
}

std::string GenString(FuzzedDataProvider& in) {
  std::string s;
  const int pieces = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < pieces; ++i) {
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0:
        s += in.ConsumeRandomLengthString(16);  // any bytes: escaped, or U+FFFD
        break;
      case 1:
        s += Pick(in, {"é", "日本語", "🎉", "\n", "\"", "\\", "/", std::string_view("\0", 1), "\x1f",
                       "faq", "message", "\u2028"});
        break;
      case 2:
        s += std::string(in.ConsumeIntegralInRange(0, 3000), 'x');
        break;
      default:
        s += Pick(in, {"a", "b", "c", ""});
    }
  }
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string GenTimestampString(FuzzedDataProvider& in) {
  std::string s = Pick(in, {"0000", "1969", "1970", "2026", "9999", "12345"});
  StrAppend(&s, "-", Pick(in, {"01", "02", "12", "13"}), "-",
            Pick(in, {"01", "28", "29", "31", "00"}), Pick(in, {"T", "t", " ", "x"}),
            Pick(in, {"00:00:00", "23:59:59", "23:59:60", "12:30:00"}));
  s += Pick(in, {"", ".5", ".123", ".123456789", "."});
  s += Pick(in, {"Z", "z", "+02:00", "-01:00", "+23:59", "", "+2"});
  return "\"" + s + "\"";
}

std::string GenNumber(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      return StrCat(in.ConsumeIntegralInRange<int64_t>(-1000, 1000));
    case 1:
      return Pick(in, {"9223372036854775807",
                       "-9223372036854775808",
                       "18446744073709551615",
                       "9007199254740992",
                       "9007199254740993",
                       "-9007199254740993",
                       "1e16",
                       "2.0",
                       "-0.0",
                       "-0",
                       "1e308",
                       "5e-324",
                       "0.1",
                       "1767225600000",
                       "253402300799999",
                       "253402300800000",
                       "-62167219200000",
                       "-62167219200001",
                       "1767225600000.5",
                       "1E3"});
    case 2: {
      double d = in.ConsumeFloatingPoint<double>();
      if (!std::isfinite(d)) d = 0;
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      return buf;
    }
    case 3:
      return StrCat(in.ConsumeIntegral<int64_t>());
    default:
      return StrCat(in.ConsumeIntegralInRange<int64_t>(0, 1000), ".",
                    in.ConsumeIntegral<uint8_t>());
  }
}

std::string GenValue(FuzzedDataProvider& in, int depth);

std::string GenContainer(FuzzedDataProvider& in, int depth, bool object) {
  std::string s(1, object ? '{' : '[');
  const int n = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < n; ++i) {
    if (i > 0) s += ',';
    if (object) s += GenString(in) + ":";
    s += GenValue(in, depth + 1);
  }
  return s + (object ? '}' : ']');
}

std::string GenValue(FuzzedDataProvider& in, int depth) {
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0:
      return "null";
    case 1:
      return in.ConsumeBool() ? "true" : "false";
    case 2:
    case 3:
      return GenNumber(in);
    case 4:
    case 5:
      return GenString(in);
    case 6:
      return GenTimestampString(in);
    case 7:
      return depth < 3 ? GenContainer(in, depth, false) : "[]";
    case 8:
      return depth < 3 ? GenContainer(in, depth, true) : "{}";
    default:
      return Pick(in, {"\"message\"", "\"faq\"", "\"bedrock\"", "\"open\"", "1", "0.5"});
  }
}

std::string GenRecord(FuzzedDataProvider& in) {
  if (in.ConsumeIntegralInRange(0, 40) == 0) {
    return Pick(in, {"[1]", "\"x\"", "{", "", "1", "{\"a\":1}x", "{\"a\":1e400}"});
  }
  const std::span<const vigil::ArchiveColumn> columns = vigil::ArchiveParquetColumns();
  std::string s = in.ConsumeIntegralInRange(0, 20) == 0 ? "\xEF\xBB\xBF{" : "{";
  const int fields = in.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < fields; ++i) {
    if (i > 0) s += ',';
    const size_t key = in.ConsumeIntegralInRange<size_t>(0, columns.size() + 3);
    if (key < columns.size()) {
      AppendJsonString(columns[key].name, &s);
    } else {
      s += GenString(in);
    }
    s += ':';
    s += key == 0 && in.ConsumeBool() ? GenTimestampString(in) : GenValue(in, 0);
  }
  return s + "}";
}

// `ts` as the time an event parser reads from it, or its canonical JSON.
std::string TsKey(simdjson::dom::element e) {
  std::optional<int64_t> t;
  if (e.is_string()) {
    t = vigil::ParseRfc3339(e.get_string().value_unsafe());
  } else if (e.is_int64()) {
    t = e.get_int64().value_unsafe();
  } else if (e.is_double()) {
    const double d = e.get_double().value_unsafe();
    if (d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) t = static_cast<int64_t>(d);
  }
  if (t) return StrCat("time ", *t);
  std::string out;
  vigil::AppendCanonical(e, &out);
  return out;
}

// The members of a record as a reader that keeps the last occurrence of a
// key gets them, a null in a column being no member.
std::map<std::string, std::string> Members(std::string_view record) {
  if (record.starts_with("\xEF\xBB\xBF")) record.remove_prefix(3);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(record.data(), record.size()).get_object().get(object)) {
    Fail(StrCat("not an object: ", record));
  }
  std::map<std::string, std::string> members;
  for (simdjson::dom::key_value_pair field : object) {
    std::string value;
    if (field.key == "ts") {
      value = TsKey(field.value);
    } else {
      vigil::AppendCanonical(field.value, &value);
    }
    members[std::string(field.key)] = value;
  }
  for (const vigil::ArchiveColumn& c : vigil::ArchiveParquetColumns()) {
    const auto it = members.find(std::string(c.name));
    if (c.name != vigil::kExtraColumn && it != members.end() && it->second == "null") {
      members.erase(it);
    }
  }
  return members;
}

bool IsObject(std::string_view record) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (record.starts_with("\xEF\xBB\xBF")) record.remove_prefix(3);
  return !parser.parse(record.data(), record.size()).get_object().get(object);
}

// Reads `file`; every record it yields must be a JSON object.
void ReadAnything(std::string_view file) {
  (void)vigil::ReadParquetRecords(file, [](std::string_view record) {
    if (!IsObject(record)) Fail(StrCat("a record that is not a JSON object: ", record));
  });
}

void CheckRoundTrip(const std::vector<std::string>& records, const std::string& file) {
  std::vector<std::string> back;
  const absl::Status s =
      vigil::ReadParquetRecords(file, [&](std::string_view r) { back.emplace_back(r); });
  if (!s.ok()) Fail(StrCat("cannot read back: ", std::string(s.message())));
  if (back.size() != records.size()) Fail("another number of records read back");
  for (size_t i = 0; i < records.size(); ++i) {
    if (Members(records[i]) != Members(back[i])) {
      Fail(StrCat("record ", i, " differs:\n  in:  ", records[i], "\n  out: ", back[i]));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ReadAnything(std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  vigil::ParquetBatchOptions options;
  options.compression_level = in.ConsumeIntegralInRange(-5, 5);
  options.row_group_rows = in.ConsumeIntegralInRange<size_t>(0, 40);
  std::vector<std::string> records(in.ConsumeIntegralInRange(0, 30));
  bool all_objects = true;
  for (std::string& r : records) {
    r = GenRecord(in);
    all_objects = all_objects && IsObject(r);
  }
  const std::vector<std::string_view> views(records.begin(), records.end());
  absl::StatusOr<std::string> file = vigil::EncodeParquetBatch(views, options);
  if (!all_objects) {
    if (file.ok() || file.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("a batch with a record that is not an object was not refused");
    }
    return 0;
  }
  if (!file.ok()) Fail(StrCat("cannot encode: ", std::string(file.status().message())));
  CheckRoundTrip(records, *file);
  std::string patched = *file;
  while (in.remaining_bytes() >= 5) {
    const size_t at = in.ConsumeIntegral<uint32_t>() % patched.size();
    patched[at] = static_cast<char>(in.ConsumeIntegral<uint8_t>());
  }
  ReadAnything(patched);
  return 0;
}
