// operators/sink/output_sinks.h
//
// The sinks of the foundation job:
//   - ConsoleAlertSink: alert transitions for a person (one aligned line)
//     or a program (`--output json`: one JSON object per line);
//   - ResultFileSink: every closed window as NDJSON (the aggregated feed);
//   - DeadLetterWriter: rejected records as NDJSON with reason, detail,
//     source position and the record itself.
// JSON shapes are stable and documented in docs/outputs-and-paging.md.
//
// Example:
//   ConsoleAlertSink console(stdout, OutputFormat::kText);
//   console.OnAlert(notice);
//   // 2026-11-24T12:05:00.000Z FIRING   P1 LatencyP99Critical value=12034 {} p99 ...
#ifndef VIGIL_OPERATORS_SINK_OUTPUT_SINKS_H_
#define VIGIL_OPERATORS_SINK_OUTPUT_SINKS_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "operators/dataflow/sink.h"
#include "operators/parse/event_parser.h"
#include "operators/source/record_source.h"

namespace vigil {

enum class OutputFormat { kText, kJson };

void AppendAlertJson(const AlertNotice& n, std::string* out);
void AppendWindowJson(const WindowResult& r, std::string* out);
std::string AlertLine(const AlertNotice& n);

// Owns a FILE* (or borrows stdout/stderr) with a large buffer.
class LineWriter {
 public:
  // Creates or truncates `path` ("-": stdout). With `resume_size`, an
  // existing file is kept up to that many bytes and appended to (restart
  // from a checkpoint: what was written after it is written again).
  static absl::StatusOr<std::unique_ptr<LineWriter>> Open(
      const std::string& path, std::optional<uint64_t> resume_size = std::nullopt);
  explicit LineWriter(FILE* borrowed) : file_(borrowed), owned_(false) {}
  ~LineWriter();
  void Write(std::string_view line);  // appends '\n'
  void Flush();
  // Flushes and fsyncs; returns the file's size (0 for stdout).
  uint64_t Sync();

 private:
  LineWriter(FILE* f, bool owned) : file_(f), owned_(owned) {}
  FILE* file_;
  bool owned_;
};

class ConsoleAlertSink : public Sink {
 public:
  // Pending transitions are shown only with `show_pending`.
  ConsoleAlertSink(LineWriter* out, OutputFormat format, bool show_pending = true)
      : out_(out), format_(format), show_pending_(show_pending) {}
  void OnAlert(const AlertNotice& n) override;
  void Flush() override { out_->Flush(); }

 private:
  LineWriter* out_;
  OutputFormat format_;
  bool show_pending_;
};

class ResultFileSink : public Sink {
 public:
  explicit ResultFileSink(std::unique_ptr<LineWriter> out) : out_(std::move(out)) {}
  void OnWindow(const WindowResult& r) override;
  void Flush() override { out_->Flush(); }
  LineWriter* writer() { return out_.get(); }

 private:
  std::unique_ptr<LineWriter> out_;
  std::string buf_;
};

class DeadLetterWriter {
 public:
  // `lines`: each dead letter says the record's line (a file's, stdin's;
  // the generator's and a Kinesis shard's record number); a Kafka message
  // has none, only its partition (the source) and offset. `offsets`: it
  // says the record's offset (a file's or stdin's byte, the generator's, a
  // Kafka message's); a Kinesis record has none (its shard and number say
  // which it is).
  explicit DeadLetterWriter(std::unique_ptr<LineWriter> out, bool lines = true, bool offsets = true)
      : out_(std::move(out)), lines_(lines), offsets_(offsets) {}
  void Write(DeadReason reason, std::string_view detail, const std::string& source,
             const Record& record, TimeMs ts = kMinTime);
  // A record vigil built rather than read (a join's unmatched right event,
  // its key and fields): no input, line, offset or size, which would point
  // at another record.
  void WriteBuilt(DeadReason reason, std::string_view detail, const std::string& source,
                  std::string_view record, TimeMs ts);
  void Flush() { out_->Flush(); }
  LineWriter* writer() { return out_.get(); }

 private:
  // The reason, detail and source of a dead letter, into buf_.
  void Begin(DeadReason reason, std::string_view detail, const std::string& source);
  // Its time (unless kMinTime) and record, from buf_ out.
  void Finish(TimeMs ts, std::string_view data, bool truncated);

  std::unique_ptr<LineWriter> out_;
  bool lines_;
  bool offsets_;
  std::string buf_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SINK_OUTPUT_SINKS_H_
