// operators/source/record_source.h
//
// A RecordSource yields raw records (one JSON event each) in batches, with
// the position each came from so that a dead-lettered record can be found
// again. Record bytes are views into the source's buffer, valid until the
// next call to Next, and are followed by simdjson's padding.
//
// Sources are either bounded (a file, stdin, a finite generator: a replay,
// whose end of input is the end of event time) or live (a paced generator,
// later Kafka and Kinesis: the watermark may follow the processing clock
// when they go idle).
//
// Example:
//   std::unique_ptr<RecordSource> src = *OpenFileSource("events.ndjson.zst", 1 << 20);
//   std::vector<Record> batch;
//   while (src->Next(&batch, 4096)) for (const Record& r : batch) Process(r);
#ifndef VIGIL_OPERATORS_SOURCE_RECORD_SOURCE_H_
#define VIGIL_OPERATORS_SOURCE_RECORD_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace vigil {

struct Record {
  std::string_view data;
  uint64_t line = 0;       // 1-based line (or sequence number) in the input
  uint64_t offset = 0;     // byte offset of the record in the (decompressed) input
  uint64_t size = 0;       // full size; larger than data.size() when truncated
  bool oversized = false;  // data holds only a prefix of a too-long record
  int input = 0;           // which input (partition) of the source
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Replaces `out` with up to `max` records. Returns false once the input
  // is exhausted and nothing was returned.
  virtual bool Next(std::vector<Record>* out, size_t max) = 0;
  // "file:path", "stdin", "generator".
  virtual const std::string& name() const = 0;
  virtual bool bounded() const = 0;
  virtual int input_count() const { return 1; }
  // A read error that ended the input early (OK otherwise).
  virtual absl::Status status() const { return absl::OkStatus(); }
  // Bytes read so far (for progress); total when known, else 0.
  virtual uint64_t bytes_read() const { return 0; }
  virtual uint64_t bytes_total() const { return 0; }

  // --- Partitioned live sources (Kafka partitions, Kinesis shards) ---
  //
  // Inputs may come and go while the source runs (a consumer-group
  // rebalance, a resharding). Each input keeps one index for the source's
  // lifetime, from 0 up; input_count() is one past the largest index handed
  // out so far, and may grow between calls to Next.

  // A stable, human-readable name: "events/3" (topic/partition),
  // "shardId-000000000001". Stable across restarts: checkpoints key the
  // per-input watermarks by it.
  virtual std::string input_name(int input) const {
    return input == 0 ? name() : std::to_string(input);
  }
  // False once the input is no longer read by this instance (revoked, or a
  // closed shard read to its end): it stops holding the watermark back.
  virtual bool input_active(int /*input*/) const { return true; }
  // How far the input is behind its head: records for Kafka, milliseconds
  // for Kinesis (see lag_unit); -1 when unknown.
  virtual int64_t input_lag(int /*input*/) const { return -1; }
  // Whether the input is read to its head, so that silence on it means no
  // new events rather than a fetch still on its way: only a caught-up input
  // may go idle and stop holding the watermark back. Kafka: the partition's
  // end was reached and nothing newer has arrived; Kinesis: the last fetch
  // was empty and nothing is behind the shard's tip.
  virtual bool input_caught_up(int /*input*/) const { return true; }
  virtual const char* lag_unit() const { return "records"; }
  // False while the source cannot reach its servers (for /readyz).
  virtual bool connected() const { return true; }
  // Every input of the topics or stream, this job's and other scale-out
  // instances' alike, by input_name, from the servers' metadata (Kafka:
  // every partition; Kinesis: every open shard); empty when not known.
  virtual std::vector<std::string> AllInputs() { return {}; }

  // Positions: an opaque, source-defined encoding of where every input is
  // after the last record returned by Next. A checkpoint stores it with the
  // window state; on restart it is handed back to RestorePositions before
  // the first Next, and the source resumes right after those records.
  virtual bool has_positions() const { return false; }
  virtual std::string SavePositions() const { return {}; }
  virtual absl::Status RestorePositions(std::string_view /*positions*/) { return absl::OkStatus(); }
  // Whether the restored positions say the input `name` was read to its
  // end for good (a Kinesis shard closed by a reshard): it never comes back
  // as an input, and nothing waits for it.
  virtual bool RestoredDone(std::string_view /*name*/) const { return false; }
  // A checkpoint holding `positions` (from SavePositions) is durable: a
  // source may now commit them upstream (Kafka consumer-group offsets).
  virtual void PositionsDurable(std::string_view /*positions*/) {}
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SOURCE_RECORD_SOURCE_H_
