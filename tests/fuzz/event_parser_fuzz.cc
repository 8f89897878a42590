// libFuzzer target: EventParser over arbitrary bytes (see scripts/fuzz.sh).
//
// The field table has a field of every type the rules can expect, nested
// paths, and `ts` and `type` read as fields, like a rule set would. Beyond
// "no crash, no sanitizer report", every input must give:
//   - the same answer from a parser primed by earlier records (its minute
//     cache of timestamps) and from a fresh one;
//   - for an accepted record, an event time in years 1970..9999, finite
//     numbers, and every field of the type the rules expect (or null or
//     missing);
//   - for a rejected one, a known reason and a detail for the dead letter.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "operators/parse/event_parser.h"
#include "rules/field_table.h"

namespace {

using vigil::DeadReason;
using vigil::Event;
using vigil::EventParser;
using vigil::FieldTable;
using vigil::ParseError;
using vigil::Type;
using vigil::Value;

constexpr size_t kMaxBytes = 1 << 16;
constexpr int64_t kMaxEventTime = 253402300799999;  // 9999-12-31T23:59:59.999Z

FieldTable* Fields() {
  static FieldTable* fields = [] {
    auto* f = new FieldTable();
    const struct {
      const char* path;
      Type type;
    } wanted[] = {{"type", Type::kString},        {"ts", Type::kNumber},
                  {"latency_ms", Type::kNumber},  {"llm_timeout", Type::kBool},
                  {"intent", Type::kString},      {"session_id", Type::kAny},
                  {"meta.region", Type::kString}, {"meta.zone.id", Type::kNumber},
                  {"a.b.c.d", Type::kBool}};
    for (const auto& w : wanted) {
      const int slot = f->Intern(w.path);
      if (w.type != Type::kAny && f->Expect(slot, w.type)) std::abort();
    }
    return f;
  }();
  return fields;
}

bool Fits(Type want, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kMissing:
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return want == Type::kAny || want == Type::kBool;
    case Value::Kind::kNumber:
      return want == Type::kAny || want == Type::kNumber;
    case Value::Kind::kString:
      return want == Type::kAny || want == Type::kString;
  }
  return false;
}

bool SameValue(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kBool:
      return a.b == b.b;
    case Value::Kind::kNumber:
      return a.num == b.num;
    case Value::Kind::kString:
      return a.str == b.str;
    default:
      return true;
  }
}

void Check(bool ok, const Event& ev, const ParseError& err) {
  const FieldTable& fields = *Fields();
  if (!ok) {
    if (static_cast<int>(err.reason) >= vigil::kDeadReasonCount) std::abort();
    if (err.reason == DeadReason::kLate || err.reason == DeadReason::kFuture ||
        err.reason == DeadReason::kBadPartial || err.detail.empty())
      std::abort();
    return;
  }
  if (ev.ts < 0 || ev.ts > kMaxEventTime) std::abort();
  if (ev.slots.size() != static_cast<size_t>(fields.size())) std::abort();
  for (int slot = 0; slot < fields.size(); ++slot) {
    const Value& v = ev.slots[slot];
    if (!Fits(fields.expected(slot), v)) std::abort();
    if (v.is_number() && !std::isfinite(v.num)) std::abort();
  }
  if (ev.slots[*fields.Find("ts")].num != static_cast<double>(ev.ts)) std::abort();
  if (!ev.slots[*fields.Find("type")].is_string()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EventParser* primed = new EventParser(*Fields(), kMaxBytes);
  // Sources hand records over followed by simdjson's padding.
  std::string buf(reinterpret_cast<const char*>(data), size);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  const std::string_view record(buf.data(), size);

  Event ev;
  ParseError err;
  const bool ok = primed->Parse(record, &ev, &err);
  Check(ok, ev, err);

  EventParser fresh(*Fields(), kMaxBytes);
  Event ev2;
  ParseError err2;
  const bool ok2 = fresh.Parse(record, &ev2, &err2);
  if (ok != ok2) std::abort();
  if (!ok) {
    if (err.reason != err2.reason || err.detail != err2.detail) std::abort();
    return 0;
  }
  if (ev.ts != ev2.ts) std::abort();
  for (size_t i = 0; i < ev.slots.size(); ++i) {
    if (!SameValue(ev.slots[i], ev2.slots[i])) std::abort();
  }
  return 0;
}
