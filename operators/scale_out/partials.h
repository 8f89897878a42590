// operators/scale_out/partials.h
//
// Scale-out past one machine (DESIGN.md §7). Several `vigil run --partials`
// instances share the event topic in one Kafka consumer group; none closes
// a window. Each publishes its partial pane aggregates to a partials topic,
// and a merge stage (`vigil run --merge`, see merge_stage.h) folds them into
// job-wide windows and alerts.
//
// Every `checkpoint.interval`, at a rebalance before partitions go, and at
// shutdown, an instance publishes in one Kafka transaction:
//
//   - one panes message per (metric operator, group) that received data
//     since the last publication: every pane's accumulators (counts, sums,
//     sketches), keyed by operator and group, so several merge instances
//     can split the groups. The stores are emptied: a pane may be
//     published in several pieces, which the merge adds up.
//   - one heartbeat to every partition of the partials topic: the
//     instance's watermark and, per event partition it reads, that
//     partition's watermark and whether it is idle.
//   - for partitions it gives up (a rebalance, or stopping), the open state
//     of their keys (sessions, waiting join events; partial_state.h), on
//     every partition before the heartbeat: for their next owner, and for
//     every merge instance, which closes its own groups' part of the state
//     no instance takes over (merge_stage.h);
//   - the consumer group's offsets of the records aggregated so far
//     (send_offsets_to_transaction), so the records and their aggregates
//     become visible together or not at all: a killed instance's open
//     transaction is aborted, and whoever reads its partitions next starts
//     at the offsets of its last publication.
//
// Where a partition resumes does not rest on the group's committed offsets
// alone. The heartbeat names, per partition, the offset after the last
// record published, inside the same transaction as the panes. A newly
// assigned partition resumes at the furthest of: this process's own
// position, its checkpoint's, the group's committed offset and the newest
// heartbeat's offset (ReadPublishedOffsets). So a broker that does not
// store transactional offsets (the development broker, librdkafka's mock
// cluster) or refuses the plain commit the instance repeats after each
// transaction (it does during a rebalance) cannot make the next owner
// aggregate records a second time.
//
// Every publication carries a random id, in its panes messages and its
// heartbeat. The merge holds an instance's panes until the heartbeat of
// their publication arrives and drops those of a publication whose
// heartbeat never came (merge_stage.h): a broker that shows the messages
// of aborted transactions (the development broker does) cannot make the
// panes of a killed instance's unfinished publication count, next to the
// ones its partitions' next owner, or its own restart, publishes again.
//
// Messages (binary, base/codec.h varints):
//   panes      "VPP2" | u64 operator key hash | group | instance | epoch | k |
//              k × accumulator key hash | n |
//              n × (pane start, k encoded accumulators) | publication id
//              ("VPP1", still read: no k and no accumulator keys; the
//              operator key hashes the whole state key, aggregates too)
//
// Instances and a merge stage that run different rules (a rolling reload)
// still merge what they share. The operator key leaves the aggregates out
// (MetricOperator::shape_key) and every pane names its accumulators, so a
// merge adds those it knows, skips those it does not, and marks the
// windows of a metric whose accumulator a pane lacks partial: they miss
// that instance's events (merge_stage.h).
//   heartbeat  "VPH1" | instance | epoch | watermark | leaving | n |
//              n × (partition name, watermark, idle) | m | m × partition name |
//              n × next offset | last ts | hand-over id | n × state pieces |
//              publication id | s | s × (metric name, time started over)
//              (s and what follows only when s > 0)
//              (the parts after the panes and after the inputs absent in
//              older ones)
//   state      pieces of the keyed state handed over with a partition, on
//              every partition before the heartbeat (partial_state.h)
//
// Kinesis has no consumer group to commit positions to: an instance reading
// shards (`--instance I/N`) keeps them in its checkpoints. It writes the
// checkpoint first, with the drained panes in it, then publishes them
// numbered with the checkpoint's epoch; after a crash it publishes the
// checkpoint's panes again under the same epoch, and the merge drops a
// publication whose epoch it has already seen complete (see PartialPanes).
//
// Example:
//   auto pub = PartialsPublisher::Open(url, {}, "vigil-0");
//   PartialHeartbeat hb{"vigil-0", watermark, {{"events/0", wm0, false}}};
//   absl::Status s = (*pub)->Publish(&flow, hb, offsets, group_metadata);
#ifndef VIGIL_OPERATORS_SCALE_OUT_PARTIALS_H_
#define VIGIL_OPERATORS_SCALE_OUT_PARTIALS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/dataflow/dataflow.h"
#include "operators/net/kafka_writer.h"

