// operators/warehouse/warehouse_sink.h
//
// WarehouseSink writes every closed window, and every alert transition, to
// two tables of PostgreSQL or Redshift (operators/warehouse/warehouse_sql.h)
// for trend analysis beyond what the job keeps in memory.
//
// Rows go in batches, one transaction each: with checkpoints, a batch is
// what a checkpoint covers (Seal at each checkpoint); without, what closed
// since the last write, at most every `linger`. Writing runs on its own
// thread, so a slow or absent database never slows the job. A failed
// transaction (the server unreachable, restarting, or refusing) is retried
// with exponential backoff until it commits, on a new connection (a batch
// that a row of its own fails, a value a column refuses, is written row by
// row instead, the refused rows logged and counted); the
// batches wait in memory meanwhile ("queued"), at most `max_queued_rows`
// rows, over which the oldest batches are dropped, counted and logged.
//
// Nothing is written twice: rows are idempotent on their keys. With
// checkpoints the batches not yet committed are part of the checkpoint
// (EncodeState), and a restored job writes them first; a batch committed
// after a checkpoint and before a crash is written again, to the same rows.
//
// Retention (`retention` > 0): after each commit, windows that ended and
// transitions that happened more than `retention` before the latest window
// end written are deleted, in transactions of at most 10,000 rows.
//
// Example:
//   WarehouseSink::Options o;
//   o.url = "postgresql://vigil@127.0.0.1:5432/metrics";
//   absl::StatusOr<std::unique_ptr<WarehouseSink>> w = WarehouseSink::Create(o);
//   (*w)->OnWindow(result);          // from the job, as any sink
//   (*w)->Seal();                    // at a checkpoint: one transaction
//   absl::Status s = (*w)->Close();  // at the end: waits for the writes
#ifndef VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_SINK_H_
#define VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_SINK_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "operators/dataflow/sink.h"
#include "operators/warehouse/pg_connection.h"
#include "operators/warehouse/warehouse_sql.h"

namespace vigil {

// `postgresql://…?table=T&alerts_table=A&dialect=redshift&retention=90d`:
// the parameters vigil reads out of a results URL; the rest of the URL
// goes to libpq.
struct WarehouseUrl {
  std::string libpq_url;  // without vigil's parameters
  WarehouseTables tables;
  DurationMs retention = 0;
};
absl::StatusOr<WarehouseUrl> ParseWarehouseUrl(std::string_view url);
// Whether `text` names a database rather than a file: postgresql:// or
// postgres://.
bool IsWarehouseUrl(std::string_view text);

class WarehouseSink : public Sink {
 public:
  static constexpr std::string_view kStateKey = "vigil.warehouse";

  struct Options {
    std::string url;          // as ParseWarehouseUrl takes it
    std::string fingerprint;  // of the rule files: a column of every row
    bool seal_on_checkpoint = false;
    DurationMs linger = 1000;
    DurationMs connect_timeout = 5000;
    DurationMs retry_initial = 500;
    DurationMs retry_max = 30000;
    DurationMs close_timeout = 60000;
    size_t max_queued_rows = 2'000'000;
    size_t rows_per_statement = 1000;
    std::optional<std::string> restored;  // EncodeState of a restored checkpoint
  };
  struct Stats {
    uint64_t windows = 0;       // window rows committed
    uint64_t alerts = 0;        // alert rows committed
    uint64_t transactions = 0;  // committed
    uint64_t failures = 0;      // transactions that failed (each retried)
    uint64_t dropped = 0;       // rows dropped over max_queued_rows
    uint64_t deleted = 0;       // rows deleted by retention
    uint64_t rejected = 0;      // rows the database refused (logged)
    uint64_t writing_ms = 0;    // time spent writing (connecting included)
    size_t queued = 0;          // rows waiting now
  };

  // Connects once and creates the tables if missing: an error names the
  // database (its URL without the password) and the server's message.
  static absl::StatusOr<std::unique_ptr<WarehouseSink>> Create(Options options);
  ~WarehouseSink() override;  // stops the writer; what is queued is lost

  void OnWindow(const WindowResult& r) override;
  void OnAlert(const AlertNotice& n) override;
  // The rows since the last Seal become one batch (one transaction).
  void Seal();
  // Seals and waits up to close_timeout for every batch to commit, then
  // logs what it wrote ("… 3170 windows and 9 alert transitions in 2
  // transactions, 0.21 s writing"); an error says how many rows are left
  // and why.
  absl::Status Close();
  // The batches not yet committed (after Seal: everything so far).
  std::string EncodeState() const;
  // Rule files reloaded: rows written from now on carry `fingerprint`.
  void SetFingerprint(std::string fingerprint);
  Stats stats() const;
  const std::string& shown_url() const { return shown_url_; }

 private:
  struct Batch {
    std::vector<std::string> windows, alerts;  // SQL tuples
    TimeMs max_end = kMinTime;                 // latest complete window's end in it
    size_t rows() const { return windows.size() + alerts.size(); }
  };
  explicit WarehouseSink(Options options) : options_(std::move(options)) {}
  void SealLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();
  // *refused_*: rows the database refused (the rest were written).
  absl::Status Write(const Batch& batch, uint64_t* refused_windows, uint64_t* refused_alerts);
  absl::Status WriteRowByRow(const Batch& batch, uint64_t* refused_windows,
                             uint64_t* refused_alerts);
  void ApplyRetention(TimeMs latest_end);
  bool Wait(DurationMs ms);  // false when stopping

  Options options_;
  WarehouseUrl url_;
  std::string shown_url_;
  std::unique_ptr<PgConnection> conn_;  // the writer thread's

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  Batch open_ ABSL_GUARDED_BY(mu_);
  // The keys of open_'s windows, to keep one row per window in a batch.
  // WindowRowKey -> the row's index in open_.windows and whether it is partial.
  absl::flat_hash_map<std::string, std::pair<size_t, bool>> open_keys_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);  // front: in flight
  size_t queued_rows_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool retry_now_ ABSL_GUARDED_BY(mu_) = false;
  std::string fingerprint_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  TimeMs open_since_ ABSL_GUARDED_BY(mu_) = 0;  // wall clock of open_'s first row
  TimeMs written_end_ = kMinTime;               // writer thread: for retention

  std::atomic<uint64_t> windows_{0}, alerts_{0}, transactions_{0}, failures_{0}, dropped_{0},
      deleted_{0}, rejected_{0}, writing_ms_{0};
  std::thread thread_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_SINK_H_
