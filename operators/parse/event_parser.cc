#include "operators/parse/event_parser.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/strings.h"

namespace vigil {

namespace {
constexpr TimeMs kMaxEventTime = 253402300799999;  // 9999-12-31T23:59:59.999Z
// What a parser holds room for until a longer record comes.
constexpr size_t kInitialCapacity = 64 * 1024;

// Whether a field value may stand where the rules use it; missing and null
// fit everywhere (the rules test for them).
inline bool Fits(Type want, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNumber:
      return want == Type::kNumber;
    case Value::Kind::kString:
      return want == Type::kString;
    case Value::Kind::kBool:
      return want == Type::kBool;
    default:
      return true;
  }
}
}  // namespace

bool ParseEventTime(simdjson::dom::element ts, TimeMs* out, std::string* detail) {
  switch (ts.type()) {
    case simdjson::dom::element_type::STRING: {
      std::string_view s = ts.get_string().value_unsafe();
      std::optional<TimeMs> t = ParseRfc3339(s);
      if (!t) {
        *detail = StrCat("ts '", s.substr(0, 64),
                         "' is not an RFC 3339 time with a zone (e.g. 2026-11-24T12:00:00Z)");
        return false;
      }
      *out = *t;
      break;
    }
    case simdjson::dom::element_type::INT64:
      *out = ts.get_int64().value_unsafe();
      break;
    case simdjson::dom::element_type::UINT64:
      *detail = "ts is out of range";
      return false;
    case simdjson::dom::element_type::DOUBLE: {
      double d = ts.get_double().value_unsafe();
      if (d != std::floor(d) || std::fabs(d) > 9e15) {
        *detail = "ts must be integer epoch milliseconds or an RFC 3339 string";
        return false;
      }
      *out = static_cast<TimeMs>(d);
      break;
    }
    default:
      *detail = "ts must be integer epoch milliseconds or an RFC 3339 string";
      return false;
  }
  if (*out < 0 || *out > kMaxEventTime) {
    *detail = StrCat("ts ", *out, " is outside years 1970..9999");
    return false;
  }
  return true;
}

EventParser::EventParser(const FieldTable& fields, size_t max_bytes)
    : fields_(fields), max_bytes_(max_bytes), parser_(max_bytes + 64) {
  nodes_.emplace_back();
  for (int slot = 0; slot < fields.size(); ++slot) {
    const std::string& path = fields.path(slot);
    if (path == "ts") {
      ts_slot_ = slot;
      continue;
    }
    if (path == "type") type_slot_ = slot;
    AddPath(path, slot);
  }
  EntryFor(0, "ts").role = kTs;
  EntryFor(0, "type").role = kType;
  unusable_.assign(static_cast<size_t>(fields.size()), kUsable);
  // Room for a typical record now, grown on demand up to the limit: a
  // parser's buffers hold several bytes per record byte, and with a heap of
  // huge pages every buffer touched (five parsers parse ahead) costs a
  // zeroed 2 MiB page, where the records themselves take a few hundred
  // bytes. (The limit is the constructor's: simdjson 3.0.1's
  // set_max_capacity gets its test backwards.)
  if (parser_.allocate(std::min<size_t>(max_bytes_ + 64, kInitialCapacity)) != simdjson::SUCCESS) {
    max_bytes_ = 0;  // every record is then reported oversized rather than crashing
  }
}

EventParser::Node::Entry& EventParser::EntryFor(int node, std::string_view key) {
  Node& n = nodes_[node];
  for (Node::Entry& e : n.entries) {
    if (e.key == key) return e;
  }
  const size_t b = Node::Bucket(key);
  n.entries.push_back({std::string(key), -1, -1, n.buckets[b]});
  n.buckets[b] = static_cast<int16_t>(n.entries.size() - 1);
  return n.entries.back();
}

int EventParser::AddPath(std::string_view path, int slot) {
  int node = 0;
  std::vector<std::string_view> parts = StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (node != 0) nodes_[node].below.push_back(slot);
    if (i + 1 == parts.size()) {
      Node::Entry& e = EntryFor(node, parts[i]);
      e.slot = slot;
      e.expected = fields_.expected(slot);
      e.not_string = fields_.not_string(slot);
      e.bounded = fields_.range(slot).has_value();
      if (e.bounded) bounded_slots_.push_back(slot);
      break;
    }
    int child = EntryFor(node, parts[i]).child;
    if (child < 0) {
      child = static_cast<int>(nodes_.size());
      nodes_.emplace_back();  // invalidates references into nodes_: look the entry up again
      EntryFor(node, parts[i]).child = child;
    }
    node = child;
  }
  return node;
}

