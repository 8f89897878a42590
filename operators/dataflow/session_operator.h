// operators/dataflow/session_operator.h
//
// SessionOperator runs one derived stream (`streams:` in a rule file): it
// filters events (`where:`), keys them (`key:`), folds each into its key's
// session window (windows/session_windows.h) and, once the frontier passes
// a session's end, emits one record with the session's fields — the key,
// duration_ms, and every `emit:` expression over the session's aggregates.
// Metrics `from:` the stream aggregate those records like events.
//
// Per-session state is compact: one 16-byte cell per count, sum, avg, min,
// max, ratio, any or all (a sum and an avg also one 32-byte exact sum,
// windows/exact_sum.h, so they add as metrics do, whatever the order and
// the merges) and one 24-byte cell per first or last, taken from
// per-stream pools (no allocation per session); a first/last string of up
// to 14 bytes (an id, an intent) sits in its cell, a longer one is interned
// and shared across sessions; a distinct keeps its first 3 values' hashes
// in a 32-byte cell, and only a distinct past 3 values and a quantile carry
// a sketch.
// Keys and their state are dropped when their last session closes, and the
// pools shrink after a wave of closes, so memory follows open sessions.
//
// Open sessions are bounded by the stream's `limit:`: at the limit, an event
// that would open a new session is dropped and counted (TakeDropped), while
// events of open sessions still count. Closing the oldest session early
// instead would emit a record of a session cut short (and its rest later as
// a second one), wrong data that looks right; dropping leaves every record
// emitted exact and the loss on /metrics.
//
// Example:
//   SessionOperator op(rules.streams[0]);
//   op.Add(event);                                   // per event
//   op.Close(frontier, [&](const Event& record) { ... });
//
// (operators/dataflow/keyed_operator.h has the contract it shares with
// joins.)
#ifndef VIGIL_OPERATORS_DATAFLOW_SESSION_OPERATOR_H_
#define VIGIL_OPERATORS_DATAFLOW_SESSION_OPERATOR_H_

#include <array>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "base/codec.h"
#include "operators/dataflow/keyed_operator.h"
#include "operators/parse/event_parser.h"
#include "rules/rule_set.h"
#include "windows/accumulator.h"
#include "windows/exact_sum.h"
#include "windows/session_pool.h"
#include "windows/session_windows.h"

namespace vigil {

// Reference-counted strings shared by the sessions of one stream.
class StringPool {
 public:
  uint32_t Acquire(std::string_view s);
  void Retain(uint32_t id) { ++entries_[id]->second.refs; }
  void Release(uint32_t id);
  std::string_view Get(uint32_t id) const { return entries_[id]->first; }
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    uint32_t id;
    uint32_t refs;
  };
  absl::node_hash_map<std::string, Entry, StringHash, StringEq> map_;
  std::vector<std::pair<const std::string, Entry>*> entries_;  // by id
  std::vector<uint32_t> free_;
};

class SessionOperator final : public KeyedOperator {
 public:
  explicit SessionOperator(const StreamDef& def);

  void Add(const Event& ev) override;
  // Each call takes one step for each of the last kPrefetchDistance events
  // hinted, one pointer deeper each: the index slot of the key, its record,
  // the session's cells and sketch list, the sketches' accumulators (at a
  // distance of 4), then their objects and tables (at 6; measured no
  // faster).
  void Prefetch(const Event& ev) override;
  // Emits a record for every session with end <= frontier, in order of end,
  // then key (its event time is end - 1 ms).
  void Close(TimeMs frontier, const std::function<void(const Event&)>& emit) override;

  // Takes over `old`'s sessions if it is a session stream defined the same
  // way.
  bool AdoptState(KeyedOperator& other) override;

  const std::string& state_key() const override { return state_key_; }
  using KeyedOperator::DecodeState;
  using KeyedOperator::EncodeState;
  void EncodeStates(const std::vector<const KeyedOperator*>& parts, Encoder* enc) const override;
  bool DecodeState(Decoder* dec, const std::function<bool(std::string_view key)>& keep) override;

