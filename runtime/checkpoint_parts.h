// runtime/checkpoint_parts.h
//
// The outputs of a job as parts of its checkpoints (runtime/checkpointer.h):
//
//   OutputFilePart   a results or dead-letter file: fsync'd, and its size
//                    kept, so that a restart truncates it there and writes
//                    on (LineWriter::Open with the kept size)
//   NotifierPart     every notification raised so far is spooled, and the
//                    notifier's state (renotify holds, re-sends, what its
//                    spools could not write) kept under kStateKey
//   ArchivePart      the raw-event archive lists each batch with the epoch
//                    that covers its records; a checkpoint the archive is
//                    behind for is skipped
//   KafkaSinkPart    the Kafka output's transaction is committed before
//                    the checkpoint is written; if that fails the job stops
//   WarehousePart    the windows and alerts since the last checkpoint become
//                    one transaction of the results database, and every
//                    batch not yet committed is kept under kStateKey
//
// Example:
//   OutputFilePart results("results.ndjson", sink->writer());
//   checkpointer.Add(&results);
#ifndef VIGIL_RUNTIME_CHECKPOINT_PARTS_H_
#define VIGIL_RUNTIME_CHECKPOINT_PARTS_H_

#include <string>
#include <string_view>

#include "operators/archive/archive_writer.h"
#include "operators/notify/notifier.h"
#include "operators/sink/kafka_sinks.h"
#include "operators/sink/output_sinks.h"
#include "operators/warehouse/warehouse_sink.h"
#include "runtime/checkpointer.h"

namespace vigil {

// The name a checkpoint keeps an output file under: its absolute path with
// `.`, `..` and the symbolic links that exist resolved, so that a restart
// naming the file another way (relative, `./x`) resumes it rather than
// starting it over. "-" (standard output) stays "-".
std::string OutputFileKey(const std::string& path);

class OutputFilePart : public CheckpointPart {
 public:
  // `path` as the job was given it; kept as OutputFileKey(path).
  OutputFilePart(const std::string& path, LineWriter* writer)
      : path_(OutputFileKey(path)), writer_(writer) {}
  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;

 private:
  std::string path_;
  LineWriter* writer_;
};

class NotifierPart : public CheckpointPart {
 public:
  static constexpr std::string_view kStateKey = "vigil.notifier";
  explicit NotifierPart(Notifier* notifier) : notifier_(notifier) {}
  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;

 private:
  Notifier* notifier_;
};

class ArchivePart : public CheckpointPart {
 public:
  explicit ArchivePart(ArchiveWriter* archive) : archive_(archive) {}
  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;
  void Committed(const CheckpointData& data) override { archive_->Committed(data.epoch); }

 private:
  ArchiveWriter* archive_;
};

class KafkaSinkPart : public CheckpointPart {
 public:
  explicit KafkaSinkPart(KafkaSink* sink) : sink_(sink) {}
  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;
  // The next transaction belongs to the next checkpoint.
  void Committed(const CheckpointData& data) override { sink_->set_epoch(data.epoch + 1); }

 private:
  KafkaSink* sink_;
};

class WarehousePart : public CheckpointPart {
 public:
  explicit WarehousePart(WarehouseSink* sink) : sink_(sink) {}
  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;

 private:
  WarehouseSink* sink_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CHECKPOINT_PARTS_H_
