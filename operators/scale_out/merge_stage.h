// operators/scale_out/merge_stage.h
//
// MergeStage is the merge half of scale-out (see partials.h): it reads the
// partials topic, adds every published pane into the pane store of the
// same metric operator of its own rule set, and tells the job how far
// event time is complete, so windows close and alerts fire as they would in
// one instance reading every partition.
//
// Watermark. Each heartbeat says, per event partition, how far the
// partition's events have been published. The merge keeps, per partials
// partition it reads (each carries every instance's heartbeats, after that
// instance's panes in it), the newest word on every event partition — the
// largest watermark reported, whichever instance reported it, since a
// partition handed to another instance continues where the last owner's
// publication ended — and its idleness. The watermark of a partials
// partition is the minimum over the event partitions that are not idle
// (an instance reports a partition idle only once it is read to its end and
// silent for the idle timeout), and nothing (kMinTime) while a partition of
// the source topics has not been reported by any instance yet: heartbeats
// carry the topics' full partition list, from their metadata. When all
// are idle, the largest instance watermark (each follows the
// processing clock then). A partials partition's watermark never goes
// back: an idle partition that wakes up behind it, or one an instance took
// over and reports from nothing, holds back only what comes after. The
// merge's watermark is the minimum over the partials partitions it reads;
// one with no heartbeat yet holds it back.
// An instance that stops gracefully says so and no longer counts; its
// partitions keep their last watermark until the next owner reports them.
// An input whose owner stops reporting it while the heartbeat's list no
// longer has it (a Kinesis shard closed by a resharding and read to its
// end) has ended and holds nothing back from then on.
//
// Keyed state an instance handed over with partitions (partial_state.h)
// is for their next owner; the merge keeps, per event partition, the
// newest state no instance has claimed yet (a later heartbeat naming the
// partition claims it). It travels on every partials partition, and each
// partials partition's heartbeats say, in their order there, what is
// claimed. A bounded merge whose instances have all left adds it to its
// own session and join operators before it closes every window, so that
// state is closed as one instance reaching the end would close it. Several
// merge instances each close all of it, and each counts only the records
// of groups whose panes it reads (PanesPartition): the job marks the
// others' (runtime/job_mode_merge.cc).
//
// Publications. An instance's panes messages wait, per partials partition,
// until the heartbeat of their publication (the same publication id)
// arrives there, which follows them in the same transaction; they are then
// merged. Panes of a publication whose heartbeat never came are dropped as
// aborted when the instance's next publication shows up on that partition:
// a broker that shows aborted transactions' messages (the development
// broker) cannot make an instance killed mid-publication count twice what
// it, or its partitions' next owner, publishes again. Panes messages
// without an id (older instances) are merged as they come. The merge keeps
// at most one publication per instance and partition waiting, in its
// checkpoints too.
//
// A pane is late when the first window holding it ends by its partials
// partition's watermark (less the allowed lateness) as of the heartbeat
// before it, or has closed: it is counted, not merged. Judged per partials
// partition, so that how the merge's reads of several partitions interleave
// decides nothing, as one job judges each event by its own input.
// Panes of an operator the merge's rules do not have (the instances run
// other rules) are counted as unknown. Of an operator it has, it merges the
// accumulators it shares with the instance's rules (partials.h) and skips
// the others; a metric of its own whose accumulator the panes lack misses
// that instance's events, so its windows holding them are marked partial
// (incomplete(): the job marks them, AlertOperator::RestartedAt).
//
// Example:
//   MergeStage merge(flow.get());
//   merge.Apply(message, "partials/0");
//   TimeMs wm = merge.Watermark({"partials/0"});
#ifndef VIGIL_OPERATORS_SCALE_OUT_MERGE_STAGE_H_
#define VIGIL_OPERATORS_SCALE_OUT_MERGE_STAGE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "operators/dataflow/dataflow.h"
#include "operators/scale_out/partial_state.h"
#include "operators/scale_out/partials.h"

