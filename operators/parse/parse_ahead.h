// operators/parse/parse_ahead.h
//
// ParseAhead parses the records of a batch `ahead` records before their
// turn, each with its own EventParser (an event's strings are views into its
// parser's buffer), and passes every event parsed to a hint callback. The
// job uses the hint to prefetch the state the event will touch (its
// session stream and join keys, its groups in pane stores of many groups):
// in a table of millions of open keys each event misses the cache two or
// three times, and fetching early overlaps those misses with the work on
// the events before it. Events are still taken one at a time, in order, so no
// result depends on it.
//
// Example:
//   ParseAhead ahead(rules.fields, 1 << 20, Dataflow::kPrefetchDistance);
//   for (size_t i = 0; i < batch.size(); ++i) {
//     const ParseAhead::Parsed& p =
//         ahead.Next(batch, i, [&](const Event& ev) { flow.Prefetch(ev); });
//     if (batch[i].oversized) ...;           // not parsed
//     else if (!p.ok) DeadLetter(p.err, ...);
//     else flow.Add(p.ev);
//   }
#ifndef VIGIL_OPERATORS_PARSE_PARSE_AHEAD_H_
#define VIGIL_OPERATORS_PARSE_PARSE_AHEAD_H_

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "operators/parse/event_parser.h"
#include "operators/source/record_source.h"

namespace vigil {

class ParseAhead {
 public:
  struct Parsed {
    bool ok = false;
    Event ev;
    ParseError err;
  };

  ParseAhead(const FieldTable& fields, size_t max_bytes, size_t ahead)
      : ahead_(ahead), parsed_(ahead + 1) {
    for (size_t i = 0; i <= ahead; ++i) {
      parsers_.push_back(std::make_unique<EventParser>(fields, max_bytes));
    }
  }

  // Record i of `batch`, parsed (not when oversized); valid until the call
  // for i + 1. Must be called for i = 0, 1, 2, … of each batch in turn.
  template <typename Hint>
  const Parsed& Next(const std::vector<Record>& batch, size_t i, Hint&& hint) {
    if (i == 0) {
      for (size_t j = 0; j < std::min(ahead_, batch.size()); ++j) Parse(batch, j, hint);
    }
    if (i + ahead_ < batch.size()) Parse(batch, i + ahead_, hint);
    return parsed_[i % parsed_.size()];
  }

 private:
  template <typename Hint>
  void Parse(const std::vector<Record>& batch, size_t j, Hint& hint) {
    Parsed& p = parsed_[j % parsed_.size()];
    p.ok = false;
    if (batch[j].oversized) return;
    p.ok = parsers_[j % parsed_.size()]->Parse(batch[j].data, &p.ev, &p.err);
    if (p.ok) hint(static_cast<const Event&>(p.ev));
  }

  size_t ahead_;
  std::vector<std::unique_ptr<EventParser>> parsers_;  // one per entry of parsed_
  std::vector<Parsed> parsed_;                         // record j in parsed_[j % size]
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_PARSE_PARSE_AHEAD_H_
