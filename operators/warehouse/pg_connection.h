// operators/warehouse/pg_connection.h
//
// A connection to PostgreSQL (or Redshift, which speaks its protocol)
// through libpq: connect with a timeout, run statements, read rows as text.
// Errors carry the server's message and SQLSTATE; no message ever holds the
// connection URL's password. InvalidArgument: a value of the statement's
// rows refused (SQLSTATE class 22 or 23, or 54000: an index entry too
// large); Unavailable: anything else, worth retrying (the connection
// broke; the server is starting, stopping, out of resources, read-only
// after a failover; a permission missing; the transaction lost a
// conflict). Not thread-safe: one thread uses a connection.
//
// Example:
//   absl::StatusOr<std::unique_ptr<PgConnection>> c =
//       PgConnection::Connect("postgresql://vigil@127.0.0.1:5432/metrics", 5000);
//   if (!c.ok()) return c.status();
//   absl::Status s = (*c)->Exec("CREATE TABLE IF NOT EXISTS t (x int)");
//   absl::StatusOr<PgRows> rows = (*c)->Query("SELECT x FROM t WHERE x > $1", {"3"});
#ifndef VIGIL_OPERATORS_WAREHOUSE_PG_CONNECTION_H_
#define VIGIL_OPERATORS_WAREHOUSE_PG_CONNECTION_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"

struct pg_conn;

namespace vigil {

struct PgRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: NULL
};

class PgConnection {
 public:
  // `url`: a libpq connection URI (postgresql://user:password@host:port/db
  // ?sslmode=...; host may be a Unix socket directory, percent-encoded).
  // Unavailable when the server cannot be reached or refuses the login.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& url,
                                                               DurationMs timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one or more statements; their rows are discarded.
  absl::Status Exec(const std::string& sql);
  // One statement with $1.. parameters (text; nullopt is NULL).
  absl::StatusOr<PgRows> Query(const std::string& sql,
                               const std::vector<std::optional<std::string>>& params = {});
  // The number of rows the last statement of `sql` changed.
  absl::StatusOr<uint64_t> ExecCount(const std::string& sql);
  // False once the connection is broken (the server went away).
  bool healthy() const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

// The URL with its password replaced by "***", for messages and logs.
std::string RedactPgUrl(std::string_view url);

// `text` as an SQL string literal: 'it''s'. Standard conforming strings
// (the default since PostgreSQL 9.1, and Redshift's only behaviour).
std::string PgQuote(std::string_view text);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_WAREHOUSE_PG_CONNECTION_H_
