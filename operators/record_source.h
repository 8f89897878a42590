// operators/record_source.h
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
#ifndef VIGIL_OPERATORS_RECORD_SOURCE_H_
#define VIGIL_OPERATORS_RECORD_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace vigil {

struct Record {
  std::string_view data;
  uint64_t line = 0;     // 1-based line (or sequence number) in the input
  uint64_t offset = 0;   // byte offset of the record in the (decompressed) input
  uint64_t size = 0;     // full size; larger than data.size() when truncated
  bool oversized = false;  // data holds only a prefix of a too-long record
  int input = 0;         // which input (partition) of the source
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
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_RECORD_SOURCE_H_