// Inlined into Walk: a call per field is measurable.
inline void EventParser::Assign(const Node::Entry& e, simdjson::dom::element value, Event* ev) {
  using T = simdjson::dom::element_type;
  Value& v = ev->slots[e.slot];
  Unusable unusable = kUsable;
  switch (value.type()) {
    case T::STRING:
      v = Value::String(value.get_string().value_unsafe());
      break;
    case T::INT64:
      v = Value::Number(static_cast<double>(value.get_int64().value_unsafe()));
      break;
    case T::UINT64:
      v = Value::Number(static_cast<double>(value.get_uint64().value_unsafe()));
      break;
    case T::DOUBLE:
      v = Value::Number(value.get_double().value_unsafe());
      break;
    case T::BOOL:
      v = Value::Bool(value.get_bool().value_unsafe());
      break;
    case T::NULL_VALUE:
      v = Value::Null();
      break;
    case T::OBJECT:
      v = Value::Missing();
      unusable = kObject;
      break;
    case T::ARRAY:
      v = Value::Missing();
      unusable = kArray;
      break;
  }
  if (unusable == kUsable &&
      ((e.expected != Type::kAny && !Fits(e.expected, v)) || (e.not_string && v.is_string()))) {
    unusable = kOtherKind;
  }
  if (e.bounded && v.is_number() && !fields_.range(e.slot)->Contains(v.num)) {
    any_out_of_range_ = true;
  }
  // Marks stay when a later occurrence of the key brings a good value:
  // CheckTypes looks at the final value before reporting.
  if (unusable != kUsable) {
    unusable_[e.slot] = unusable;
    any_unusable_ = true;
  }
}

void EventParser::Walk(simdjson::dom::object obj, int node, Event* ev) {
  const Node& n = nodes_[node];
  for (auto field : obj) {
    const Node::Entry* e = n.Find(field.key);
    if (e == nullptr) continue;
    if (e->role != kPlain) {
      if (e->role == kTs) {
        ts_ = field.value;
        has_ts_ = true;
      } else {
        type_ = field.value;
        has_type_ = true;
      }
    }
    if (e->child >= 0) {
      // A repeated key replaces everything an earlier occurrence set below it.
      for (int slot : nodes_[e->child].below) {
        ev->slots[slot].kind = Value::Kind::kMissing;
        unusable_[slot] = kUsable;
      }
      if (field.value.is_object()) Walk(field.value.get_object().value_unsafe(), e->child, ev);
    }
    if (e->slot >= 0) Assign(*e, field.value, ev);
  }
}

bool EventParser::CheckTypes(const Event& ev, ParseError* err) const {
  for (int slot = 0; slot < fields_.size(); ++slot) {
    const Value& v = ev.slots[slot];
    switch (unusable_[slot]) {
      case kUsable:
        break;
      case kObject:
      case kArray:
        // Any later scalar occurrence of the key left a kind other than missing.
        if (!v.is_missing()) break;
        *err = {DeadReason::kWrongType,
                StrCat("field '", fields_.path(slot), "' is ",
                       unusable_[slot] == kObject ? "an object" : "an array", ", rules expect ",
                       fields_.expected(slot) == Type::kAny
                           ? std::string("a string, number or boolean")
                           : StrCat("a ", TypeName(fields_.expected(slot))))};
        return false;
      case kOtherKind:
        if (fields_.not_string(slot) && v.is_string()) {
          // When the rules also read it as a number only, that is what fits.
          const bool number_only = fields_.expected(slot) == Type::kNumber;
          *err = {DeadReason::kWrongType,
                  StrCat("field '", fields_.path(slot), "' is a string, rules expect ",
                         number_only ? "a number" : "a number or a boolean (a metric's last())")};
          return false;
        }
        if (fields_.expected(slot) == Type::kAny || Fits(fields_.expected(slot), v)) break;
        *err = {DeadReason::kWrongType,
                StrCat("field '", fields_.path(slot), "' is a ", KindName(v.kind),
                       ", rules expect a ", TypeName(fields_.expected(slot)))};
        return false;
    }
  }
  return true;
}

bool EventParser::CheckRanges(const Event& ev, ParseError* err) const {
  for (int slot : bounded_slots_) {
    const Value& v = ev.slots[slot];
    const FieldTable::Range& r = *fields_.range(slot);
    if (!v.is_number() || r.Contains(v.num)) continue;
    *err = {DeadReason::kOutOfRange,
            StrCat("field '", fields_.path(slot), "' is ", v.num, ", outside the schema's range ",
                   std::isinf(r.min) ? std::string("(-inf") : StrCat("[", r.min), ", ",
                   std::isinf(r.max) ? std::string("+inf)") : StrCat(r.max, "]"))};
    return false;
  }
  return true;
}

