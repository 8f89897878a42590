// runtime/record_webhook.h
//
// RecordWebhook POSTs the records of the rule files' `outputs:` to one URL,
// batched: each POST is an NDJSON body (Content-Type application/x-ndjson)
// of at most `batch` lines, one per record,
//
//   {"output":"labeling-queue","record":{"ts":"…","turn_id":"…",…}}
//
// in the order RecordOutputs releases them (event time, output, line).
//
// Delivery runs on its own thread, so a slow receiver never slows the job.
// Transport errors, timeouts, 408, 429 and 5xx are retried with exponential
// backoff (Retry-After honoured) until accepted; any other 4xx drops the
// batch, counted as failed and logged (the receiver's reply cleaned of the
// URL's credentials, cut to 200 bytes).
//
// At least once with checkpoints: RecordWebhook is a CheckpointPart whose
// state is the records not yet accepted; a restored job sends them first,
// then what the replay from the checkpoint releases. A batch accepted after
// a checkpoint and before a crash is sent again. Without checkpoints, Flush
// at the end of a run waits up to the HTTP timeout; what is still queued
// after it is lost. At most `max_queued` records wait; over that the oldest
// are dropped, counted and logged.
//
// Example:
//   auto w = RecordWebhook::Create({.url = "http://labeling:8080/records"});
//   (*w)->Enqueue("labeling-queue", line);     // from RecordOutputs::Flush
//   (*w)->Flush();                             // at the end of the run
#ifndef VIGIL_RUNTIME_RECORD_WEBHOOK_H_
#define VIGIL_RUNTIME_RECORD_WEBHOOK_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/time.h"
#include "operators/net/http_client.h"
#include "runtime/checkpointer.h"

namespace vigil {

class RecordWebhook : public CheckpointPart {
 public:
  static constexpr std::string_view kStateKey = "vigil.record-webhook";

  struct Options {
    std::string url;
    size_t batch = 500;
    size_t max_queued = 1000000;
    DurationMs timeout = 10000;
    DurationMs retry_initial = 500;
    DurationMs retry_max = 30000;
    std::optional<std::string> restored;  // the state of a restored checkpoint
  };
  struct Stats {
    uint64_t sent = 0;     // records accepted (2xx)
    uint64_t failed = 0;   // records of batches rejected for good (4xx)
    uint64_t dropped = 0;  // records dropped over max_queued
    uint64_t retried = 0;  // POSTs that failed and were retried
    size_t queued = 0;     // records waiting now
  };

  static absl::StatusOr<std::unique_ptr<RecordWebhook>> Create(Options options);
  ~RecordWebhook() override;  // stops the thread; what is queued is lost

  void Enqueue(std::string_view output, std::string_view record);
  // Waits, at most the HTTP timeout, until everything queued is accepted.
  void Flush();
  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;
  Stats stats() const;

 private:
  explicit RecordWebhook(Options options) : options_(std::move(options)) {}
  void Run();
  // POSTs `body` until accepted (true), rejected (false) or stopping (nullopt).
  std::optional<bool> Deliver(const std::string& body, size_t lines);

  const Options options_;
  std::string target_;
  std::string shown_url_;
  std::vector<std::string> secrets_;
  std::unique_ptr<HttpClient> client_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);  // NDJSON lines
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;           // lines of the POST being sent
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  TimeMs last_drop_log_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> sent_{0}, failed_{0}, dropped_{0}, retried_{0};
  std::thread thread_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_RECORD_WEBHOOK_H_
