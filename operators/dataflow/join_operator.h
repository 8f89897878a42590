// operators/dataflow/join_operator.h
//
// JoinOperator runs one interval join (`joins:` in a rule file, JoinDef):
// it keeps the events of either side that may still find a match, by key,
// and pairs a left and a right event of one key when
//   left.ts + lower <= right.ts <= left.ts + upper.
// Semantics are those of Flink's interval join and Kafka Streams'
// JoinWindows:
//   - Each pair is one record, at event time max(left.ts, right.ts). Several
//     right events for one left (two ratings of one turn) are several
//     records, and so are several lefts for one right.
//   - A left join (`kind: left`) also emits each left event that no right
//     matched, once, with matched() false and the right's fields missing, at
//     event time left.ts + max(upper, 0): when the watermark passes it, no
//     right can match any more.
//   - An event is dropped from the state once no future event can match
//     it: a left when the frontier passes left.ts + max(upper, 0), a right
//     when it passes right.ts - lower. So state follows the bound, not the
//     input's length. A right (or, for an inner join, a left) that never
//     matched is counted as unmatched then (TakeUnmatched); with
//     `unmatched_right: dead_letter`, such a right is also kept as a record
//     for the dead-letter output (TakeUnmatchedRights): its time, the key
//     and the right fields the join reads, as one JSON object.
//   - An event that both sides' `where:` accept is both a left and a right
//     event, but never pairs with itself.
// Records are emitted at Close, once the frontier passes their event time,
// ordered by (event time, key, left.ts, right.ts, fields metrics read): the
// order depends on the input alone, whatever the batching or the workers,
// and on no field only record outputs read (SetEmitUse).
//
// State is keyed by the join key (`on:`), so the workers split it like
// session streams; it encodes per key, sorted, so a checkpoint taken with N
// workers restores with any other number. An event waiting keeps only the
// fields its side's emits read, packed into one string; with SetEmitUse,
// only those of the emits something reads (a job that writes no records
// keeps no field only record outputs read). Such a join's state key names
// what it keeps, and it reads the states of the same join however they
// were packed: what one lacks comes out missing (EmitsLackedBy).
//
// Layout: each waiting event is a fixed-size entry in a pool, and its key's
// bytes and packed fields one copy in a FIFO arena (events expire in about
// the order they came). The events of one key form a chain, its rights
// before its lefts (so an event walks only the other side's), whose first
// entry a flat index of key hashes names (windows/session_index.h). So a
// waiting event costs no allocation of its own and about 80 bytes besides
// its key and fields.
//
// Over the join's `limit:` of waiting events, a new event still pairs with
// the events waiting but is not kept for later ones; it is counted as
// dropped (TakeDropped).
//
// Example:
//   JoinOperator op(rules.streams[0]);                   // a kJoin stream
//   op.Add(message);                                     // a left event
//   op.Add(feedback);                                    // pairs with it
//   op.Close(frontier, [&](const Event& record) { ... });
#ifndef VIGIL_OPERATORS_DATAFLOW_JOIN_OPERATOR_H_
#define VIGIL_OPERATORS_DATAFLOW_JOIN_OPERATOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/dataflow/fifo_arena.h"
#include "operators/dataflow/keyed_operator.h"
#include "windows/session_index.h"
#include "windows/session_pool.h"

namespace vigil {

class JoinOperator final : public KeyedOperator {
 public:
  explicit JoinOperator(const StreamDef& def);

  void Add(const Event& ev) override;
  // Each call takes one step for each of the last kPrefetchDistance events
  // hinted: the index slot of the key; two calls later the first waiting
  // event of its chain; then that event's key and fields and the next event
  // of the chain. A new key (most turns of a turn_id join) costs Add one
  // miss less; a key found, three.
  void Prefetch(const Event& ev) override;
  void Close(TimeMs frontier, const std::function<void(const Event&)>& emit) override;

  bool AdoptState(KeyedOperator& other) override;
  const std::string& state_key() const override { return state_key_; }
  bool ReadsStateOf(std::string_view saved_key) const override;
  std::vector<bool> EmitsLackedBy(std::string_view saved_key) const override;
  bool DecodeStateOf(std::string_view saved_key, Decoder* dec) override;
  void SetEmitUse(const std::vector<bool>& kept, const std::vector<bool>& sorted) override;
  using KeyedOperator::DecodeState;
  using KeyedOperator::EncodeState;
  void EncodeStates(const std::vector<const KeyedOperator*>& parts, Encoder* enc) const override;
  bool DecodeState(Decoder* dec, const std::function<bool(std::string_view key)>& keep) override;

