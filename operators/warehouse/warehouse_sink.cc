#include "operators/warehouse/warehouse_sink.h"

#include <algorithm>
#include <cstdio>

#include "base/clock.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/warehouse/pg_connection.h"

namespace vigil {
namespace {

constexpr uint8_t kStateFormat = 1;
constexpr size_t kRetentionBatch = 10000;
constexpr DurationMs kLogEvery = 30000;

std::string FormatSeconds(uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(ms) / 1000.0);
  return buf;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("results URL: ", what));
}

}  // namespace

bool IsWarehouseUrl(std::string_view text) {
  return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

absl::StatusOr<WarehouseUrl> ParseWarehouseUrl(std::string_view url) {
  if (!IsWarehouseUrl(url)) return Bad("a database URL starts with postgresql://");
  WarehouseUrl out;
  const size_t q = url.find('?');
  out.libpq_url = std::string(url.substr(0, q));
  if (q == std::string_view::npos) return out;
  std::string rest;
  for (std::string_view param : StrSplit(url.substr(q + 1), '&')) {
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string value(eq == std::string_view::npos ? "" : param.substr(eq + 1));
    if (key == "table" || key == "alerts_table") {
      if (!ValidTableName(value)) {
        return Bad(StrCat(key, "=", value,
                          " is not a table name (letters, digits and _, optionally schema.table)"));
      }
      (key == "table" ? out.tables.windows : out.tables.alerts) = value;
    } else if (key == "dialect") {
      if (value != "postgresql" && value != "redshift") {
        return Bad(StrCat("dialect=", value, ": the dialects are postgresql and redshift"));
      }
      out.tables.dialect =
          value == "redshift" ? WarehouseDialect::kRedshift : WarehouseDialect::kPostgresql;
    } else if (key == "retention") {
      std::optional<DurationMs> d = ParseDuration(value);
      // 0 keeps everything, as the archive's retention.
      if (!d || *d < 0) {
        return Bad(
            StrCat("retention=", value, " is not a duration such as 90d (0: keep everything)"));
      }
      out.retention = *d;
    } else if (!param.empty()) {
      StrAppend(&rest, rest.empty() ? "?" : "&", param);
    }
  }
  if (out.tables.windows == out.tables.alerts) {
    return Bad(StrCat("table and alerts_table are both ", out.tables.windows));
  }
  out.libpq_url += rest;
  return out;
}

absl::StatusOr<std::unique_ptr<WarehouseSink>> WarehouseSink::Create(Options options) {
  absl::StatusOr<WarehouseUrl> url = ParseWarehouseUrl(options.url);
  if (!url.ok()) return url.status();
  std::unique_ptr<WarehouseSink> w(new WarehouseSink(std::move(options)));
  w->url_ = *std::move(url);
  w->shown_url_ = RedactPgUrl(w->options_.url);
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(w->url_.libpq_url, w->options_.connect_timeout);
  absl::Status created = conn.ok() ? (*conn)->Exec(CreateTablesSql(w->url_.tables)) : conn.status();
  if (!created.ok()) {
    return absl::Status(created.code(), StrCat("results database ", w->shown_url_, ": ",
                                               std::string(created.message())));
  }
  w->conn_ = *std::move(conn);
  absl::MutexLock lock(&w->mu_);
  w->fingerprint_ = w->options_.fingerprint;
  if (w->options_.restored) {
    Decoder dec(*w->options_.restored);
    bool ok = dec.GetByte() == kStateFormat;
    for (uint64_t n = ok ? dec.GetVarint() : 0; n > 0 && dec.ok(); --n) {
      Batch b;
      b.max_end = dec.GetSigned();
      for (uint64_t i = dec.GetVarint(); i > 0 && dec.ok(); --i)
        b.windows.emplace_back(dec.GetString());
      for (uint64_t i = dec.GetVarint(); i > 0 && dec.ok(); --i)
        b.alerts.emplace_back(dec.GetString());
      w->queued_rows_ += b.rows();
      w->queue_.push_back(std::move(b));
    }
    if (!ok || !dec.ok() || !dec.done()) {
      return absl::DataLossError("results database: unreadable state in the checkpoint");
    }
  }
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

WarehouseSink::~WarehouseSink() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void WarehouseSink::OnWindow(const WindowResult& r) {
  absl::MutexLock lock(&mu_);
  std::string row = WindowRowSql(url_.tables, r, fingerprint_, WallClockMs());
  // One row per window in a batch (a key twice would fail ON CONFLICT): the
  // last written, a complete one over a partial one, as the upsert keeps.
  auto [it, fresh] = open_keys_.try_emplace(WindowRowKey(r), open_.windows.size(), r.partial);
  if (fresh) {
    open_.windows.push_back(std::move(row));
    ++queued_rows_;
  } else if (!r.partial || it->second.second) {
    open_.windows[it->second.first] = std::move(row);
    it->second.second = r.partial;
  }
  // A partial window ends past what the input covered (this month's, at
  // the end of a one-hour replay): retention counts from complete ones.
  if (!r.partial) open_.max_end = std::max(open_.max_end, r.end);
  if (open_since_ == 0) {
    open_since_ = WallClockMs();
    cv_.SignalAll();
  }
}

void WarehouseSink::OnAlert(const AlertNotice& n) {
  absl::MutexLock lock(&mu_);
  open_.alerts.push_back(AlertRowSql(url_.tables, n, fingerprint_, WallClockMs()));
  ++queued_rows_;
  if (open_since_ == 0) {
    open_since_ = WallClockMs();
    cv_.SignalAll();
  }
}

void WarehouseSink::Seal() {
  absl::MutexLock lock(&mu_);
  SealLocked();
}

void WarehouseSink::SealLocked() {
  open_since_ = 0;
  open_keys_.clear();
  if (open_.rows() == 0) return;
  queue_.push_back(std::move(open_));
  open_ = Batch();
  // Over the bound, the oldest batches go, never the one in flight.
  while (queued_rows_ > options_.max_queued_rows && queue_.size() > (in_flight_ ? 2u : 1u)) {
    auto victim = queue_.begin() + (in_flight_ ? 1 : 0);
    const size_t rows = victim->rows();
    queued_rows_ -= rows;
    dropped_ += rows;
    queue_.erase(victim);
    Log(StrCat("results database ", shown_url_, ": more than ", options_.max_queued_rows,
               " rows waiting; dropped the oldest ", rows, " (", dropped_.load(), " so far)"));
  }
  cv_.SignalAll();
}

absl::Status WarehouseSink::Close() {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(options_.close_timeout);
  absl::MutexLock lock(&mu_);
  SealLocked();
  retry_now_ = true;  // a last attempt now, not after the backoff
  cv_.SignalAll();
  while (!queue_.empty() && !cv_.WaitWithDeadline(&mu_, deadline)) {
  }
  if (queue_.empty()) {
    Log(StrCat("results database ", shown_url_, ": ", windows_.load(), " windows and ",
               alerts_.load(), " alert transitions in ", transactions_.load(), " transactions, ",
               FormatSeconds(writing_ms_.load()), " s writing"));
    return absl::OkStatus();
  }
  return absl::UnavailableError(StrCat("results database ", shown_url_, ": ", queued_rows_,
                                       " rows not written: ", last_error_));
}

std::string WarehouseSink::EncodeState() const {
  Encoder enc;
  enc.PutByte(kStateFormat);
  absl::MutexLock lock(&mu_);
  const bool open = open_.rows() > 0;
  enc.PutVarint(queue_.size() + (open ? 1 : 0));
  auto put = [&](const Batch& b) {
    enc.PutSigned(b.max_end);
    enc.PutVarint(b.windows.size());
    for (const std::string& r : b.windows) enc.PutString(r);
    enc.PutVarint(b.alerts.size());
    for (const std::string& r : b.alerts) enc.PutString(r);
  };
  for (const Batch& b : queue_) put(b);
  if (open) put(open_);
  return enc.Release();
}

void WarehouseSink::SetFingerprint(std::string fingerprint) {
  absl::MutexLock lock(&mu_);
  fingerprint_ = std::move(fingerprint);
}

WarehouseSink::Stats WarehouseSink::stats() const {
  Stats s;
  s.windows = windows_.load();
  s.alerts = alerts_.load();
  s.transactions = transactions_.load();
  s.failures = failures_.load();
  s.dropped = dropped_.load();
  s.deleted = deleted_.load();
  s.rejected = rejected_.load();
  s.writing_ms = writing_ms_.load();
  absl::MutexLock lock(&mu_);
  s.queued = queued_rows_;
  return s;
}

bool WarehouseSink::Wait(DurationMs ms) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(ms);
  absl::MutexLock lock(&mu_);
  // New rows do not cut the backoff short; Close does, once.
  while (!stop_ && !retry_now_ && !cv_.WaitWithDeadline(&mu_, deadline)) {
  }
  retry_now_ = false;
  return !stop_;
}

void WarehouseSink::Run() {
  DurationMs backoff = options_.retry_initial;
  TimeMs last_log = 0;
  while (true) {
    Batch batch;
    {
      absl::MutexLock lock(&mu_);
      while (!stop_) {
        if (!options_.seal_on_checkpoint && open_since_ != 0 &&
            WallClockMs() - open_since_ >= options_.linger) {
          SealLocked();
        }
        if (!queue_.empty()) break;
        if (open_since_ != 0 && !options_.seal_on_checkpoint) {
          cv_.WaitWithTimeout(&mu_, absl::Milliseconds(options_.linger));
        } else {
          cv_.Wait(&mu_);
        }
      }
      if (stop_) return;
      batch = queue_.front();
      in_flight_ = true;
    }
    uint64_t refused_windows = 0, refused_alerts = 0;
    const TimeMs began = MonotonicMs();
    absl::Status s = Write(batch, &refused_windows, &refused_alerts);
    writing_ms_ += MonotonicMs() - began;
    if (!s.ok()) {
      ++failures_;
      conn_.reset();
      const TimeMs now = WallClockMs();
      {
        absl::MutexLock lock(&mu_);
        in_flight_ = false;
        last_error_ = std::string(s.message());
      }
      if (now - last_log >= kLogEvery) {
        last_log = now;
        Log(StrCat("results database ", shown_url_, ": ", std::string(s.message()), "; retrying (",
                   failures_.load(), " failed transactions so far)"));
      }
      if (!Wait(backoff)) return;
      backoff = std::min(backoff * 2, options_.retry_max);
      continue;
    }
    if (backoff != options_.retry_initial) {
      Log(StrCat("results database ", shown_url_, ": writing again"));
      backoff = options_.retry_initial;
      last_log = 0;
    }
    windows_ += batch.windows.size() - refused_windows;
    alerts_ += batch.alerts.size() - refused_alerts;
    ++transactions_;
    {
      absl::MutexLock lock(&mu_);
      in_flight_ = false;
      queued_rows_ -= batch.rows();
      queue_.pop_front();
      cv_.SignalAll();  // Close
    }
    if (url_.retention > 0 && batch.max_end > written_end_) ApplyRetention(batch.max_end);
  }
}

absl::Status WarehouseSink::Write(const Batch& batch, uint64_t* refused_windows,
                                  uint64_t* refused_alerts) {
  if (conn_ == nullptr || !conn_->healthy()) {
    conn_.reset();
    absl::StatusOr<std::unique_ptr<PgConnection>> c =
        PgConnection::Connect(url_.libpq_url, options_.connect_timeout);
    if (!c.ok()) return c.status();
    conn_ = *std::move(c);
  }
  std::string sql = "BEGIN;\n";
  const size_t n = options_.rows_per_statement;
  for (size_t i = 0; i < batch.windows.size(); i += n) {
    std::vector<std::string> chunk(
        batch.windows.begin() + static_cast<std::ptrdiff_t>(i),
        batch.windows.begin() + static_cast<std::ptrdiff_t>(std::min(i + n, batch.windows.size())));
    sql += WriteWindowsSql(url_.tables, chunk);
  }
  for (size_t i = 0; i < batch.alerts.size(); i += n) {
    std::vector<std::string> chunk(
        batch.alerts.begin() + static_cast<std::ptrdiff_t>(i),
        batch.alerts.begin() + static_cast<std::ptrdiff_t>(std::min(i + n, batch.alerts.size())));
    sql += WriteAlertsSql(url_.tables, chunk);
  }
  sql += "COMMIT;";
  absl::Status s = conn_->Exec(sql);
  if (s.ok()) return s;
  if (conn_->healthy()) (void)conn_->Exec("ROLLBACK;");
  if (!absl::IsInvalidArgument(s)) return s;
  return WriteRowByRow(batch, refused_windows, refused_alerts);
}

// A statement of the batch failed on its own (a value a column refuses):
// each row in its own transaction, the refused ones logged and counted.
absl::Status WarehouseSink::WriteRowByRow(const Batch& batch, uint64_t* refused_windows,
                                          uint64_t* refused_alerts) {
  uint64_t refused = 0;
  std::string first;
  auto one = [&](const std::string& statement, uint64_t* refused_of_kind) {
    absl::Status s = conn_->Exec("BEGIN;\n" + statement + "COMMIT;");
    if (s.ok()) return s;
    if (conn_->healthy()) (void)conn_->Exec("ROLLBACK;");
    if (!absl::IsInvalidArgument(s)) return s;
    if (refused++ == 0) first = std::string(s.message());
    ++*refused_of_kind;
    return absl::OkStatus();
  };
  for (const std::string& row : batch.windows) {
    if (absl::Status s = one(WriteWindowsSql(url_.tables, {row}), refused_windows); !s.ok())
      return s;
  }
  for (const std::string& row : batch.alerts) {
    if (absl::Status s = one(WriteAlertsSql(url_.tables, {row}), refused_alerts); !s.ok()) return s;
  }
  if (refused > 0) {
    rejected_ += refused;
    Log(StrCat("results database ", shown_url_, ": refused ", refused, " of ", batch.rows(),
               " rows, the first with: ", first));
  }
  return absl::OkStatus();
}

void WarehouseSink::ApplyRetention(TimeMs latest_end) {
  written_end_ = latest_end;
  const TimeMs before = latest_end - url_.retention;
  for (const bool windows : {true, false}) {
    while (true) {
      const std::string sql = windows ? RetentionWindowsSql(url_.tables, before, kRetentionBatch)
                                      : RetentionAlertsSql(url_.tables, before, kRetentionBatch);
      absl::StatusOr<uint64_t> n =
          conn_ != nullptr ? conn_->ExecCount(sql) : absl::UnavailableError("not connected");
      if (!n.ok()) {
        ++failures_;
        Log(StrCat("results database ", shown_url_,
                   ": retention: ", std::string(n.status().message())));
        return;
      }
      deleted_ += *n;
      if (*n < kRetentionBatch || url_.tables.dialect == WarehouseDialect::kRedshift) break;
    }
  }
}

}  // namespace vigil