  bool HasState(std::string_view key) const override { return state_->windows.Contains(key); }
  uint64_t TakeDropped() override { return std::exchange(dropped_, 0); }
  size_t open_sessions() const override { return state_->windows.session_count(); }
  size_t MostRecordsBy(TimeMs frontier) const override {
    return state_->windows.MostClosingBy(frontier);
  }
  uint64_t emitted() const override { return emitted_; }
  // Records, index and cells, plus a pooled string's node and bytes.
  size_t memory_bytes() const override { return reserved_bytes() + pooled_strings() * 64; }

  size_t open_keys() const { return state_->windows.key_count(); }
  uint64_t merged_sessions() const { return state_->windows.merged_count(); }
  size_t pooled_strings() const { return state_->strings.size(); }
  // Bytes reserved for open sessions: keys, session records and cells (not
  // sketches or pooled strings).
  size_t reserved_bytes() const;

 private:
  // The per-session aggregate state: one cell per distinct aggregate, a
  // Tally (count, sum, avg, min, max, ratio, any, all), a Pick (first,
  // last) or a SmallSet (distinct). A session's cells are one block of a
  // per-stream pool, tallies, picks, exact sums, then small sets, so that an
  // event touches one or two cache lines of them.
  struct Tally {
    double x = 0;   // min/max; hits of ratio/any/all (a sum is in its ExactSum)
    int64_t n = 0;  // events counted or seen
  };
  // Pick::kind of a string (Value::Kind + 1).
  static constexpr uint8_t kStringKind = static_cast<uint8_t>(Value::Kind::kString) + 1;
  // In a checkpoint, the kind byte of a sum's or avg's cell when its exact
  // sum follows.
  static constexpr uint8_t kExactSumFollows = 1;
  // A string of up to kInlineChars bytes (an id, an intent, a variant) is
  // kept in the cell itself; a longer one in the stream's StringPool, with
  // its id in the cell.
  struct Pick {
    static constexpr uint8_t kInlineChars = 14;
    static constexpr uint8_t kPooled = 0xFF;
    TimeMs t = 0;                  // event time of the value
    char data[kInlineChars] = {};  // the number or bool (a double), the string or its pool id
    uint8_t size = 0;              // the string's size in `data`, or kPooled
    uint8_t kind = 0;              // Value::Kind of the value; 0 none yet
    double x() const {
      double v;
      std::memcpy(&v, data, sizeof v);
      return v;
    }
    void set_x(double v) { std::memcpy(data, &v, sizeof v); }
    bool pooled() const { return size == kPooled; }
    uint32_t str() const {  // pool id, when pooled()
      uint32_t id;
      std::memcpy(&id, data, sizeof id);
      return id;
    }
  };
  static_assert(sizeof(Pick) == 24);
  static bool IsPick(AggKind k) { return k == AggKind::kFirst || k == AggKind::kLast; }
  static bool IsSketch(AggKind k) { return k == AggKind::kDistinct || k == AggKind::kQuantile; }
  // A distinct(x) of up to kInline values (a user's few sessions) keeps
  // their hashes in the cell itself; the next new one moves them all into
  // the session's sketch for that input (`spilled`), which counts on.
  // Either way the count is that of the same set of hashes, so the result
  // does not depend on where they were kept.
  struct SmallSet {
    static constexpr uint32_t kInline = 3;
    uint64_t hash[kInline] = {};
    uint32_t size = 0;  // hashes in `hash`
    uint32_t spilled = 0;
  };
  static_assert(sizeof(SmallSet) == 32);
  static constexpr uint32_t kNoBlock = 0xFFFFFFFF;
  struct Session {
    uint32_t cells = kNoBlock;  // block in State::cells
    // Quantiles, and distinct values past their SmallSet: made with the
    // session when it has a quantile, else at the first spill.
    std::unique_ptr<std::vector<Accumulator>> sketches;
  };
  struct Input {  // one distinct aggregate
    AggKind kind;
    double q;
    bool has_arg;
    const Program* arg;
    int cell;        // index into the session's tallies, picks or sketches
    int sum = -1;    // sum, avg: index into the session's exact sums
    int small = -1;  // distinct: index into the session's small sets
  };
  struct State {
    explicit State(SessionOperator* op);
    SessionWindows<Session> windows;
    SessionPool<std::byte> cells;  // blocks of block_bytes_
    StringPool strings;
  };

