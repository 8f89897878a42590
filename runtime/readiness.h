// runtime/readiness.h
//
// WatermarkStall is the watermark-freshness half of /readyz. A live job is
// stuck when events keep arriving but its watermark does not move: a
// partition whose events stopped advancing in event time, a producer with a
// frozen clock, an input that holds the watermark back while the others
// deliver. So the stall is the processing time during which events were
// processed while the watermark stayed where it was:
//   - an advance of the watermark resets it;
//   - so does nothing holding the watermark back (no input that is active,
//     not idle and has delivered data): an idle source is never stuck —
//     once every input is idle the watermark follows the processing clock
//     (DESIGN §3), and where it cannot (event time ahead of the clock)
//     nothing holds it;
//   - a pause in traffic neither counts nor resets it: the watermark then
//     waits for the idle timeout, which is not a fault, and a stream that
//     trickles in while stuck is still stuck.
// Bounded jobs (replays) never report a stall: the job passes no holder.
//
// The job thread calls Observe about once a second; the stall is counted in
// whole intervals between two calls in which events arrived and the
// watermark was held throughout. The HTTP thread calls Check.
//
// Example:
//   WatermarkStall stall(/*max_stall=*/60'000);
//   stall.Observe(/*watermark=*/5'000, /*holder=*/"events/0", /*events=*/10, /*now=*/0);
//   stall.Observe(5'000, "events/0", 20, 50'000);
//   stall.Check();   // "": unmoved for 50 s of traffic, within the bound
//   stall.Observe(5'000, "events/0", 20, 500'000);
//   stall.Check();   // "": no event in that interval, still 50 s
//   stall.Observe(5'000, "events/0", 30, 511'000);
//   stall.Check();   // "the watermark has not advanced for 1m1s of traffic ..."
//   stall.Observe(6'000, "events/0", 40, 512'000);
//   stall.Check();   // "": it advanced
//
// PagingReadiness is the paging half: a spool that cannot be written (disk
// full, EIO, permissions) holds notifications in memory only, where a
// crash before the next checkpoint loses them, so the job is not ready
// until every spool holds on disk all it queues.
//
// ArchiveReadiness is the archive's half: while its writes fail (a bucket
// that does not answer, a full disk), closed batches wait in memory and the
// job skips its checkpoints, so it is not ready until they are written.
//
// Example:
//   PagingReadiness(notifier->Stats());
//   // "the paging spool cannot be written: pagerduty http://pd:8080/***: 12
//   //  notification(s) held in memory only (cannot write spool ...: No space
//   //  left on device)"
#ifndef VIGIL_RUNTIME_READINESS_H_
#define VIGIL_RUNTIME_READINESS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/time.h"
#include "operators/archive/archive_writer.h"
#include "operators/notify/notify_target.h"

namespace vigil {

class WatermarkStall {
 public:
  // `max_stall` 0 disables the check (Check always answers "").
  explicit WatermarkStall(DurationMs max_stall) : max_stall_(max_stall) {}

  // The job watermark at processing time `now`; the input holding it back
  // ("" when none does: a bounded job, every input idle or revoked, no data
  // yet); the count of events processed so far.
  void Observe(TimeMs watermark, const std::string& holder, uint64_t events, TimeMs now);

  // Processing time with traffic during which the watermark did not move.
  DurationMs stalled() const;
  // Whether that is over the bound (never when the bound is 0).
  bool over() const;
  // "" while ready; otherwise why not, for the /readyz body.
  std::string Check() const;

  DurationMs max_stall() const { return max_stall_; }

 private:
  const DurationMs max_stall_;
  mutable absl::Mutex mu_;
  TimeMs watermark_ ABSL_GUARDED_BY(mu_) = kMinTime;  // as last observed
  TimeMs last_ ABSL_GUARDED_BY(mu_) = kMinTime;       // time of the last Observe
  uint64_t events_ ABSL_GUARDED_BY(mu_) = 0;
  DurationMs stalled_ ABSL_GUARDED_BY(mu_) = 0;
  std::string holder_ ABSL_GUARDED_BY(mu_);
};

// "" while every target's spool is healthy; otherwise why not, naming each
// target whose spool is not (receiver and redacted URL).
std::string PagingReadiness(const std::vector<ReceiverStats>& stats);

// "" while the archive writes; otherwise its error and what waits:
// "the archive cannot write to s3://b/p/events: ...; 3 batches (1200
// records) wait in memory".
std::string ArchiveReadiness(const ArchiveStats& stats, const std::string& root);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_READINESS_H_
