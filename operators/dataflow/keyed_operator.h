// operators/dataflow/keyed_operator.h
//
// KeyedOperator is a derived stream of a rule set (StreamDef): an operator
// that keeps state per key of the events it reads and, as the frontier
// (watermark) passes, emits records that metrics `from:` the stream
// aggregate like events. Two kinds implement it:
//   - SessionOperator (`streams:`): one record per closed session window;
//   - JoinOperator (`joins:`): one record per pair of events of one key
//     within a time bound, and per unmatched event of a left join.
//
// The contract the dataflow and the workers rely on:
//   - All the events of one key (KeyText) reach one operator, in input
//     order; an operator never needs another key's events. So the workers
//     route each stream's events by the hash of its key.
//   - Close(frontier) emits the records whose event time is before the
//     frontier, in an order that depends on the input alone (not on how
//     events were batched or spread over workers), and every record's
//     event time is at or after the frontier of the previous Close, so no
//     record is late for a window that is still open.
//   - State encodes by key: EncodeStates writes the state of several
//     operators of the same definition (each holding other keys) as one
//     operator holding them all would, and DecodeState with `keep` restores
//     the keys one worker owns. A checkpoint taken with N workers restores
//     with any other number.
//
// Example:
//   std::unique_ptr<KeyedOperator> op = MakeKeyedOperator(rules.streams[0]);
//   op->Add(event);                                      // per event
//   op->Close(frontier, [&](const Event& record) { ... });
#ifndef VIGIL_OPERATORS_DATAFLOW_KEYED_OPERATOR_H_
#define VIGIL_OPERATORS_DATAFLOW_KEYED_OPERATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/codec.h"
#include "operators/parse/event_parser.h"
#include "rules/rule_set.h"

namespace vigil {

class KeyedOperator {
 public:
  explicit KeyedOperator(const StreamDef& def) : def_(&def) {}
  virtual ~KeyedOperator() = default;
  KeyedOperator(const KeyedOperator&) = delete;
  KeyedOperator& operator=(const KeyedOperator&) = delete;

  const StreamDef& def() const { return *def_; }

  virtual void Add(const Event& ev) = 0;
  // A hint that `ev` is to be added kPrefetchDistance events from now
  // (operators/parse/parse_ahead.h). Never changes results.
  static constexpr size_t kPrefetchDistance = 4;
  virtual void Prefetch(const Event& ev) { (void)ev; }
  // Emits every record whose event time is before `frontier`, in order of
  // event time, then key. The record's slots follow def().fields; its string
  // values are valid during the call only.
  virtual void Close(TimeMs frontier, const std::function<void(const Event&)>& emit) = 0;

  // Text of the stream's key in `ev` (into *out), or false when the event
  // has no key (no state of this stream is about it). Where a worker
  // router sends it.
  bool KeyText(const Event& ev, std::string* out) const {
    const Value& key = ev.slots[def_->key_slot];
    if (key.is_nullish()) return false;
    out->clear();
    AppendValueText(key, out);
    return true;
  }
  int key_slot() const { return def_->key_slot; }

  // On a rule reload: takes over `old`'s state if it is an operator of the
  // same kind defined the same way. Returns whether it did.
  virtual bool AdoptState(KeyedOperator& old) = 0;

  // Checkpoints: the state key (the definition) and the state.
  virtual const std::string& state_key() const = 0;
  // Whether a state saved under `saved_key` is one this operator reads
  // (DecodeStateOf): its own key, or (a join) the same definition keeping
  // other fields (EmitsLackedBy).
  virtual bool ReadsStateOf(std::string_view saved_key) const { return saved_key == state_key(); }
  // The emits this operator keeps that a state saved under `saved_key`
  // (ReadsStateOf) lacks, by emit (empty: none): its records of what
  // waited in that state carry them missing.
  virtual std::vector<bool> EmitsLackedBy(std::string_view saved_key) const {
    (void)saved_key;
    return {};
  }
  // DecodeState of a state saved under `saved_key` (ReadsStateOf).
  virtual bool DecodeStateOf(std::string_view saved_key, Decoder* dec) {
    (void)saved_key;
    return DecodeState(dec);
  }
  // Which emits the records carry (`kept`; the others are missing, and a
  // join keeps no field only they read) and which ones order the records
  // of equal time, key and event times (`sorted`: those metrics read, so
  // that what metrics see does not depend on the rest). State held is
  // re-packed. Session streams keep and order by every emit.
  virtual void SetEmitUse(const std::vector<bool>& kept, const std::vector<bool>& sorted) {
    (void)kept;
    (void)sorted;
  }
  void EncodeState(Encoder* enc) const { EncodeStates({this}, enc); }
  bool DecodeState(Decoder* dec) { return DecodeState(dec, nullptr); }
  // The state of `parts` (operators of this one's kind and definition, each
  // holding other keys; none: empty state) as one operator holding them
  // all would encode it.
  virtual void EncodeStates(const std::vector<const KeyedOperator*>& parts, Encoder* enc) const = 0;
  // Replaces the state with the decoded one, keeping only the keys `keep`
  // accepts (null: all).
  virtual bool DecodeState(Decoder* dec, const std::function<bool(std::string_view key)>& keep) = 0;

  // Whether the operator holds state of `key` (open sessions; waiting
  // events or records not emitted yet of a join).
  virtual bool HasState(std::string_view key) const = 0;

  // `limit:` without batches. The frontier as of the event Add takes next
  // (the watermark as of the previous record, less the allowed lateness;
  // kMinTime: unknown): state that ends by it is final, whether or not a
  // Close has reached it yet. An operator at its limit first lets such
  // state go (a session stream closes its sessions into `downstream`, a
  // join expires its waiting events) and counts only what is left, so
  // which events a limit drops follows from the input alone, not from
  // where batches end.
  void SetFrontier(TimeMs frontier) { frontier_ = frontier; }
  void SetDownstream(std::function<void(const Event&)> downstream) {
    downstream_ = std::move(downstream);
  }

  // Events dropped because they would have opened state over the stream's
  // `limit:`, since the last call.
  virtual uint64_t TakeDropped() = 0;
  // Open state: sessions of a session stream, waiting events of a join.
  virtual size_t open_sessions() const = 0;
  // At most how many records Close(frontier) would emit now (a bound,
  // cheaper than closing: what Workers ask before a close whose records a
  // limit might drop).
  virtual size_t MostRecordsBy(TimeMs frontier) const = 0;
  virtual uint64_t emitted() const = 0;
  // Bytes held for the open state (an estimate where sketches are involved).
  virtual size_t memory_bytes() const = 0;

 protected:
  const StreamDef* def_;
  TimeMs frontier_ = kMinTime;
  std::function<void(const Event&)> downstream_;
};

// The operator for `def`: a SessionOperator or a JoinOperator.
std::unique_ptr<KeyedOperator> MakeKeyedOperator(const StreamDef& def);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_KEYED_OPERATOR_H_
