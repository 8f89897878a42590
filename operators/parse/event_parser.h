// operators/parse/event_parser.h
//
// EventParser turns one raw record (a JSON object) into the event-time and
// the field slots that the loaded rules read (see rules/field_table.h). It
// parses with simdjson, walks the object once, and copies out only the
// fields some rule names; strings stay views into the parser's buffer,
// valid until the next Parse.
//
// Every record that cannot be an event is rejected with a reason, never
// dropped: malformed JSON (including invalid UTF-8, NaN, over-deep nesting),
// a non-object, a missing or unparsable `ts`, a missing `type`, a field of a
// type the rules cannot use, a numeric field outside the range the rule
// file's `schema:` gives it (out_of_range), or a record over the size
// limit. When a record has several faults, the first in that order is
// reported.
//
// A key that appears more than once has the value of its last occurrence,
// as in JavaScript's JSON.parse and Python's json: for `ts`, `type` and every
// field alike, and a value replaced by a later one is not checked. A UTF-8
// byte order mark before the object is ignored (RFC 8259, section 8.1).
//
// Example:
//   EventParser parser(rules.fields, 1 << 20);
//   Event ev;
//   ParseError err;
//   if (!parser.Parse(record, &ev, &err)) dead_letter.Write(err.reason, err.detail, ...);
//   ev.ts;                           // event time, ms since the epoch
//   ev.slots[fields.Find("intent")]  // Value::String("faq")
#ifndef VIGIL_OPERATORS_PARSE_EVENT_PARSER_H_
#define VIGIL_OPERATORS_PARSE_EVENT_PARSER_H_

#include <simdjson.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "operators/source/dead_reason.h"
#include "rules/field_table.h"
#include "rules/program.h"
#include "rules/value.h"

namespace vigil {

struct Event {
  TimeMs ts = 0;
  std::vector<Value> slots;
  // The class of its `type` (rules/type_classes.h); the parser sets it,
  // other events (a stream's records) leave it unknown.
  uint8_t type_class = Program::kNoTypeClass;
};

struct ParseError {
  DeadReason reason;
  std::string detail;
};

class EventParser {
 public:
  // `max_bytes`: records longer than this are rejected as oversized.
  EventParser(const FieldTable& fields, size_t max_bytes);

  // `record` must be followed by at least simdjson::SIMDJSON_PADDING
  // readable bytes (the readers guarantee it).
  bool Parse(std::string_view record, Event* ev, ParseError* err);

  size_t max_bytes() const { return max_bytes_; }

 private:
  enum Role : uint8_t { kPlain, kTs, kType };
  struct Node {
    struct Entry {
      std::string key;
      int slot = -1;               // field slot, or -1 if only a parent of wanted fields
      int child = -1;              // index into nodes_ for nested paths
      int next = -1;               // next entry in the same hash bucket
      Type expected = Type::kAny;  // what the rules need this field to be
      uint8_t role = kPlain;       // top-level `ts` and `type` are also kept aside
      bool bounded = false;        // the schema gives a range (FieldTable::range)
      bool not_string = false;     // a metric's last() reads it (FieldTable::not_string)
    };
    std::vector<Entry> entries;
    std::vector<int> below;  // every field slot under this node
    // Keys hash to buckets by length and end characters, so a JSON key is
    // usually compared with at most one wanted key.
    std::array<int16_t, 64> buckets;
    Node() { buckets.fill(-1); }
    static size_t Bucket(std::string_view key) {
      if (key.empty()) return 0;
      return (key.size() * 7 + static_cast<unsigned char>(key.front()) * 3 +
              static_cast<unsigned char>(key.back())) &
             63;
    }
    const Entry* Find(std::string_view key) const {
      for (int i = buckets[Bucket(key)]; i >= 0; i = entries[i].next) {
        const Entry& e = entries[i];
        if (e.key.size() == key.size() && BytesEqual(e.key.data(), key.data(), key.size())) {
          return &e;
        }
      }
      return nullptr;
    }
  };
  // What a slot held when its value could not be used; kUsable otherwise.
  enum Unusable : uint8_t { kUsable, kObject, kArray, kOtherKind };

  Node::Entry& EntryFor(int node, std::string_view key);
  int AddPath(std::string_view path, int slot);
  void Walk(simdjson::dom::object obj, int node, Event* ev);
  [[gnu::always_inline]] void Assign(const Node::Entry& e, simdjson::dom::element value, Event* ev);
  bool CheckTypes(const Event& ev, ParseError* err) const;
  bool CheckRanges(const Event& ev, ParseError* err) const;
  // Most timestamps of a stream share their minute with the previous one:
  // "2026-01-01T00:05:" is parsed once, then only seconds and millis.
  bool FastTime(std::string_view s, TimeMs* out);
  void RememberTime(std::string_view s, TimeMs t);

  const FieldTable& fields_;
  size_t max_bytes_;
  std::vector<Node> nodes_;  // nodes_[0] is the top-level object
  int ts_slot_ = -1;         // rules may read `ts` as a number (ms)
  char minute_prefix_[16] = {};
  TimeMs minute_base_ = kMinTime;
  int type_slot_ = -1;
  simdjson::dom::parser parser_;
  // Per record: the last top-level `ts` and `type`, and the slots whose
  // value the rules cannot use (only looked at when `any_unusable_`).
  simdjson::dom::element ts_, type_;
  bool has_ts_ = false, has_type_ = false;
  bool any_unusable_ = false;
  std::vector<Unusable> unusable_;
  // Set when a bounded field got a number outside its range; CheckRanges
  // then looks at the final values of bounded_slots_.
  bool any_out_of_range_ = false;
  std::vector<int> bounded_slots_;
};

// Event time from a JSON `ts`: RFC 3339 string with a zone, or integer
// epoch milliseconds. Years outside 1970..9999 are rejected.
bool ParseEventTime(simdjson::dom::element ts, TimeMs* out, std::string* detail);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_PARSE_EVENT_PARSER_H_
