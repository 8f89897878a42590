#include "runtime/readiness.h"

#include "base/strings.h"

namespace vigil {

void WatermarkStall::Observe(TimeMs watermark, const std::string& holder, uint64_t events,
                             TimeMs now) {
  absl::MutexLock lock(&mu_);
  if (holder.empty() || watermark > watermark_) {
    stalled_ = 0;
  } else if (!holder_.empty() && events > events_ && now > last_) {
    // Held across the whole interval (a fresh hold starts a fresh count),
    // and events arrived in it.
    stalled_ += now - last_;
  }
  watermark_ = watermark;
  events_ = events;
  last_ = now;
  holder_ = holder;
}

DurationMs WatermarkStall::stalled() const {
  absl::MutexLock lock(&mu_);
  return stalled_;
}

bool WatermarkStall::over() const { return max_stall_ > 0 && stalled() > max_stall_; }

std::string WatermarkStall::Check() const {
  if (!over()) return "";
  absl::MutexLock lock(&mu_);
  std::string msg = StrCat("the watermark has not advanced for ",
                           FormatDuration(stalled_ >= 1000 ? stalled_ / 1000 * 1000 : stalled_),
                           " of traffic (readiness.max_watermark_stall ",
                           FormatDuration(max_stall_), "): input ", holder_, " holds it");
  if (watermark_ == kMinTime) {
    msg.append(" before any watermark");
  } else {
    StrAppend(&msg, " at ", FormatTimestamp(watermark_));
  }
  return msg;
}

std::string PagingReadiness(const std::vector<ReceiverStats>& stats) {
  std::string msg;
  for (const ReceiverStats& s : stats) {
    if (s.spool_healthy) continue;
    StrAppend(&msg, msg.empty() ? "the paging spool cannot be written: " : "; ", s.receiver, " ",
              s.target, ": ", s.in_memory, " notification(s) held in memory only");
    if (!s.spool_error.empty()) StrAppend(&msg, " (", s.spool_error, ")");
  }
  return msg;
}

std::string ArchiveReadiness(const ArchiveStats& stats, const std::string& root) {
  if (stats.failing.empty()) return "";
  return StrCat("the archive cannot write to ", root, ": ", stats.failing, "; ",
                stats.pending_batches, stats.pending_batches == 1 ? " batch (" : " batches (",
                stats.pending_records, stats.pending_records == 1 ? " record" : " records",
                ") wait in memory");
}

}  // namespace vigil