namespace vigil {

struct PartialHeartbeat {
  struct Input {
    std::string name;  // "events/3"
    TimeMs watermark = kMinTime;
    bool idle = false;
    // The offset after the last record of the partition aggregated into
    // this publication or an earlier one (-1: not known). The partition's
    // next owner resumes at the largest it finds (ReadPublishedOffsets).
    int64_t next_offset = -1;
    // The pieces of the partition's keyed state published before this
    // heartbeat on every partition (partial_state.h): 0, none handed over.
    uint32_t state_chunks = 0;
    friend bool operator==(const Input&, const Input&) = default;
  };
  std::string instance;
  uint64_t epoch = 0;           // see PartialPanes::epoch
  TimeMs watermark = kMinTime;  // the instance's own watermark
  bool leaving = false;         // the instance stops: its last heartbeat
  std::vector<Input> inputs;    // the partitions it reads now
  // Every partition of the source topics, from their metadata (empty: not
  // known). The merge holds its watermark for a partition in this list
  // that no instance has reported yet. Absent in older heartbeats.
  std::vector<std::string> all_inputs;
  // The latest event time the instance has read (kMinTime: none), so that
  // at the end of a bounded input the merge marks partial windows as one
  // instance would. Absent in older heartbeats.
  TimeMs last_ts = kMinTime;
  // Names the publication's state pieces (partial_state.h); 0: none.
  // Absent in older heartbeats.
  uint64_t handover_id = 0;
  // The publication's id, as in its panes messages (0: not numbered; older
  // heartbeats).
  uint64_t publication = 0;
  // Metrics that started over on the instance since its last publication (a
  // reload or a restore under rules that changed them), by name, with the
  // latest event time it had read then (a stream's metric: plus the
  // stream's horizon). They hold none of the events read before, so the
  // merge marks their windows starting by then partial, as one job would.
  // Absent in older heartbeats.
  std::vector<std::pair<std::string, TimeMs>> started_over;
};

// The operator key in panes messages: a hash of MetricOperator::shape_key
// (of MetricOperator::state_key in "VPP1" messages).
uint64_t PartialOperatorKey(std::string_view key);

struct PartialPanes {
  uint64_t op = 0;
  std::string_view group;
  std::string_view instance;
  // Sources without a consumer group (Kinesis) number their publications
  // by checkpoint epoch; a publication repeated after a restart carries its
  // epoch again and the merge drops it once it has that epoch's heartbeat.
  // 0: not numbered (Kafka: offsets ride in the transaction).
  uint64_t epoch = 0;
  // The hashes of the accumulators' keys (MetricOperator::accumulator_hashes),
  // in the order every pane holds them. Empty in "VPP1" messages (`legacy`),
  // whose panes hold the operator's accumulators in its own order.
  std::vector<uint64_t> accumulators;
  bool legacy = false;
  std::vector<std::pair<TimeMs, std::string_view>> panes;  // start, encoded accumulators
  // The id of the publication the message belongs to (0: none; DrainPanes
  // leaves it out, PartialsPublisher adds it with WithPublication).
  uint64_t publication = 0;
};

enum class PartialKind { kPanes, kHeartbeat, kState, kUnknown };
PartialKind PeekPartial(std::string_view message);

std::string EncodeHeartbeat(const PartialHeartbeat& hb);
bool DecodeHeartbeat(std::string_view message, PartialHeartbeat* out);
// The panes message of one group of one operator whose accumulators have
// the keys `accumulators` (their hashes, in the panes' order).
std::string EncodePanes(uint64_t op, std::string_view group, std::string_view instance,
                        uint64_t epoch, const std::vector<uint64_t>& accumulators,
                        const std::vector<std::pair<TimeMs, const AccSet*>>& panes);
// The same in the older format ("VPP1": `op` hashes the state key; no
// accumulator keys), as checkpoints of older versions hold them.
std::string EncodeLegacyPanes(uint64_t op, std::string_view group, std::string_view instance,
                              uint64_t epoch,
                              const std::vector<std::pair<TimeMs, const AccSet*>>& panes);
// Views into `message`.
bool DecodePanes(std::string_view message, PartialPanes* out);
// A panes message from EncodePanes or DrainPanes with the id of the
// publication that carries it (nonzero).
std::string WithPublication(std::string_view panes_message, uint64_t publication);

// The partials partition of the panes messages with Kafka key `key`, of
// `partitions`: librdkafka's consistent partitioner (CRC32 of the key), as
// the default partitioner places keyed messages. Instances name it when
// they publish, and a merge instance computes it to tell its own groups
// from those of the others (merge_stage.h).
int32_t PanesPartition(std::string_view key, int32_t partitions);

// The Kafka key of every panes message of an experiment's inputs.
inline constexpr std::string_view kExperimentInputsKey = "vigil experiment inputs";
// The Kafka key of the panes messages of `op`'s group `group`: the
// operator key and the group, or kExperimentInputsKey for the operator of
// an experiment's inputs.
void PanesKey(const MetricOperator& op, std::string_view group, std::string* key);
// The panes messages of every metric operator of `flow`, as (key, value),
// emptying its stores. A group's panes go in one message (several when it
// has very many), keyed by operator and group, so that merge instances
// split the groups; those of experiments' inputs all by
// kExperimentInputsKey, so that one merge instance has them all.
void DrainPanes(Dataflow* flow, std::string_view instance, uint64_t epoch,
                const std::function<void(std::string_view key, std::string_view value)>& emit);
using PartialMessages = std::vector<std::pair<std::string, std::string>>;  // key, value

// What the newest heartbeat naming an event partition says of it.
struct PublishedInput {
  int64_t next_offset = -1;
  TimeMs watermark = kMinTime;
  std::string instance;    // that published it
  bool has_state = false;  // the heartbeat handed keyed state over
  std::string state;       // EncodeHandedOver (operators/dataflow/handover.h)
};

// The newest heartbeat of each of `inputs` ("topic/partition") at the end
// of partition 0 of the partials topic (each heartbeat goes to every
// partition), read with isolation.level read_committed, with the keyed
// state handed over in its publication. Reads backwards in growing steps
// until every input and its state is found or the partition's start is
// reached; inputs no heartbeat names are absent from the result.
absl::StatusOr<std::map<std::string, PublishedInput>> ReadPublished(
    const KafkaUrl& url, const KafkaProperties& properties, const std::vector<std::string>& inputs);

class PartialsPublisher {
 public:
  // A transactional producer ("vigil-partials-<instance>") on the topic,
  // which must exist (its partition count is read once).
  static absl::StatusOr<std::unique_ptr<PartialsPublisher>> Open(const KafkaUrl& url,
                                                                 const KafkaProperties& properties,
                                                                 const std::string& instance);

