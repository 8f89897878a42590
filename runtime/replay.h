// runtime/replay.h
//
// `vigil replay`: runs rule files over recorded events (NDJSON files, .zst,
// or directories of them such as the raw-event archive) at full speed in
// event time, and reports what the rules would have done: the alert
// timeline (each episode's pending, firing and resolved times and peak
// value), a per-metric summary of the closed windows and, for SLOs, the
// error budget each day used. The job is the
// same one `vigil run` runs, so replaying the events of a live run gives
// its alert timeline exactly.
//
// Example:
//   vigil replay --rules deploy/rules/chatbot.yaml --from 2026-01-01T00:00:00Z events/
#ifndef VIGIL_RUNTIME_REPLAY_H_
#define VIGIL_RUNTIME_REPLAY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/dataflow/sink.h"
#include "operators/source/record_source.h"
#include "runtime/checkpointer.h"

namespace vigil {

// Expands directories into event files. A raw-event archive (a directory
// holding MANIFEST, or events/MANIFEST: what `vigil run --archive` writes)
// gives exactly the batch files its manifest lists, hour by hour and within
// an hour in the order they were written. Any other directory gives the
// .ndjson, .json, .zst and .parquet files below it, sorted by path. An
// s3://BUCKET/PREFIX?endpoint=… URL is an archive in a bucket: its
// manifest's batches, as s3:// URLs of single objects. Archive batches that
// hold no event in [from, to) are left out; `*past_to` (when given) tells
// whether one of them held events from `to` on: the archive's data goes on
// past the range, so the replay covers event time up to `to`.
absl::StatusOr<std::vector<std::string>> ExpandEventPaths(const std::vector<std::string>& paths,
                                                          TimeMs from = kMinTime,
                                                          TimeMs to = kMaxTime,
                                                          bool* past_to = nullptr);

// Opens one path ExpandEventPaths gave: a file (plain or .zst), a Parquet
// batch of an archive, or an s3:// URL of one batch object. `idle`: a
// named pipe gives empty batches while quiet (OpenFileSource), so that a
// job reading it goes round its loop.
absl::StatusOr<std::unique_ptr<RecordSource>> OpenEventPath(const std::string& path,
                                                            size_t max_record_bytes,
                                                            bool idle = false);

// Collects alert episodes and per-metric window statistics. With
// checkpoints it is a part of them (its state under kStateKey), so a replay
// resumed from a checkpoint reports the whole run, as one never stopped.
class TimelineSink : public Sink, public CheckpointPart {
 public:
  static constexpr std::string_view kStateKey = "vigil.replay-report";
  struct Episode {
    std::string alert;
    std::string severity;
    Labels labels;
    TimeMs pending = kMinTime;
    TimeMs firing = kMinTime;
    TimeMs resolved = kMinTime;  // or cleared, when it never fired
    double peak = 0;             // the alert's largest value while active
    // Fired while inhibited or silenced: "inhibited by X" / "silenced by
    // S", and when it was notified after all (kMinTime: never).
    std::string held_back;
    TimeMs notified = kMinTime;
  };
  // Statistics of the complete windows; partial ones are only counted.
  struct MetricStats {
    uint64_t windows = 0;
    uint64_t partial = 0;
    double min = 0, max = 0, sum = 0, last = 0;
  };

  // One SLO's use of its error budget on one day (UTC), from its daily
  // burn rate at midnight: burn rate × 1 day / the SLO's window.
  struct SloDay {
    std::string slo;
    Labels labels;
    TimeMs day = 0;  // its start
    double burn_rate = 0;
    double budget_used = 0;
    bool partial = false;  // the data starts after the day's start or ends before its end
  };

  void OnWindow(const WindowResult& r) override;
  void OnAlert(const AlertNotice& n) override;
  void OnStillActive(const AlertNotice& n) override;

  const std::vector<Episode>& episodes() const { return episodes_; }
  const std::map<std::string, MetricStats>& metrics() const { return metrics_; }
  const std::vector<SloDay>& slo_days() const { return slo_days_; }
  std::string ToText() const;
  std::string ToJson() const;

  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;
  absl::Status Restore(const CheckpointData& data) override;

 private:
  std::string EncodeState() const;
  bool DecodeState(std::string_view bytes);

  std::vector<Episode> episodes_;
  std::map<std::string, size_t> open_;  // alert + group -> episode index
  std::map<std::string, MetricStats> metrics_;
  std::vector<SloDay> slo_days_;
  // Per SLO daily metric and group: the start of its first pane with data.
  std::map<std::string, TimeMs> slo_first_pane_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_REPLAY_H_
