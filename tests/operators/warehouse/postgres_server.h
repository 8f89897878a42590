// tests/operators/warehouse/postgres_server.h
//
// A private PostgreSQL server for the tests: Debian's postgresql binaries
// (initdb, pg_ctl) make a cluster in a temporary directory and serve it on
// a free 127.0.0.1 port, with a database `vigil` owned by the role `vigil`,
// whose password is kPassword over TCP (scram-sha-256). Run as root, the
// server runs as the `postgres` user (PostgreSQL refuses root). Stop and
// Start keep the data and the port. The Unix socket, which psql uses
// here, is in a short directory of its own under /tmp: a socket's path has
// at most 107 bytes, and `dir` may be deep.
//
// Example:
//   std::string why;
//   std::unique_ptr<PostgresServer> pg = PostgresServer::Create(dir, &why);
//   ASSERT_TRUE(pg) << why;
//   std::string rows = pg->Psql("SELECT count(*) FROM vigil_windows");
#ifndef VIGIL_TESTS_OPERATORS_WAREHOUSE_POSTGRES_SERVER_H_
#define VIGIL_TESTS_OPERATORS_WAREHOUSE_POSTGRES_SERVER_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/operators/net/free_port.h"

namespace vigil {

class PostgresServer {
 public:
  static constexpr const char* kPassword = "s3cret-pw";

  // A new cluster under `dir` (replaced); null with the reason in *why.
  static std::unique_ptr<PostgresServer> Create(const std::string& dir, std::string* why) {
    std::unique_ptr<PostgresServer> pg(new PostgresServer(dir));
    const std::string bin = BinDir();
    if (bin.empty()) {
      *why = "no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)";
      return nullptr;
    }
    pg->bin_ = bin;
    std::string socket_dir = "/tmp/vigil-pg-XXXXXX";
    if (::mkdtemp(socket_dir.data()) == nullptr) {
      *why = "cannot make a directory for the server's socket under /tmp";
      return nullptr;
    }
    ::chmod(socket_dir.c_str(), 0777);  // the server runs as postgres
    pg->socket_dir_ = socket_dir;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/pw") << kPassword << "\n";
    if (::geteuid() == 0) pg->Run("chown -R postgres " + dir);
    const std::string out = pg->As(bin + "/initdb -D " + dir + "/data -U vigil --pwfile=" + dir +
                                   "/pw --auth-local=trust --auth-host=scram-sha-256 -E UTF8 "
                                   "--no-sync --no-instructions 2>&1");
    if (!std::filesystem::exists(dir + "/data/PG_VERSION")) {
      *why = "initdb failed: " + out;
      return nullptr;
    }
    pg->port_ = FreeLoopbackPort();
    if (!pg->Start()) {
      *why = "the server did not start: " + pg->Log();
      return nullptr;
    }
    pg->Run(pg->PsqlCommand("postgres", "CREATE DATABASE vigil"));
    return pg;
  }
  ~PostgresServer() {
    Stop(/*immediate=*/true);
    std::filesystem::remove_all(dir_);
    if (!socket_dir_.empty()) std::filesystem::remove_all(socket_dir_);
  }

  bool Start() {
    const std::string out =
        As(bin_ + "/pg_ctl -D " + dir_ + "/data -w -t 30 -l " + dir_ + "/log -o \"-p " +
           std::to_string(port_) + " -k " + socket_dir_ +
           " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
           " -c full_page_writes=off\" start 2>&1");
    return out.find("server started") != std::string::npos;
  }
  // immediate: as a crash would (no shutdown checkpoint).
  void Stop(bool immediate = false) {
    As(bin_ + "/pg_ctl -D " + dir_ + "/data -w -m " + (immediate ? "immediate" : "fast") +
       " stop >/dev/null 2>&1");
  }

  int port() const { return port_; }
  // The URL a client connects with, the password included.
  std::string url(const std::string& password = kPassword) const {
    return "postgresql://vigil:" + password + "@127.0.0.1:" + std::to_string(port_) + "/vigil";
  }
  // psql's unaligned output of `sql` (rows on lines, columns split by '|').
  std::string Psql(const std::string& sql) const { return Run(PsqlCommand("vigil", sql)); }
  std::string Log() const { return Run("cat " + dir_ + "/log 2>&1"); }

 private:
  explicit PostgresServer(std::string dir) : dir_(std::move(dir)) {}
  static std::string BinDir() {
    std::string best;
    if (!std::filesystem::exists("/usr/lib/postgresql")) return best;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql")) {
      const std::string bin = e.path().string() + "/bin";
      if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
    }
    return best;
  }
  // Over the Unix socket, where the role needs no password.
  std::string PsqlCommand(const std::string& db, const std::string& sql) const {
    std::string quoted;
    for (char c : sql) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return "psql -X -q -At -v ON_ERROR_STOP=1 -h " + socket_dir_ + " -p " + std::to_string(port_) +
           " -U vigil -d " + db + " -c '" + quoted + "' 2>&1";
  }
  std::string As(const std::string& cmd) const {
    return Run(::geteuid() == 0 ? "runuser -u postgres -- sh -c '" + cmd + "'" : cmd);
  }
  static std::string Run(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  }

  std::string dir_, bin_, socket_dir_;
  int port_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_WAREHOUSE_POSTGRES_SERVER_H_