namespace vigil {

class MergeStage {
 public:
  explicit MergeStage(Dataflow* flow) { set_flow(flow); }
  // After a rule reload.
  void set_flow(Dataflow* flow);
  // The job's allowed_lateness: how far behind the watermark a pane may be.
  void set_allowed_lateness(DurationMs lateness) { allowed_lateness_ = lateness; }

  // kDuplicate: a numbered publication repeated after the instance's
  // restart, already merged.
  // kState: a piece of keyed state handed over between instances.
  // kHeld: panes waiting for their publication's heartbeat; settled later
  // as kPanes, kLate, kUnknownMetric or kAborted (see settled()).
  // kAborted: panes of a publication whose heartbeat never came.
  // kIncomplete: panes merged, but without the accumulator of some metric
  // of these rules (see incomplete()).
  enum class Outcome {
    kPanes,
    kIncomplete,
    kHeartbeat,
    kLate,
    kUnknownMetric,
    kMalformed,
    kDuplicate,
    kState,
    kHeld,
    kAborted
  };
  // One message of the partials topic, read from partials partition `part`.
  // kLate when at least one of its panes was late (the others are merged).
  Outcome Apply(std::string_view message, const std::string& part);
  // The outcomes of the held panes messages the last Apply settled, one
  // per message, in their order.
  const std::vector<Outcome>& settled() const { return settled_; }
  // Of the panes the last Apply merged, per metric (MetricDef::index) whose
  // accumulator they lacked, the latest pane start: its windows starting
  // by then miss events and are partial. So too for a heartbeat naming
  // metrics that started over on its instance (PartialHeartbeat).
  const std::map<int, TimeMs>& incomplete() const { return incomplete_; }

  // "panes", "incomplete", "heartbeat", "late", "unknown_metric", "malformed",
  // "duplicate", "state", "held", "aborted".
  static const char* OutcomeName(Outcome o);

  // The merge watermark over the partials partitions `parts`.
  TimeMs Watermark(const std::vector<std::string>& parts) const;
  // What holds that watermark back, for people: "events/3 (instance a)",
  // "events/2 (no instance has reported it)", "partials/1 (no heartbeat
  // yet)"; "" when nothing does (every partition idle, or none to read).
  std::string Holder(const std::vector<std::string>& parts) const;
  // Whether no partition reported on `parts` belongs to a running instance
  // any more: the last owner of each has stopped gracefully, or its
  // partitions were reported by another instance since (a killed one that
  // lost them in a rebalance). A bounded merge that has read the partials
  // to the end may then close every window: nothing more is coming.
  bool AllLeft(const std::vector<std::string>& parts) const;

  // Checkpoints: the heartbeat state.
  std::string Encode() const;
  bool Decode(std::string_view data);

  // The keyed state handed over that no instance has taken over, per
  // event partition (EncodeHandedOver), as the heartbeats of the partials
  // partitions `parts` tell it (those the merge reads: each carries every
  // hand-over and claim); forgotten once taken.
  // `missing` (may be null) gets the event partitions whose state lacks
  // pieces on `parts` (an instance older than this version sent it to
  // partials partition 0 alone).
  std::map<std::string, std::string> TakeUnclaimedState(
      const std::vector<std::string>& parts, std::vector<std::string>* missing = nullptr);

  // Whether the merge has read anything from partials partition `part`
  // (in this run or before its checkpoint).
  bool HasRead(const std::string& part) const { return parts_.contains(part); }
  uint64_t late_panes() const { return late_panes_; }
  // Panes messages waiting for their publication's heartbeat.
  size_t held_messages() const;
  // The latest event time any instance has read (kMinTime: none reported),
  // for partial windows (InputEnd).
  TimeMs last_ts() const { return last_ts_; }
  // Instances heard from and still running, over every partials partition.
  std::vector<std::string> Instances() const;

