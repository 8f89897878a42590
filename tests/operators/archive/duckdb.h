// tests/operators/archive/duckdb.h
//
// DuckDB as a reader of the archive's Parquet files that shares no code
// with vigil: DuckDbQuery runs one SQL statement through `node` and
// tests/servers/duckdb-query.mjs (the @duckdb/node-api package pinned in
// tests/servers/package.json, installed by scripts/test-servers.sh) and
// returns the rows, each a JSON array: NULL as null, BOOLEAN, INTEGER and
// DOUBLE as JSON values, BIGINT as a string, TIMESTAMP WITH TIME ZONE as
// "2026-01-01 00:00:00.25+00" (UTC). A failed statement is an error with
// DuckDB's message. Tests skip when the package is not installed.
//
// Example:
//   if (!DuckDbInstalled()) GTEST_SKIP() << kDuckDbMissing;
//   absl::StatusOr<std::vector<std::string>> rows =
//       DuckDbQuery("SELECT count(*), 'a' FROM read_parquet('/tmp/f.parquet')");
//   // {R"(["3","a"])"}
#ifndef VIGIL_TESTS_OPERATORS_ARCHIVE_DUCKDB_H_
#define VIGIL_TESTS_OPERATORS_ARCHIVE_DUCKDB_H_

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/strings.h"

namespace vigil {

inline constexpr const char* kDuckDbMissing =
    "@duckdb/node-api is not installed in tests/servers/node_modules: run scripts/test-servers.sh";

inline bool DuckDbInstalled() {
  return std::filesystem::exists(VIGIL_SOURCE_DIR
                                 "/tests/servers/node_modules/@duckdb/node-api/package.json");
}

// `sql` may hold any characters: it is passed as one argument, no shell.
inline absl::StatusOr<std::vector<std::string>> DuckDbQuery(const std::string& sql) {
  const std::string script = VIGIL_SOURCE_DIR "/tests/servers/duckdb-query.mjs";
  std::string err_path = (std::filesystem::temp_directory_path() / "vigil-duckdb-XXXXXX").string();
  const int err = ::mkstemp(err_path.data());
  int out[2];
  if (err < 0 || ::pipe(out) != 0) return absl::InternalError("duckdb: no pipe or temporary file");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err, 2);
    ::close(out[0]);
    ::execlp("node", "node", script.c_str(), sql.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err);
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream err_file(err_path);
  std::stringstream message;
  message << err_file.rdbuf();
  std::filesystem::remove(err_path);
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        StrCat("duckdb: ", message.str(), " (in: ", sql.substr(0, 300), ")"));
  }
  std::vector<std::string> rows;
  for (std::string_view line : StrSplit(text, '\n')) {
    if (!line.empty()) rows.emplace_back(line);
  }
  return rows;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_ARCHIVE_DUCKDB_H_
