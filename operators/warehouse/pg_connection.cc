#include "operators/warehouse/pg_connection.h"

#include <libpq-fe.h>

#include <cstdlib>

#include "base/strings.h"

namespace vigil {
namespace {

// libpq's messages end in a newline and may span lines.
std::string Clean(const char* message) {
  std::string s = message == nullptr ? "" : message;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// An error of a finished statement: the server's message and SQLSTATE.
absl::Status ResultError(PGconn* conn, PGresult* r) {
  std::string message = Clean(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  if (message.empty()) message = Clean(PQerrorMessage(conn));
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr) message = StrCat(message, " (SQLSTATE ", state, ")");
  // A value a row holds that the table refuses (a data exception, a
  // constraint, an index entry too large) is that row's own: the others go
  // on without it. Anything else (a broken connection, a busy or read-only
  // server after a failover, a privilege revoked) is worth retrying until
  // someone fixes it: rows are never dropped for it.
  const std::string_view code = state == nullptr ? "" : state;
  const std::string_view cls = code.substr(0, 2);
  if (PQstatus(conn) == CONNECTION_OK && (cls == "22" || cls == "23" || code == "54000")) {
    return absl::InvalidArgumentError(message);
  }
  return absl::UnavailableError(message);
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url,
                                                                    DurationMs timeout) {
  const std::string seconds = std::to_string(std::max<DurationMs>(1, (timeout + 999) / 1000));
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {url.c_str(), seconds.c_str(), "vigil", nullptr};
  // expand_dbname: `url` is the connection URI; the other keys add to it.
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("out of memory for a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Clean(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(message);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

absl::Status PgConnection::Exec(const std::string& sql) { return ExecCount(sql).status(); }

absl::StatusOr<uint64_t> PgConnection::ExecCount(const std::string& sql) {
  // Several statements in one string: PQexec returns the last result, and
  // stops at the first error.
  Result r(PQexec(conn_, sql.c_str()));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(conn_, r.get());
  const char* n = PQcmdTuples(r.get());
  return n == nullptr || *n == '\0' ? 0 : std::strtoull(n, nullptr, 10);
}

absl::StatusOr<PgRows> PgConnection::Query(const std::string& sql,
                                           const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::optional<std::string>& p : params) values.push_back(p ? p->c_str() : nullptr);
  Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(conn_, r.get());
  PgRows out;
  const int columns = PQnfields(r.get()), rows = PQntuples(r.get());
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(r.get(), c));
  out.rows.resize(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto& row = out.rows[static_cast<size_t>(i)];
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r.get(), i, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(r.get(), i, c),
                                     static_cast<size_t>(PQgetlength(r.get(), i, c))));
      }
    }
  }
  return out;
}

std::string RedactPgUrl(std::string_view url) {
  std::string out(url);
  // scheme://user:password@host:port/db: the userinfo ends at the last '@'
  // before the path or query.
  if (const size_t scheme = out.find("://"); scheme != std::string::npos) {
    const size_t host_end = out.find_first_of("/?", scheme + 3);
    const size_t at = out.rfind('@', host_end == std::string::npos ? std::string::npos : host_end);
    if (at != std::string::npos && at > scheme) {
      const size_t colon = out.find(':', scheme + 3);
      if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=secret
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') continue;
    const size_t end = out.find('&', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
  }
  return out;
}

std::string PgQuote(std::string_view text) {
  std::string out = "'";
  for (char c : ValidUtf8(text)) {
    if (c == '\'') out.push_back('\'');
    if (c == '\0') continue;  // PostgreSQL text cannot hold NUL
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace vigil
