// tests/runtime/servers.h
//
// Real servers for the end-to-end tests of the vigil binary, each on a free
// 127.0.0.1 port and private to one test: kinesalite (the npm Kinesis API
// server installed by scripts/test-servers.sh; on disk with a path, so its
// streams survive a restart), Debian's prometheus-alertmanager, and plain
// HTTP GETs against them and against the job. The recording HTTP receiver
// that stands in for PagerDuty and webhooks is the operators tests' one
// (header-only).
//
// Example:
//   auto k = Kinesalite::Start(dir);           // ASSERT_TRUE(k)
//   CreateStream(k->endpoint(), "events", 4);
//   Sh(vigil + " run --input " + k->url("events") + " --exit-at-end ...");
#ifndef VIGIL_TESTS_RUNTIME_SERVERS_H_
#define VIGIL_TESTS_RUNTIME_SERVERS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "operators/net/http_client.h"
#include "operators/net/kinesis_client.h"
#include "tests/operators/notify/recording_receiver.h"
#include "tests/runtime/test_util.h"

namespace vigil {

using testing_util::RecordedRequest;
using testing_util::RecordingReceiver;

inline uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Removes the files and directories whose path starts with `prefix` (what
// an earlier run of the same test in this process left: TempPath names
// depend only on the test and the process id).
inline void RemoveTestPaths(const std::string& prefix) {
  const std::filesystem::path p(prefix);
  const std::string name = p.filename().string();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(p.parent_path(), ec)) {
    if (e.path().filename().string().rfind(name, 0) == 0) std::filesystem::remove_all(e.path(), ec);
  }
}

// Kills (SIGKILL) and reaps a spawned child that is still running when the
// scope ends, e.g. after a failed ASSERT.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

 private:
  pid_t pid_;
};

// GET `target` from `base` ("http://127.0.0.1:PORT"); status -1 when unreachable.
inline std::pair<int, std::string> HttpGet(const std::string& base, const std::string& target) {
  HttpClient::Options o;
  o.timeout = std::chrono::seconds(2);
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(base);
  if (!url.ok()) return {-1, std::string(url.status().message())};
  HttpClient client(*url, o);
  absl::StatusOr<HttpClientResponse> r = client.Send("GET", target, "");
  if (!r.ok()) return {-1, std::string(r.status().message())};
  return {r->status, r->body};
}

// A child process (killed with the test process), stopped with SIGTERM,
// then SIGKILL, when destroyed.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& argv, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ServerProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300 && ::waitpid(pid_, nullptr, WNOHANG) != pid_; ++i) ::usleep(10000);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

 private:
  pid_t pid_ = -1;
};

// kinesalite in memory, or under `path` (kept across Stop/Restart).
class Kinesalite {
 public:
  static std::unique_ptr<Kinesalite> Start(const std::string& log, const std::string& path = "") {
    const std::string modules = VIGIL_SOURCE_DIR "/tests/servers/node_modules/kinesalite";
    if (::access((modules + "/index.js").c_str(), R_OK) != 0) {
      ADD_FAILURE() << modules << " is missing: run scripts/test-servers.sh";
      return nullptr;
    }
    std::unique_ptr<Kinesalite> k(new Kinesalite(log, path));
    if (!k->Launch(0)) return nullptr;
    return k;
  }
  void Stop() { process_.reset(); }
  bool Restart() {
    Stop();
    return Launch(port_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& stream) const {
    return "'kinesis://" + stream + "?endpoint=" + endpoint() + "&region=us-east-1'";
  }

 private:
  Kinesalite(std::string log, std::string path) : log_(std::move(log)), path_(std::move(path)) {}

  bool Launch(uint16_t port) {
    // Bound to 127.0.0.1; port 0 picks a free one, printed once listening.
    const std::string script =
        "const k = require(process.argv[1])({path: process.argv[3] || undefined,"
        " createStreamMs: 20, deleteStreamMs: 20, updateStreamMs: 20, shardLimit: 100});"
        "k.listen(+process.argv[2], '127.0.0.1', () => console.log('listening ' + "
        "k.address().port));";
    const size_t before = ReadFile(log_).size();
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{
            "node", "-e", script,
            std::string(VIGIL_SOURCE_DIR) + "/tests/servers/node_modules/kinesalite",
            std::to_string(port), path_},
        log_);
    std::string log;
    if (!WaitFor(
            [&] {
              return (log = ReadFile(log_).substr(before)).find("listening ") !=
                         std::string::npos &&
                     log.back() == '\n';
            },
            20)) {
      ADD_FAILURE() << "kinesalite did not start: " << ReadFile(log_);
      return false;
    }
    port_ = static_cast<uint16_t>(std::atoi(log.c_str() + log.find("listening ") + 10));
    return true;
  }

  std::string log_, path_;
  uint16_t port_ = 0;
  std::unique_ptr<ServerProcess> process_;
};

