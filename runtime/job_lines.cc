// Job: checkpoints of file and stdin inputs (runtime/job.h).
//
// A line source has no positions of its own; the job keeps them: the file
// being read (its index in the job's list), the line of the last record it
// handed to the operators, and a hash of that record. A restart opens that
// file, reads past the records up to that line without processing them,
// and checks that the record on the line is the one the checkpoint saw: a
// different file, or a different stream piped to stdin, is refused rather
// than resumed at the wrong place. Stdin is so resumed by record count when
// the same stream is piped again.
#include <cstdio>

#include "absl/strings/numbers.h"
#include "base/hash.h"
#include "base/strings.h"
#include "runtime/job.h"

namespace vigil {

bool Job::HasLinePositions() const {
  return config_.source.kind == SourceKind::kFile || config_.source.kind == SourceKind::kStdin;
}

std::string Job::SourceIdentity() const {
  if (config_.source.kind == SourceKind::kFile) {
    return StrCat("files:", StrJoin(config_.source.paths, ","));
  }
  return source_->name();
}

std::string Job::SaveLinePositions() const {
  const size_t file = config_.source.kind == SourceKind::kFile ? next_path_ - 1 : 0;
  return StrCat("lines ", file, " ", line_, " ", line_hash_, "\n");
}

absl::Status Job::RestoreLinePositions(std::string_view positions) {
  std::vector<std::string_view> f = StrSplit(positions.substr(0, positions.find('\n')), ' ');
  auto number = [&](size_t i, uint64_t* out) {
    return absl::SimpleAtoi(absl::string_view(f[i].data(), f[i].size()), out);
  };
  uint64_t file = 0, line = 0, hash = 0;
  if (f.size() != 4 || f[0] != "lines" || !number(1, &file) || !number(2, &line) ||
      !number(3, &hash)) {
    return absl::DataLossError(StrCat("bad line position \"", positions, "\""));
  }
  if (config_.source.kind == SourceKind::kFile) {
    if (file >= config_.source.paths.size()) {
      return absl::FailedPreconditionError(StrCat("the checkpoint was reading file ", file + 1,
                                                  " of its list; this job has ",
                                                  config_.source.paths.size()));
    }
    next_path_ = file;
    if (absl::Status s = OpenNextSource(); !s.ok()) return s;
  }
  skip_to_line_ = line;
  skip_hash_ = hash;
  // Checkpoints taken while the restored records are read past keep the
  // restored position.
  line_ = line;
  line_hash_ = hash;
  return absl::OkStatus();
}

absl::Status Job::SkipRestoredLines(std::vector<Record>* batch) {
  size_t keep = 0;
  while (keep < batch->size() && (*batch)[keep].line < skip_to_line_) ++keep;
  if (keep < batch->size()) {
    const Record& r = (*batch)[keep];
    if (r.line != skip_to_line_ || HashBytes(r.data) != skip_hash_) {
      return absl::FailedPreconditionError(
          StrCat(source_->name(), ": line ", skip_to_line_,
                 " is not the record the checkpoint was taken after: this is not the input it was "
                 "reading (use another checkpoint directory, or the same input)"));
    }
    line_ = r.line;
    line_hash_ = skip_hash_;
    skip_to_line_ = 0;
    ++keep;
  }
  batch->erase(batch->begin(), batch->begin() + static_cast<std::ptrdiff_t>(keep));
  return absl::OkStatus();
}

void Job::NoteLinePosition(const std::vector<Record>& batch) {
  if (batch.empty()) return;
  line_ = batch.back().line;
  line_hash_ = HashBytes(batch.back().data);
}

}  // namespace vigil