 private:
  struct Input {
    TimeMs watermark = kMinTime;
    bool idle = false;
    std::string owner;  // the instance that reported it last
  };
  // The panes messages of one publication, waiting for its heartbeat.
  struct Held {
    uint64_t publication = 0;
    std::vector<std::string> messages;
  };
  struct Unclaimed {
    std::string instance;
    uint64_t id = 0;
    uint32_t chunks = 0;
  };
  struct Part {
    std::map<std::string, Input> inputs;         // event partition -> state
    std::map<std::string, TimeMs> instances;     // running instance -> watermark
    std::map<std::string, uint64_t> epochs;      // instance -> last heartbeat epoch
    std::set<std::string> expected;              // every event partition, per metadata
    std::map<std::string, Held> held;            // instance -> its publication under way
    std::set<std::string> ended;                 // inputs that ended (closed shards read out)
    TimeMs floor = kMinTime;                     // the highest watermark it has had
    std::map<std::string, Unclaimed> unclaimed;  // event partition -> hand-over
  };
  // A partials partition's watermark from its heartbeats' word (kMinTime
  // while held back), before its floor.
  static TimeMs PartWatermark(const Part& p);
  // Panes on `p` whose first window ends by this are late.
  TimeMs LateBefore(const Part& p) const;
  Outcome ApplyPanes(std::string_view message, const std::string& part);
  Outcome ApplyHeartbeat(std::string_view message, const std::string& part);
  // Merges panes_ into the operator's store; panes whose first window ends
  // by `late_before` are late.
  Outcome MergePanes(TimeMs late_before);
  // The operator panes_ is for (null: unknown), with from_ and absent_ set
  // for its accumulators.
  MetricOperator* OperatorOf();
  // The accumulators of one pane of panes_ in the order of `op`'s store
  // (into acc_): those the message lacks empty, those `op` lacks skipped.
  bool DecodePane(const MetricOperator& op, std::string_view bytes);
  // The instance's held panes: merged when they belong to `publication`
  // (nonzero), dropped as aborted otherwise.
  void Settle(Part& p, const std::string& instance, uint64_t publication);
  // Forgets the pieces of `input`'s hand-overs that some heartbeat named
  // and no partition's unclaimed state names any more.
  void ForgetPassedPieces(const std::string& input);
  static void EncodeUnclaimed(const std::map<std::string, Unclaimed>& unclaimed, Encoder* enc);
  static bool SameUnclaimed(const std::map<std::string, Unclaimed>& a,
                            const std::map<std::string, Unclaimed>& b);
  static void DecodeUnclaimed(Decoder* dec, std::map<std::string, Unclaimed>* out);
  // After heartbeat_ updated `p`: an input its owner no longer reports and
  // the source no longer lists (a closed shard read to its end) ended.
  void ForgetEnded(Part& p);
  Dataflow* flow_ = nullptr;
  std::map<std::string, int, std::less<>> metric_index_;       // metric name -> MetricDef::index
  absl::flat_hash_map<uint64_t, MetricOperator*> ops_;         // by shape key
  absl::flat_hash_map<uint64_t, MetricOperator*> legacy_ops_;  // by state key ("VPP1")
  // Per accumulator of panes_: the operator's accumulator it is (-1: none).
  std::vector<int> from_;
  // Per accumulator of the operator: whether panes_ lacks it.
  std::vector<bool> absent_;
  std::vector<int> lacking_;  // metrics reading an absent accumulator
  std::map<int, TimeMs> incomplete_;
  Accumulator skipped_{AggKind::kCount};
  std::map<std::string, Part> parts_;
  PartialPanes panes_;
  PartialHeartbeat heartbeat_;
  AccSet acc_;
  uint64_t late_panes_ = 0;
  TimeMs last_ts_ = kMinTime;
  DurationMs allowed_lateness_ = 0;
  std::vector<Outcome> settled_;
  StateAssembler pieces_;  // of every partials partition, each piece once
  // The hand-overs (event partition, instance, id) some heartbeat named:
  // their pieces go once no partition's unclaimed state names them (those
  // of a hand-over not named yet are kept: its heartbeat follows).
  std::set<std::tuple<std::string, std::string, uint64_t>> named_;
  PartialState piece_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SCALE_OUT_MERGE_STAGE_H_
