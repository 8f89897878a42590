#include "runtime/line_positions.h"

#include "absl/strings/numbers.h"
#include "base/hash.h"
#include "base/strings.h"

namespace vigil {

std::string LinePositions::Save(uint64_t file) const {
  return StrCat("lines ", file, " ", line_, " ", line_hash_, "\n");
}

absl::Status LinePositions::Restore(std::string_view positions, uint64_t* file) {
  std::vector<std::string_view> f = StrSplit(positions.substr(0, positions.find('\n')), ' ');
  auto number = [&](size_t i, uint64_t* out) {
    return absl::SimpleAtoi(absl::string_view(f[i].data(), f[i].size()), out);
  };
  uint64_t line = 0, hash = 0;
  if (f.size() != 4 || f[0] != "lines" || !number(1, file) || !number(2, &line) ||
      !number(3, &hash)) {
    return absl::DataLossError(StrCat("bad line position \"", positions, "\""));
  }
  skip_to_line_ = line;
  skip_hash_ = hash;
  // Checkpoints taken while the restored records are read past keep the
  // restored position.
  line_ = line;
  line_hash_ = hash;
  return absl::OkStatus();
}

absl::Status LinePositions::Skip(const std::string& source, std::vector<Record>* batch) {
  size_t keep = 0;
  while (keep < batch->size() && (*batch)[keep].line < skip_to_line_) ++keep;
  if (keep < batch->size()) {
    const Record& r = (*batch)[keep];
    if (r.line != skip_to_line_ || HashBytes(r.data) != skip_hash_) {
      return absl::FailedPreconditionError(
          StrCat(source, ": line ", skip_to_line_,
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

void LinePositions::Note(const std::vector<Record>& batch) {
  if (batch.empty()) return;
  line_ = batch.back().line;
  line_hash_ = HashBytes(batch.back().data);
}

}  // namespace vigil
