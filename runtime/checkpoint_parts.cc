#include "runtime/checkpoint_parts.h"

#include <filesystem>
#include <system_error>

#include "base/strings.h"

namespace vigil {

std::string OutputFileKey(const std::string& path) {
  if (path.empty() || path == "-") return path;
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return path;
  std::filesystem::path key = std::filesystem::weakly_canonical(absolute, ec);
  if (ec) return absolute.lexically_normal().string();
  return key.string();
}

absl::Status OutputFilePart::Prepare(uint64_t, CheckpointData* data) {
  data->outputs.emplace_back(path_, writer_->Sync());
  return absl::OkStatus();
}

absl::Status NotifierPart::Prepare(uint64_t, CheckpointData* data) {
  // Notifications raised so far are in the spool before the checkpoint
  // says they were raised.
  notifier_->WaitSpooled();
  data->panes.emplace_back(kStateKey, notifier_->EncodeState());
  return absl::OkStatus();
}

absl::Status ArchivePart::Prepare(uint64_t epoch, CheckpointData*) {
  // A checkpoint never claims records the archive does not hold.
  if (absl::Status s = archive_->Checkpoint(epoch); !s.ok()) {
    return absl::UnavailableError(StrCat("the archive is behind: ", std::string(s.message())));
  }
  return absl::OkStatus();
}

absl::Status KafkaSinkPart::Prepare(uint64_t, CheckpointData*) {
  if (absl::Status s = sink_->Checkpoint(); !s.ok()) {
    return absl::InternalError(
        StrCat("the Kafka sink could not commit (", std::string(s.message()), ")"));
  }
  return absl::OkStatus();
}

absl::Status WarehousePart::Prepare(uint64_t, CheckpointData* data) {
  sink_->Seal();
  data->panes.emplace_back(std::string(WarehouseSink::kStateKey), sink_->EncodeState());
  return absl::OkStatus();
}

}  // namespace vigil
