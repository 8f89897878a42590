// The Kinesis test servers and fault proxy of kinesis_test_util.h, and the
// tests that show they behave as the other Kinesis tests assume.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "operators/generator/generator.h"
#include "tests/operators/source/kinesis_test_util.h"

namespace vigil::testing {

using std::chrono::milliseconds;

std::string ServersDir() { return VIGIL_SOURCE_DIR "/tests/servers/node_modules"; }

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = StrCat(tmp && *tmp ? tmp : "/tmp", "/vigil-kinesis-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

bool Installed(const std::string& file) {
  if (::access(file.c_str(), R_OK) == 0) return true;
  ADD_FAILURE() << file << " is missing: run scripts/test-servers.sh to install the Kinesis "
                << "test servers (kinesalite, kinesis-mock)";
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Waits until the server answers a Kinesis call (any well-formed answer).
bool WaitAnswering(const KinesisServer& server, milliseconds timeout) {
  std::unique_ptr<KinesisClient> c = server.Client();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<std::string> r = c->Call("ListStreams", "{}");
    if (r.ok() || KinesisErrorOf(r.status()) != KinesisErrorKind::kTransport) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

std::string_view FieldValue(std::string_view json, std::string_view name) {
  const std::string needle = StrCat("\"", name, "\":");
  const size_t at = json.find(needle);
  if (at == std::string_view::npos) return {};
  std::string_view rest = json.substr(at + needle.size());
  if (!rest.empty() && rest[0] == '"') {
    rest.remove_prefix(1);
    return rest.substr(0, rest.find('"'));
  }
  return rest.substr(0, rest.find_first_of(",}"));
}

}  // namespace

bool ServerProcess::Start(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& env,
                          const std::string& cwd, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
  return true;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

KinesisClientOptions KinesisServer::client_options() const {
  KinesisClientOptions o;
  o.endpoint = endpoint();
  o.region = "us-east-1";
  o.credentials = AwsCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  o.timeout = milliseconds(5000);
  return o;
}

std::unique_ptr<KinesisClient> KinesisServer::Client() const {
  absl::StatusOr<std::unique_ptr<KinesisClient>> c = KinesisClient::Open(client_options());
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

std::unique_ptr<Kinesalite> Kinesalite::Start(const std::string& path) {
  if (!Installed(ServersDir() + "/kinesalite/index.js")) return nullptr;
  std::unique_ptr<Kinesalite> k(new Kinesalite());
  k->path_ = path;
  k->log_ = k->dir_.path() + "/kinesalite.log";
  if (!k->Launch(0)) return nullptr;
  return k;
}

Kinesalite::~Kinesalite() { Stop(); }

void Kinesalite::Stop() {
  if (process_) process_->Stop();
  process_.reset();
}

bool Kinesalite::Restart() {
  Stop();
  return Launch(port_);
}

bool Kinesalite::Launch(uint16_t port) {
  // Bound to 127.0.0.1 (the CLI listens on every interface); port 0 picks a
  // free one, printed on start.
  const std::string script =
      "const k = require(process.argv[1])({path: process.argv[3] || undefined,"
      " createStreamMs: 20, deleteStreamMs: 20, updateStreamMs: 20, shardLimit: 100});"
      "k.listen(+process.argv[2], '127.0.0.1', () => console.log('listening ' + "
      "k.address().port));";
  const std::string before = ReadFile(log_);
  process_ = std::make_unique<ServerProcess>();
  if (!process_->Start(
          {"node", "-e", script, ServersDir() + "/kinesalite", std::to_string(port), path_}, {}, "",
          log_)) {
    ADD_FAILURE() << "cannot start node";
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string log = ReadFile(log_).substr(before.size());
    const size_t at = log.find("listening ");
    if (at != std::string::npos && log.find('\n', at) != std::string::npos) {
      port_ = static_cast<uint16_t>(std::atoi(log.c_str() + at + 10));
      if (WaitAnswering(*this, std::chrono::seconds(10))) return true;
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ADD_FAILURE() << "kinesalite did not start: " << ReadFile(log_);
  return false;
}

std::string Kinesalite::endpoint() const { return StrCat("http://127.0.0.1:", port_); }

std::unique_ptr<KinesisMock> KinesisMock::Start(const std::string& streams, std::string* skip) {
  const std::string dir = ServersDir() + "/kinesis-local";
  if (!Installed(dir + "/main.js")) {
    *skip = "kinesis-local is not installed";
    return nullptr;
  }
  std::unique_ptr<KinesisMock> m(new KinesisMock());
  m->port_ = FreePort();
  const std::string log = m->dir_.path() + "/kinesis-mock.log";
  m->process_ = std::make_unique<ServerProcess>();
  const bool started = m->process_->Start({"node", "main.js"},
                                          {{"KINESIS_MOCK_PLAIN_PORT", std::to_string(m->port_)},
                                           {"KINESIS_MOCK_TLS_PORT", std::to_string(FreePort())},
                                           {"INITIALIZE_STREAMS", streams},
                                           // Its streams are in the region the
                                           // clients sign for, whatever the
                                           // environment says.
                                           {"AWS_REGION", "us-east-1"},
                                           {"SPLIT_SHARD_DURATION", "100ms"},
                                           {"MERGE_SHARDS_DURATION", "100ms"},
                                           {"CREATE_STREAM_DURATION", "100ms"},
                                           {"LOG_LEVEL", "WARN"}},
                                          dir, log);
  if (!started || !WaitAnswering(*m, std::chrono::seconds(30))) {
    *skip = StrCat("kinesis-mock did not start: ", ReadFile(log).substr(0, 2000));
    return nullptr;
  }
  return m;
}

std::string KinesisMock::endpoint() const { return StrCat("http://127.0.0.1:", port_); }

void CreateStream(const KinesisServer& server, const std::string& stream, int shards) {
  std::unique_ptr<KinesisClient> c = server.Client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->CreateStream(stream, shards).ok());
  WaitActive(server, stream);
}

void WaitActive(const KinesisServer& server, const std::string& stream) {
  std::unique_ptr<KinesisClient> c = server.Client();
  ASSERT_TRUE(c);
  // Generous: kinesis-mock creates the streams of INITIALIZE_STREAMS only
  // after it answers, and its first start on a cold machine takes seconds.
  absl::Status s = c->WaitForActive(stream, std::chrono::seconds(60));
  ASSERT_TRUE(s.ok()) << s;
}

std::vector<TestEvent> MakeEvents(size_t n, uint64_t seed) {
  GeneratorOptions options;
  options.seed = seed;
  options.start = 1795518000000;  // 2026-11-24T11:00:00Z
  options.rate = 200;
  options.epoch_millis = true;
  EventGenerator gen(options);
  std::map<std::string, int> seq;
  std::vector<TestEvent> out;
  std::string line;
  while (out.size() < n && gen.Next(&line)) {
    if (!line.empty() && line.back() == '\n') line.pop_back();
    std::string key(FieldValue(line, "session_id"));
    if (key.empty()) key = StrCat("type:", FieldValue(line, "type"));
    TestEvent e;
    e.key = key;
    e.json = StrCat("{\"id\":", out.size(), ",\"k\":\"", key, "\",\"kseq\":", ++seq[key], ",",
                    std::string_view(line).substr(1));
    out.push_back(std::move(e));
    line.clear();
  }
  return out;
}

void PutEvents(const KinesisServer& server, const std::string& stream,
               const std::vector<TestEvent>& events, size_t begin, size_t end) {
  KinesisWriterOptions o;
  o.stream = stream;
  o.endpoint = server.endpoint();
  o.region = server.client_options().region;
  o.credentials = server.client_options().credentials;
  o.backoff_base = 10;
  o.backoff_max = 200;
  absl::StatusOr<std::unique_ptr<KinesisWriter>> w = KinesisWriter::Open(o);
  ASSERT_TRUE(w.ok()) << w.status();
  for (size_t i = begin; i < end; ++i) {
    absl::Status s = (*w)->Write(events[i].key, events[i].json);
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::Status s = (*w)->Flush();
  ASSERT_TRUE(s.ok()) << s;
}

bool ReadUntil(KinesisSource* source, std::vector<Delivered>* out,
               const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Record> batch;
  while (std::chrono::steady_clock::now() < deadline) {
    source->Next(&batch, 1000);
    for (const Record& r : batch) {
      // The padding promised to simdjson is readable.
      const char* end = r.data.data() + r.data.size();  // the padding follows
      EXPECT_EQ(end[simdjson::SIMDJSON_PADDING - 1], '\0');
      out->push_back({std::string(r.data), r.input, source->input_name(r.input)});
    }
    if (done()) return true;
  }
  return false;
}

void ExpectExactlyOnceInKeyOrder(const std::vector<TestEvent>& expected,
                                 const std::vector<Delivered>& got, bool check_order) {
  std::vector<int> seen(expected.size(), 0);
  std::map<std::string, int64_t> last_seq;
  size_t dups = 0, order_errors = 0, unknown = 0;
  for (const Delivered& d : got) {
    const int64_t id = std::atoll(std::string(FieldValue(d.json, "id")).c_str());
    if (id < 0 || id >= static_cast<int64_t>(expected.size()) || expected[id].json != d.json) {
      if (++unknown <= 5) ADD_FAILURE() << "unexpected record " << d.json.substr(0, 120);
      continue;
    }
    if (seen[id]++ > 0 && ++dups <= 5) ADD_FAILURE() << "duplicate " << d.json.substr(0, 120);
    const std::string key(FieldValue(d.json, "k"));
    const int64_t kseq = std::atoll(std::string(FieldValue(d.json, "kseq")).c_str());
    int64_t& last = last_seq[key];
    if (check_order && kseq <= last && ++order_errors <= 5) {
      ADD_FAILURE() << "key " << key << ": kseq " << kseq << " after " << last << " (shard "
                    << d.shard << ")";
    }
    last = std::max(last, kseq);
  }
  size_t missing = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (seen[i] == 0 && ++missing <= 5)
      ADD_FAILURE() << "missing " << expected[i].json.substr(0, 120);
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(dups, 0u);
  EXPECT_EQ(order_errors, 0u);
  EXPECT_EQ(unknown, 0u);
}

namespace {

struct HttpRequestText {
  std::string method, target, body;
  HttpHeaders headers;
};

// Reads one request (headers and a Content-Length body); false on EOF.
bool ReadHttpRequest(int fd, std::string* buffer, HttpRequestText* req) {
  char chunk[16384];
  while (true) {
    const size_t end = buffer->find("\r\n\r\n");
    if (end != std::string::npos) {
      *req = HttpRequestText();
      size_t length = 0;
      std::vector<std::string_view> lines =
          StrSplit(std::string_view(*buffer).substr(0, end), '\n');
      for (size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = lines[i];
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (i == 0) {
          std::vector<std::string_view> parts = StrSplit(line, ' ');
          if (parts.size() >= 2) {
            req->method = parts[0];
            req->target = parts[1];
          }
          continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        const std::string value(Strip(line.substr(colon + 1)));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "content-length") length = std::stoul(value);
        req->headers.emplace_back(name, value);
      }
      if (buffer->size() >= end + 4 + length) {
        req->body = buffer->substr(end + 4, length);
        buffer->erase(0, end + 4 + length);
        return true;
      }
    }
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void WriteResponse(int fd, int status, std::string_view body) {
  WriteAll(fd, StrCat("HTTP/1.1 ", status, status == 200 ? " OK" : " Error",
                      "\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: ",
                      body.size(), "\r\n\r\n", body));
}

int64_t NowSteadyMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FaultProxy::FaultProxy(uint16_t upstream_port, Policy policy, Rewrite rewrite, Handler handler)
    : upstream_port_(upstream_port),
      policy_(std::move(policy)),
      rewrite_(std::move(rewrite)),
      handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  ::listen(listen_fd_, 64);
  accept_thread_ = std::thread([this] {
    while (true) {
      const int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(c);
        return;
      }
      fds_.push_back(c);
      threads_.emplace_back([this, c] { Serve(c); });
    }
  });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

std::string FaultProxy::endpoint() const { return StrCat("http://127.0.0.1:", port_); }

uint64_t FaultProxy::count(const std::string& operation) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find(operation);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<int64_t> FaultProxy::get_records_times() const {
  std::lock_guard lock(mu_);
  return get_records_times_;
}

void FaultProxy::Serve(int fd) {
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(StrCat("http://127.0.0.1:", upstream_port_));
  HttpClient upstream(*url);
  std::string buffer;
  HttpRequestText req;
  while (!stopping_ && ReadHttpRequest(fd, &buffer, &req)) {
    ProxyRequest pr;
    pr.body = req.body;
    HttpHeaders forward_headers;
    for (const auto& [k, v] : req.headers) {
      if (k == "x-amz-target") pr.operation = v.substr(v.find('.') + 1);
      if (k != "content-length" && k != "connection") forward_headers.emplace_back(k, v);
    }
    {
      std::lock_guard lock(mu_);
      pr.index = counts_[pr.operation]++;
      if (pr.operation == "GetRecords") get_records_times_.push_back(NowSteadyMs());
    }
    const ProxyAction action = policy_ ? policy_(pr) : ProxyAction::kForward;
    if (action != ProxyAction::kForward) ++injected_;
    if (action == ProxyAction::kThrottle) {
      WriteResponse(
          fd, 400,
          R"({"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"})");
      continue;
    }
    if (action == ProxyAction::kServerError) {
      WriteResponse(fd, 500, R"({"__type":"InternalFailure","message":"injected"})");
      continue;
    }
    if (action == ProxyAction::kDropBefore) break;
    if (handler_) {
      int status = 0;
      std::string body;
      const Forward forward = [&](const std::string& b) {
        return upstream.Send(req.method, req.target, b, forward_headers);
      };
      if (handler_(pr, forward, &status, &body)) {
        WriteResponse(fd, status, body);
        continue;
      }
    }
    absl::StatusOr<HttpClientResponse> r =
        upstream.Send(req.method, req.target, req.body, forward_headers);
    if (!r.ok() || action == ProxyAction::kDropAfter) break;
    if (rewrite_ && r->status / 100 == 2) rewrite_(pr, &r->status, &r->body);
    WriteResponse(fd, r->status, r->body);
  }
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard lock(mu_);
  ::close(fd);
  std::erase(fds_, fd);
}

KinesisSourceOptions TestSourceOptions(const KinesisServer& server, const std::string& stream) {
  KinesisSourceOptions o;
  o.stream = stream;
  o.endpoint = server.endpoint();
  o.region = "us-east-1";
  o.credentials = server.client_options().credentials;
  o.poll_interval = 20;
  o.discovery_interval = 300;
  o.idle_sleep = 20;
  o.backoff_base = 10;
  o.backoff_max = 200;
  o.request_timeout = 3000;
  return o;
}

}  // namespace vigil::testing