inline std::unique_ptr<KinesisClient> KinesisClientFor(const std::string& endpoint) {
  KinesisClientOptions o;
  o.endpoint = endpoint;
  o.region = "us-east-1";
  absl::StatusOr<std::unique_ptr<KinesisClient>> c = KinesisClient::Open(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

inline void CreateStream(const std::string& endpoint, const std::string& stream, int shards) {
  std::unique_ptr<KinesisClient> c = KinesisClientFor(endpoint);
  ASSERT_TRUE(c);
  absl::Status s = c->CreateStream(stream, shards);
  ASSERT_TRUE(s.ok()) << s;
  s = c->WaitForActive(stream, std::chrono::seconds(10));
  ASSERT_TRUE(s.ok()) << s;
}

// Records per shard id, read with the plain API (an outside client).
inline std::map<std::string, size_t> CountPerShard(const std::string& endpoint,
                                                   const std::string& stream) {
  std::map<std::string, size_t> out;
  std::unique_ptr<KinesisClient> c = KinesisClientFor(endpoint);
  if (!c) return out;
  absl::StatusOr<std::vector<KinesisShard>> shards = c->ListAllShards(stream);
  EXPECT_TRUE(shards.ok()) << shards.status();
  if (!shards.ok()) return out;
  for (const KinesisShard& shard : *shards) {
    absl::StatusOr<std::string> it =
        c->GetShardIterator(stream, shard.shard_id, KinesisIteratorSpec::TrimHorizon());
    EXPECT_TRUE(it.ok()) << it.status();
    size_t& n = out[shard.shard_id];
    while (it.ok() && !it->empty()) {
      absl::StatusOr<KinesisRecords> r = c->GetRecords(*it, 10000);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      n += r->records.size();
      if (r->records.empty() && r->millis_behind_latest <= 0) break;
      *it = r->next_shard_iterator;
    }
  }
  return out;
}

// prometheus-alertmanager with its own storage, notifying `webhook` (with
// send_resolved) of every alert, grouped by alertname, with short timers.
class Alertmanager {
 public:
  static constexpr char kBinary[] = "/usr/bin/prometheus-alertmanager";

  static std::unique_ptr<Alertmanager> Start(const std::string& dir, const std::string& webhook) {
    if (::access(kBinary, X_OK) != 0) {
      ADD_FAILURE() << kBinary << " is missing: install the Debian package "
                    << "prometheus-alertmanager (scripts/setup.sh does)";
      return nullptr;
    }
    std::unique_ptr<Alertmanager> am(new Alertmanager(FreePort()));
    std::ofstream(dir + "/am.yml") << "route:\n"
                                      "  receiver: recorder\n"
                                      "  group_by: [alertname]\n"
                                      "  group_wait: 100ms\n"
                                      "  group_interval: 200ms\n"
                                      "  repeat_interval: 1h\n"
                                      "receivers:\n"
                                      "  - name: recorder\n"
                                      "    webhook_configs:\n"
                                      "      - url: "
                                   << webhook
                                   << "\n"
                                      "        send_resolved: true\n";
    am->process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{kBinary,
                                 "--web.listen-address=127.0.0.1:" + std::to_string(am->port_),
                                 "--cluster.listen-address=", "--storage.path=" + dir + "/data",
                                 "--config.file=" + dir + "/am.yml", "--log.level=warn"},
        dir + "/alertmanager.log");
    if (!WaitFor([&] { return HttpGet(am->url(), "/-/ready").first == 200; }, 20)) {
      ADD_FAILURE() << "Alertmanager did not become ready: " << ReadFile(dir + "/alertmanager.log");
      return nullptr;
    }
    return am;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  explicit Alertmanager(uint16_t port) : port_(port) {}
  uint16_t port_;
  std::unique_ptr<ServerProcess> process_;
};

// The value of the first sample of `series` (name and labels exactly as
// exposed, e.g. `vigil_source_connected`) in a Prometheus text page, or -1.
inline double MetricValue(const std::string& page, const std::string& series) {
  for (const std::string& line : Lines(page)) {
    if (line.rfind(series + " ", 0) == 0) return std::atof(line.c_str() + series.size() + 1);
  }
  return -1;
}

// The base URL ("http://127.0.0.1:PORT") of a job started with
// `--http 127.0.0.1:0`, read from the port line in its log; "" if it does not
// appear within `seconds`.
inline std::string JobHttpBase(const std::string& log, double seconds = 20) {
  std::string base;
  WaitFor(
      [&] {
        std::smatch m;
        const std::string text = ReadFile(log);
        if (!std::regex_search(text, m,
                               std::regex("serving the status page and /metrics on "
                                          "https?://127\\.0\\.0\\.1:(\\d+)/")))
          return false;
        base = "http://127.0.0.1:" + m[1].str();
        return true;
      },
      seconds);
  return base;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_RUNTIME_SERVERS_H_
