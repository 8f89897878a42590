// tests/operators/source/kinesis_test_util.h
//
// Real Kinesis-API servers for the Kinesis tests, each started per test on
// a free loopback port: kinesalite (in memory, or on disk with a path so that
// it survives a restart) and kinesis-mock. A FaultProxy in front of a server
// injects throttling, 5xx answers, dropped connections and rewritten
// responses. Test events carry a key, a per-key sequence number and a global
// id, so a test can check exactly-once delivery and per-key order.
//
// The servers are npm packages installed by scripts/test-servers.sh under
// tests/servers/node_modules.
#ifndef VIGIL_TESTS_OPERATORS_SOURCE_KINESIS_TEST_UTIL_H_
#define VIGIL_TESTS_OPERATORS_SOURCE_KINESIS_TEST_UTIL_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "operators/net/kinesis_client.h"
#include "operators/net/kinesis_writer.h"
#include "operators/source/kinesis_source.h"

namespace vigil::testing {

// VIGIL_SOURCE_DIR "/tests/servers/node_modules".
std::string ServersDir();
// A fresh directory under TMPDIR, unique to this process and call.
std::string MakeTempDir();

// A MakeTempDir removed with its contents when destroyed.
class TempDir {
 public:
  TempDir() : path_(MakeTempDir()) {}
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process, stopped (SIGTERM, then SIGKILL) when destroyed.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() { Stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Runs argv[0] (searched in PATH) in `cwd` with `env` added, output to `log`.
  bool Start(const std::vector<std::string>& argv,
             const std::vector<std::pair<std::string, std::string>>& env, const std::string& cwd,
             const std::string& log);
  void Stop();
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// A Kinesis-API server on 127.0.0.1.
class KinesisServer {
 public:
  virtual ~KinesisServer() = default;
  virtual std::string endpoint() const = 0;
  virtual std::string name() const = 0;
  KinesisClientOptions client_options() const;
  std::unique_ptr<KinesisClient> Client() const;
};

class Kinesalite : public KinesisServer {
 public:
  // Empty `path`: in memory. Fails the test (and returns null) if it cannot start.
  static std::unique_ptr<Kinesalite> Start(const std::string& path = "");
  ~Kinesalite() override;
  void Stop();
  // Starts again on the same port (and path).
  bool Restart();
  std::string endpoint() const override;
  std::string name() const override { return "kinesalite"; }
  uint16_t port() const { return port_; }

 private:
  bool Launch(uint16_t port);
  TempDir dir_;
  std::string path_, log_;
  uint16_t port_ = 0;
  std::unique_ptr<ServerProcess> process_;
};

class KinesisMock : public KinesisServer {
 public:
  // Creates `streams` ("name:shards,...") at start-up. Null, with *skip set
  // to the reason, when it cannot run here.
  static std::unique_ptr<KinesisMock> Start(const std::string& streams, std::string* skip);
  std::string endpoint() const override;
  std::string name() const override { return "kinesis-mock"; }

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ServerProcess> process_;
};

// Creates `stream` with `shards` shards and waits until it is ACTIVE.
void CreateStream(const KinesisServer& server, const std::string& stream, int shards);
// Waits until the stream is ACTIVE again (after a split or merge).
void WaitActive(const KinesisServer& server, const std::string& stream);

// --- test events ---

struct TestEvent {
  std::string key;   // partition key: the session id, or "type:<type>"
  std::string json;  // {"id":N,"k":"key","kseq":M,...}
};

// `n` chatbot events from the reference generator (seeded, so the same in
// every run), each with a global id and a per-key sequence number.
std::vector<TestEvent> MakeEvents(size_t n, uint64_t seed = 7);
// Writes events [begin, end) with KinesisWriter (partition key = key).
void PutEvents(const KinesisServer& server, const std::string& stream,
               const std::vector<TestEvent>& events, size_t begin, size_t end);

struct Delivered {
  std::string json;
  int input = 0;
  std::string shard;
};

// Calls Next until `done` holds (checked after every call) or `timeout`
// passes; appends the records. False on timeout.
bool ReadUntil(KinesisSource* source, std::vector<Delivered>* out,
               const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Every event of `expected` delivered exactly once, and per key in order of
// its sequence number. Reports failures with gtest.
void ExpectExactlyOnceInKeyOrder(const std::vector<TestEvent>& expected,
                                 const std::vector<Delivered>& got, bool check_order = true);

// --- fault injection ---

struct ProxyRequest {
  std::string operation;  // "GetRecords" (from X-Amz-Target)
  std::string body;
  uint64_t index = 0;  // 0-based count of requests of this operation
};

enum class ProxyAction {
  kForward,
  kThrottle,     // 400 ProvisionedThroughputExceededException
  kServerError,  // 500 InternalFailure
  kDropBefore,   // close the connection without forwarding
  kDropAfter,    // forward, then close without answering
};

// An HTTP proxy on a free loopback port in front of `upstream_port`.
class FaultProxy {
 public:
  using Policy = std::function<ProxyAction(const ProxyRequest&)>;
  // May rewrite a forwarded 2xx response.
  using Rewrite = std::function<void(const ProxyRequest&, int* status, std::string* body)>;

  // Handles a request itself, when it returns true: `forward` sends a body
  // upstream (same headers).
  using Forward = std::function<absl::StatusOr<HttpClientResponse>(const std::string& body)>;
  using Handler = std::function<bool(const ProxyRequest&, const Forward& forward, int* status,
                                     std::string* body)>;

  FaultProxy(uint16_t upstream_port, Policy policy, Rewrite rewrite = nullptr,
             Handler handler = nullptr);
  ~FaultProxy();
  std::string endpoint() const;
  uint64_t count(const std::string& operation) const;
  uint64_t injected() const { return injected_.load(); }
  // Start times (steady ms) of the GetRecords requests forwarded or refused.
  std::vector<int64_t> get_records_times() const;

 private:
  void Serve(int fd);

  uint16_t upstream_port_;
  Policy policy_;
  Rewrite rewrite_;
  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::map<std::string, uint64_t> counts_;
  std::vector<int64_t> get_records_times_;
  std::atomic<uint64_t> injected_{0};
  std::atomic<bool> stopping_{false};
};

// A KinesisServer view of a proxy, for Client() and options.
class ProxiedServer : public KinesisServer {
 public:
  explicit ProxiedServer(const FaultProxy* proxy) : proxy_(proxy) {}
  std::string endpoint() const override { return proxy_->endpoint(); }
  std::string name() const override { return "proxy"; }

 private:
  const FaultProxy* proxy_;
};

// Source options for tests: fast polling, short backoff.
KinesisSourceOptions TestSourceOptions(const KinesisServer& server, const std::string& stream);

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_OPERATORS_SOURCE_KINESIS_TEST_UTIL_H_