  Session NewSession();
  // Sets a pick's string (a string kind) or gives it back to the pool.
  void SetString(Pick& c, std::string_view v);
  void DropString(Pick& c) {
    if (c.kind == kStringKind && c.pooled()) state_->strings.Release(c.str());
  }
  std::string_view StringOf(const Pick& c) const {
    return c.pooled() ? state_->strings.Get(c.str()) : std::string_view(c.data, c.size);
  }
  Tally* TalliesOf(const Session& s) const {
    return std::launder(reinterpret_cast<Tally*>(state_->cells.At(s.cells)));
  }
  Pick* PicksOf(const Session& s) const {
    return std::launder(
        reinterpret_cast<Pick*>(state_->cells.At(s.cells) + tally_cells_ * sizeof(Tally)));
  }
  ExactSum* SumsOf(const Session& s) const {
    return std::launder(reinterpret_cast<ExactSum*>(
        state_->cells.At(s.cells) + tally_cells_ * sizeof(Tally) + pick_cells_ * sizeof(Pick)));
  }
  SmallSet* SmallsOf(const Session& s) const {
    return std::launder(reinterpret_cast<SmallSet*>(state_->cells.At(s.cells) + smalls_offset_));
  }
  // The session's sketches, made from the prototype if it has none yet.
  std::vector<Accumulator>& SketchesOf(Session& s) const {
    if (!s.sketches) s.sketches = std::make_unique<std::vector<Accumulator>>(sketch_prototype_);
    return *s.sketches;
  }
  void AddDistinct(Session& s, const Input& in, uint64_t hash);
  // Moves a small set's hashes into its sketch.
  void Spill(Session& s, const Input& in);
  void MergeDistinct(Session& into, Session& from);
  // Encodes sketch k of `s` as a session that always held its sketches
  // would: a distinct still in its small set as a sketch of its hashes.
  void EncodeSketch(const Session& s, size_t k, Encoder* enc) const;
  // Prefetch's steps past the record: level 0 the cells and the sketch
  // list, 1 the sketches' accumulators, 2 their objects, 3 their tables.
  void PrefetchSession(const Session& s, size_t level);
  void Merge(Session& into, Session&& from);
  void EncodeSessions(Encoder* enc) const;  // without the count
  void Release(Session& s);
  void CompactPools();
  bool DecodeCells(Decoder* dec, Session& s);
  Value Result(const Session& s, size_t input) const;
  void Offer(Pick& c, const Value& v, TimeMs t, bool first);
  // Whether `v` at `t` takes the place of `c` in a first (or last) pick.
  bool Replaces(const Value& v, TimeMs t, const Pick& c, bool first) const;
  Value PickValue(const Pick& c) const;

  std::vector<Input> inputs_;
  std::vector<std::vector<int>> bindings_;  // per emit, per aggregate: the input
  size_t tally_cells_ = 0;
  size_t pick_cells_ = 0;
  size_t sum_cells_ = 0;
  size_t small_cells_ = 0;
  size_t smalls_offset_ = 0;  // of the small sets in a block
  size_t block_bytes_ = 0;    // a session's tallies, picks, sums and small sets
  std::vector<Accumulator> sketch_prototype_;
  std::vector<int> small_of_sketch_;  // per sketch: its distinct's small set, or -1
  bool has_quantile_ = false;         // then every session has its sketches
  std::string state_key_;
  std::unique_ptr<State> state_;
  std::string key_;
  // Prefetch's pipeline: the key hashes of the last events hinted, by
  // sequence number; kNoHash for events that touch no session.
  static constexpr uint64_t kNoHash = 0;
  std::array<uint64_t, kPrefetchDistance> hinted_{};
  uint32_t hint_seq_ = 0;
  Event record_;
  std::vector<Value> agg_values_;
  uint64_t emitted_ = 0;
  uint64_t dropped_ = 0;
  TimeMs closed_through_ = kMinTime;  // the latest frontier closed at
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_SESSION_OPERATOR_H_