  bool HasState(std::string_view key) const override;
  uint64_t TakeDropped() override { return std::exchange(dropped_, 0); }
  // Events waiting for a match, both sides.
  size_t open_sessions() const override { return state_->entries.live(); }
  uint64_t emitted() const override { return emitted_; }
  size_t memory_bytes() const override;

  // Events that never matched, dropped from the state since the last call:
  // {left, right}.
  std::pair<uint64_t, uint64_t> TakeUnmatched() {
    return {std::exchange(unmatched_left_, 0), std::exchange(unmatched_right_, 0)};
  }
  // The unmatched right events to dead-letter since the last call
  // (unmatched_right: dead_letter), in the order they expired.
  struct UnmatchedRight {
    TimeMs ts;
    std::string key;
    std::string json;  // {"ts":"…","<on>":"<key>","<field>":value,…}
  };
  void TakeUnmatchedRights(std::vector<UnmatchedRight>* out);
  size_t open_keys() const { return state_->index.size(); }
  // Records found but not emitted yet (their event time is not before the
  // frontier of the last Close).
  size_t pending_records() const { return state_->records.size(); }
  // The records found, and the left events a `kind: left` join emits
  // unmatched when they expire by `frontier`.
  size_t MostRecordsBy(TimeMs frontier) const override;

 private:
  static constexpr uint32_t kNone = SessionIndex::kNone;
  // One side of a pair: an event's time and its side's packed fields.
  struct Half {
    TimeMs ts;
    std::string_view values;
  };
  // One event waiting, in State::entries; `bytes` (in State::bytes) holds
  // its key and then its packed fields. The entries of one key are a chain
  // (prev, next), its rights before its lefts, whose first the index names.
  struct Entry {
    uint64_t hash;
    TimeMs ts;
    const char* bytes;
    uint32_t key_size;
    uint32_t values_size;
    uint32_t chunk;  // of State::bytes
    uint32_t matches;
    uint32_t prev;
    uint32_t next;
    bool right;
    std::string_view key() const { return {bytes, key_size}; }
    std::string_view values() const { return {bytes + key_size, values_size}; }
    Half half() const { return {ts, values()}; }
  };
  // When a waiting event can be dropped: once the frontier is past `at`.
  struct Expiry {
    TimeMs at;
    uint32_t id;  // of State::entries
  };
  // Expiries by the second of their time. Events come nearly in time
  // order, so a new expiry almost always goes to the last bucket and Expire
  // takes whole buckets from the front: no per-event sift through a heap
  // as large as the state.
  static constexpr DurationMs kExpiryBucket = 1000;
  // A record found, until its event time is before the frontier: the key,
  // the pair's times (right_ts kMaxTime when unmatched) and the packed
  // fields from kJoinDelaySlot on. Its key and fields are one copy in
  // State::record_bytes (records leave in about the order they come).
  struct Record {
    TimeMs time;
    TimeMs left_ts;
    TimeMs right_ts;
    const char* bytes;
    uint32_t key_size;
    uint32_t values_size;
    uint32_t chunk;  // of State::record_bytes
    std::string_view key() const { return {bytes, key_size}; }
    std::string_view values() const { return {bytes + key_size, values_size}; }
  };
  // What a state packs: the inputs (JoinDef::inputs) of either side's
  // waiting events, in order, and the emits a record carries (the others
  // are packed missing).
  struct Layout {
    std::vector<size_t> left, right;
    std::vector<bool> emits;
  };
  struct State {
    SessionIndex index;  // key hash -> the first entry of the key's chain
    SessionPool<Entry> entries{1};
    using Buckets = std::map<TimeMs, std::vector<Expiry>>;
    Buckets expiries;  // bucket start -> expiries in it
    // The bucket of the last expiry kept of each side (left, right), or end.
    Buckets::iterator recent_bucket[2] = {expiries.end(), expiries.end()};
    size_t expiry_count = 0;
    std::vector<Record> records;
    FifoArena bytes;                   // the entries' keys and packed fields, in arrival order
    FifoArena record_bytes{64 << 10};  // the records' keys and packed fields
  };

