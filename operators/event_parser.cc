#include "operators/event_parser.h"

#include <cmath>

#include "windows/strings.h"

namespace vigil {

std::string_view DeadReasonName(DeadReason r) {
  switch (r) {
    case DeadReason::kMalformedJson: return "malformed_json";
    case DeadReason::kNotObject: return "not_an_object";
    case DeadReason::kMissingTs: return "missing_ts";
    case DeadReason::kBadTs: return "bad_ts";
    case DeadReason::kMissingType: return "missing_type";
    case DeadReason::kWrongType: return "wrong_type";
    case DeadReason::kOversized: return "oversized";
    case DeadReason::kLate: return "late";
  }
  return "?";
}

namespace {
constexpr TimeMs kMaxEventTime = 253402300799999;  // 9999-12-31T23:59:59.999Z

// Whether a field value may stand where the rules use it; missing and null
// fit everywhere (the rules test for them).
inline bool Fits(Type want, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNumber: return want == Type::kNumber;
    case Value::Kind::kString: return want == Type::kString;
    case Value::Kind::kBool: return want == Type::kBool;
    default: return true;
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
    case simdjson::dom::element_type::INT64: *out = ts.get_int64().value_unsafe(); break;
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
    : fields_(fields), max_bytes_(max_bytes) {
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
  if (parser_.allocate(max_bytes_ + 64) != simdjson::SUCCESS) {
    max_bytes_ = 0;  // every record is then reported oversized rather than crashing
  }
}

int EventParser::AddPath(std::string_view path, int slot) {
  int node = 0;
  std::vector<std::string_view> parts = StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    Node::Entry* found = nullptr;
    for (Node::Entry& e : nodes_[node].entries) {
      if (e.key == parts[i]) found = &e;
    }
    if (found == nullptr) {
      Node& n = nodes_[node];
      const size_t b = Node::Bucket(parts[i]);
      n.entries.push_back({std::string(parts[i]), -1, -1, n.buckets[b]});
      n.buckets[b] = static_cast<int16_t>(n.entries.size() - 1);
      found = &n.entries.back();
    }
    if (last) {
      found->slot = slot;
      found->expected = fields_.expected(slot);
    } else {
      if (found->child < 0) {
        found->child = static_cast<int>(nodes_.size());
        nodes_.emplace_back();  // invalidates `found`, so re-fetch below
        nodes_[node].entries.back().child = found->child;
      }
      int next = -1;
      for (Node::Entry& e : nodes_[node].entries) {
        if (e.key == parts[i]) next = e.child;
      }
      node = next;
    }
  }
  return node;
}

namespace {

Value ToValue(simdjson::dom::element v) {
  using T = simdjson::dom::element_type;
  switch (v.type()) {
    case T::STRING: return Value::String(v.get_string().value_unsafe());
    case T::INT64: return Value::Number(static_cast<double>(v.get_int64().value_unsafe()));
    case T::UINT64: return Value::Number(static_cast<double>(v.get_uint64().value_unsafe()));
    case T::DOUBLE: return Value::Number(v.get_double().value_unsafe());
    case T::BOOL: return Value::Bool(v.get_bool().value_unsafe());
    case T::NULL_VALUE: return Value::Null();
    default: return Value::Missing();  // arrays and objects: see Walk
  }
}

}  // namespace

bool EventParser::Walk(simdjson::dom::object obj, int node, Event* ev, ParseError* err) {
  const Node& n = nodes_[node];
  for (auto field : obj) {
    const Node::Entry* found = n.Find(field.key);
    if (found == nullptr) continue;
    {
      const Node::Entry& e = *found;
      const bool is_object = field.value.is_object();
      if (e.child >= 0 && is_object) {
        if (!Walk(field.value.get_object().value_unsafe(), e.child, ev, err)) return false;
      }
      if (e.slot >= 0) {
        if (is_object || field.value.is_array()) {
          *err = {DeadReason::kWrongType,
                  StrCat("field '", fields_.path(e.slot), "' is ",
                         is_object ? "an object" : "an array", "; rules read it as a value")};
          return false;
        }
        Value& v = ev->slots[e.slot];
        v = ToValue(field.value);
        if (e.expected != Type::kAny && !Fits(e.expected, v) && WrongType(e, v, err)) return false;
      }
    }
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

bool EventParser::WrongType(const Node::Entry& e, const Value& v, ParseError* err) const {
  const Type want = e.expected;
  if (want == Type::kAny || v.is_nullish()) return false;
  const bool fits = (want == Type::kNumber && v.is_number()) ||
                    (want == Type::kString && v.is_string()) ||
                    (want == Type::kBool && v.is_bool());
  if (fits) return false;
  *err = {DeadReason::kWrongType, StrCat("field '", fields_.path(e.slot), "' is a ",
                                         KindName(v.kind), ", rules expect a ", TypeName(want))};
  return true;
}

bool EventParser::Parse(std::string_view record, Event* ev, ParseError* err) {
  if (record.size() > max_bytes_) {
    *err = {DeadReason::kOversized,
            StrCat("record of ", record.size(), " bytes is over the limit of ", max_bytes_)};
    return false;
  }
  simdjson::dom::element doc;
  if (auto e = parser_.parse(record.data(), record.size(), false).get(doc)) {
    *err = {DeadReason::kMalformedJson, simdjson::error_message(e)};
    return false;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    *err = {DeadReason::kNotObject, "a record must be a JSON object"};
    return false;
  }
  simdjson::dom::element ts;
  if (obj["ts"].get(ts)) {
    *err = {DeadReason::kMissingTs, "no 'ts' field"};
    return false;
  }
  std::string_view ts_text;
  if (ts.is_string()) ts_text = ts.get_string().value_unsafe();
  if (ts_text.empty() || !FastTime(ts_text, &ev->ts)) {
    if (!ParseEventTime(ts, &ev->ts, &err->detail)) {
      err->reason = DeadReason::kBadTs;
      return false;
    }
    if (!ts_text.empty()) RememberTime(ts_text, ev->ts);
  }
  simdjson::dom::element type;
  if (obj["type"].get(type) || !type.is_string()) {
    *err = {DeadReason::kMissingType, "no string 'type' field"};
    return false;
  }
  // Every reader looks at `kind` first, so resetting the kind is enough to
  // make a slot missing; rewriting whole Values per event is measurable.
  if (ev->slots.size() != static_cast<size_t>(fields_.size())) {
    ev->slots.assign(static_cast<size_t>(fields_.size()), Value::Missing());
  } else {
    for (Value& v : ev->slots) v.kind = Value::Kind::kMissing;
  }
  if (!Walk(obj, 0, ev, err)) return false;
  if (ts_slot_ >= 0) ev->slots[ts_slot_] = Value::Number(static_cast<double>(ev->ts));
  return true;
}

}  // namespace vigil