  // One transaction: the panes of every metric operator of `flow` (the
  // stores are emptied), the heartbeat to every partition, and `offsets`
  // for the consumer group. On failure the job must stop: the offsets were
  // not committed, so a restart aggregates those records again.
  absl::Status Publish(Dataflow* flow, const PartialHeartbeat& heartbeat,
                       const rd_kafka_topic_partition_list_t* offsets,
                       const rd_kafka_consumer_group_metadata_t* group);
  // The same with panes messages drained before (DrainPanes), e.g. kept in
  // a checkpoint to be published again after a restart.
  absl::Status PublishMessages(const PartialMessages& messages, const PartialHeartbeat& heartbeat,
                               const rd_kafka_topic_partition_list_t* offsets,
                               const rd_kafka_consumer_group_metadata_t* group);
  // Keyed state to hand over in the next Publish: per partition, the
  // encoded state (operators/dataflow/handover.h). Publish names the pieces
  // in its heartbeat; they are dropped after it, sent or not.
  void HandOver(std::map<std::string, std::string> states) { handover_ = std::move(states); }

  uint64_t messages() const { return messages_; }
  uint64_t publications() const { return publications_; }
  const std::string& topic() const { return topic_; }

 private:
  PartialsPublisher() = default;
  std::unique_ptr<KafkaWriter> writer_;
  std::string topic_;
  std::string instance_;
  int partitions_ = 1;
  uint64_t messages_ = 0;
  uint64_t publications_ = 0;
  std::map<std::string, std::string> handover_;
  uint64_t next_handover_id_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};  // publication ids
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SCALE_OUT_PARTIALS_H_