  static uint64_t HashKey(std::string_view key);
  // Sets the emits kept and sorted by, and what follows from them.
  void Configure(const std::vector<bool>& kept, const std::vector<bool>& sorted);
  // The layout of a state saved under `saved_key`, if it is this join's.
  std::optional<Layout> LayoutOf(std::string_view saved_key) const;
  // Records' order (see the header comment); inline, as sorting the
  // records found calls it most.
  bool RecordBefore(const Record& a, const Record& b) const {
    if (a.time != b.time) return a.time < b.time;
    return TieBefore(a, b);
  }
  bool TieBefore(const Record& a, const Record& b) const;
  // The state's encoding, packed as `saved` (this join's, by LayoutOf).
  bool DecodeStateAs(const Layout& saved, Decoder* dec,
                     const std::function<bool(std::string_view key)>& keep);
  Entry& At(uint32_t id) const { return *state_->entries.At(id); }
  // The first entry of `key`'s chain, or kNone.
  uint32_t Find(uint64_t hash, std::string_view key) const;
  TimeMs ExpiryOf(TimeMs ts, bool right) const;
  // Packs the inputs of one side into `enc` (cleared first).
  std::string_view Pack(const Event& ev, const std::vector<size_t>& side, Encoder* enc) const;
  // Fills pair_ from a left and (unless null) a right event.
  void FillPair(const Half& left, const Half* right);
  void AddRecord(std::string_view key, const Half& left, const Half* right);
  // Keeps a record of `key` with its packed fields (copied).
  void KeepRecord(TimeMs time, std::string_view key, TimeMs left_ts, TimeMs right_ts,
                  std::string_view values);
  // Keeps an event of `key` (key_ in Add) whose chain starts at `head`,
  // after the entry `after` (kNone: first). A chain holds a key's rights
  // first, then its lefts, so that an event walks only the entries it may
  // pair with: a right goes first, a left after the last right. Returns the
  // chain's head.
  uint32_t Keep(uint64_t hash, std::string_view key, uint32_t head, uint32_t after, bool right,
                const Half& w, uint32_t matches);
  // The expiries of `bucket`, which a `right` (or left) event's goes to.
  std::vector<Expiry>& ExpiryBucket(TimeMs bucket, bool right);
  void Expire(TimeMs frontier);
  void ExpireOne(uint32_t id);
  // Emits, in order, the records whose time is before `frontier`.
  void EmitRecords(TimeMs frontier, const std::function<void(const Event&)>& emit);
  void Compact();
  void KeepUnmatchedRight(std::string_view key, const Half& right);

  std::vector<size_t> left_inputs_;   // def.join.inputs of left fields kept, in order
  std::vector<size_t> right_inputs_;  // and of right fields
  std::vector<bool> emit_kept_;       // SetEmitUse's, by emit
  std::vector<bool> emit_sorted_;
  bool sorts_all_ = true;  // every emit orders records
  // Per emit: the side field it reads as is (its packed bytes are copied
  // into the record), kMatched for a plain matched(), or kNone when it is
  // evaluated over pair_.
  struct EmitCopy {
    enum Side : uint8_t { kNone, kLeft, kRight, kMatched, kDropped } side = kNone;
    uint32_t index = 0;  // in left_inputs_ or right_inputs_
  };
  std::vector<EmitCopy> emit_copy_;
  bool evaluates_ = false;  // some emit is evaluated: AddRecord fills pair_
  bool copies_ = false;     // some emit is copied: AddRecord slices the sides
  std::vector<std::string_view> left_slices_, right_slices_;  // AddRecord's
  std::string state_key_;
  std::unique_ptr<State> state_;
  std::string key_;
  // Prefetch's pipeline: the key hashes of the last events hinted, by
  // sequence number; kNoHash for events neither side takes.
  static constexpr uint64_t kNoHash = 0;
  std::array<uint64_t, kPrefetchDistance> hinted_{};
  uint32_t hint_seq_ = 0;
  Encoder pack_left_, pack_right_;  // Add's packed fields, before they are kept
  Encoder pack_record_;             // AddRecord's
  std::vector<Value> pair_;
  Event record_;
  uint64_t emitted_ = 0;
  uint64_t dropped_ = 0;
  TimeMs expired_through_ = kMinTime;  // the latest frontier expired at
  uint64_t unmatched_left_ = 0;
  uint64_t unmatched_right_ = 0;
  std::vector<UnmatchedRight> unmatched_rights_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_JOIN_OPERATOR_H_