namespace {
bool TwoDigits(const char* p, int* v) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return false;
  *v = (p[0] - '0') * 10 + (p[1] - '0');
  return true;
}
// "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.mmmZ": seconds and millis
// after the 16-character minute prefix.
bool SecondsAndMillis(std::string_view s, int* sec, int* ms) {
  if (s.size() == 20 && s[19] == 'Z') {
    *ms = 0;
  } else if (s.size() == 24 && s[19] == '.' && s[23] == 'Z') {
    int hi, lo;
    if (!TwoDigits(s.data() + 20, &hi) || s[22] < '0' || s[22] > '9') return false;
    lo = s[22] - '0';
    *ms = hi * 10 + lo;
  } else {
    return false;
  }
  return s[16] == ':' && TwoDigits(s.data() + 17, sec) && *sec <= 59;
}
}  // namespace

bool EventParser::FastTime(std::string_view s, TimeMs* out) {
  int sec, ms;
  if (minute_base_ == kMinTime || !SecondsAndMillis(s, &sec, &ms) ||
      std::memcmp(s.data(), minute_prefix_, 16) != 0)
    return false;
  *out = minute_base_ + sec * 1000 + ms;
  return true;
}

void EventParser::RememberTime(std::string_view s, TimeMs t) {
  int sec, ms;
  if (!SecondsAndMillis(s, &sec, &ms)) return;
  std::memcpy(minute_prefix_, s.data(), 16);
  minute_base_ = t - sec * 1000 - ms;
}

bool EventParser::Parse(std::string_view record, Event* ev, ParseError* err) {
  if (record.size() > max_bytes_) {
    *err = {DeadReason::kOversized,
            StrCat("record of ", record.size(), " bytes is over the limit of ", max_bytes_)};
    return false;
  }
  // RFC 8259 (section 8.1) lets a parser ignore a byte order mark; editors
  // on Windows put one at the start of a file.
  if (record.size() >= 3 && std::memcmp(record.data(), "\xEF\xBB\xBF", 3) == 0) {
    record.remove_prefix(3);
  }
  simdjson::dom::element doc;
  if (auto e = parser_.parse(record.data(), record.size(), false).get(doc)) {
    *err = {DeadReason::kMalformedJson,
            e == simdjson::NUMBER_ERROR
                ? "a number that is malformed (01, 1., -) or out of range: beyond ±1.8e308, or "
                  "an integer beyond 64 bits written without a fraction or exponent (write "
                  "1.2e29)"
            : e == simdjson::EMPTY
                ? "no JSON: the record is empty or holds only whitespace or a byte order mark"
                : simdjson::error_message(e)};
    return false;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    *err = {DeadReason::kNotObject, "a record must be a JSON object"};
    return false;
  }
  // Every reader looks at `kind` first, so resetting the kind is enough to
  // make a slot missing; rewriting whole Values per event is measurable.
  if (ev->slots.size() != static_cast<size_t>(fields_.size())) {
    ev->slots.assign(static_cast<size_t>(fields_.size()), Value::Missing());
  } else {
    for (Value& v : ev->slots) v.kind = Value::Kind::kMissing;
  }
  if (any_unusable_) {
    std::fill(unusable_.begin(), unusable_.end(), kUsable);
    any_unusable_ = false;
  }
  any_out_of_range_ = false;
  has_ts_ = has_type_ = false;
  // One pass over the record finds `ts`, `type` and the rule fields; each
  // holds its last occurrence, and the checks below look at those only.
  Walk(obj, 0, ev);
  if (!has_ts_) {
    *err = {DeadReason::kMissingTs, "no 'ts' field"};
    return false;
  }
  std::string_view ts_text;
  if (ts_.is_string()) ts_text = ts_.get_string().value_unsafe();
  if (ts_text.empty() || !FastTime(ts_text, &ev->ts)) {
    if (!ParseEventTime(ts_, &ev->ts, &err->detail)) {
      err->reason = DeadReason::kBadTs;
      return false;
    }
    if (!ts_text.empty()) RememberTime(ts_text, ev->ts);
  }
  if (!has_type_ || !type_.is_string()) {
    *err = {DeadReason::kMissingType, "no string 'type' field"};
    return false;
  }
  ev->type_class = static_cast<uint8_t>(fields_.TypeClassOf(type_.get_string().value_unsafe()));
  if (any_unusable_ && !CheckTypes(*ev, err)) return false;
  if (any_out_of_range_ && !CheckRanges(*ev, err)) return false;
  if (ts_slot_ >= 0) ev->slots[ts_slot_] = Value::Number(static_cast<double>(ev->ts));
  return true;
}

}  // namespace vigil
