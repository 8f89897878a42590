// runtime/line_positions.h
//
// Checkpoint positions of file and stdin inputs, which have none of their
// own: the file being read (its index in the job's list), the line of the
// last record handed to the operators, and a hash of that record. A restart
// opens that file, reads past the records up to that line without
// processing them, and checks that the record on the line is the one the
// checkpoint saw: a different file, or a different stream piped to stdin,
// is refused rather than resumed at the wrong place. Stdin is so resumed by
// record count when the same stream is piped again.
//
// Saved as one line: "lines FILE LINE HASH\n".
//
// Example:
//   LinePositions lines;
//   lines.Note(batch);                        // after each batch is read
//   std::string saved = lines.Save(file);     // into the checkpoint
//   ... after a restart:
//   uint64_t file;  lines.Restore(saved, &file);   // reopen that file
//   if (lines.skipping()) lines.Skip("file:x", &batch);
#ifndef VIGIL_RUNTIME_LINE_POSITIONS_H_
#define VIGIL_RUNTIME_LINE_POSITIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "operators/source/record_source.h"

namespace vigil {

class LinePositions {
 public:
  std::string Save(uint64_t file) const;
  // DataLoss for a malformed position; *file: the file to reopen.
  absl::Status Restore(std::string_view positions, uint64_t* file);

  // Reading past the restored records.
  bool skipping() const { return skip_to_line_ > 0; }
  uint64_t skip_to_line() const { return skip_to_line_; }
  // The line of the last record taken (or skipped past) in the file.
  uint64_t line() const { return line_; }
  // Drops the records of `batch` up to the restored line and checks the
  // one on it; FailedPrecondition when it is not the record the checkpoint
  // saw. `source` names the input in that message.
  absl::Status Skip(const std::string& source, std::vector<Record>* batch);

  // The last record of `batch` is the position now.
  void Note(const std::vector<Record>& batch);
  // A new file starts at its beginning.
  void StartFile() {
    line_ = 0;
    line_hash_ = 0;
  }

 private:
  uint64_t line_ = 0;
  uint64_t line_hash_ = 0;
  uint64_t skip_to_line_ = 0;  // restored: read past the records up to this line
  uint64_t skip_hash_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_LINE_POSITIONS_H_
