// Secrets stay secret, end to end: a webhook receiver whose URL carries a
// token in its path, another in its query and a user:password@, answering
// errors that echo the whole request back (request line, headers, body).
// vigil must send the userinfo as basic auth, and no output — stderr,
// stdout, /metrics, /api/status, /api/alerts, the dead letters — may hold
// any of the secrets; the receiver is named by its name and its URL shown
// redacted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kVigil = VIGIL_BINARY;

// The secrets, and the forms they could leak in.
constexpr const char* kPathToken = "T0PATHSECRET4f9c2a";
constexpr const char* kQueryToken = "qsecret7d1e88";
constexpr const char* kUser = "hookuser";
constexpr const char* kPassword = "pw-SECRET-5521";
// base64("hookuser:pw-SECRET-5521"), as an Authorization header carries it.
constexpr const char* kBasic = "aG9va3VzZXI6cHctU0VDUkVULTU1MjE=";

// Answers every request with `status` and the raw request as the body: the
// worst a receiver's error page can do.
class EchoReceiver {
 public:
  EchoReceiver() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~EchoReceiver() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  // 503 (retried) for the first `n` requests, 400 (rejected) after.
  void RetryFirst(int n) { retry_first_ = n; }
  std::vector<std::string> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::string data;
      char buf[4096];
      for (;;) {
        const size_t head = data.find("\r\n\r\n");
        if (head != std::string::npos) {
          const size_t cl = data.find("Content-Length: ");
          const size_t length = cl == std::string::npos ? 0 : std::stoul(data.substr(cl + 16));
          if (data.size() >= head + 4 + length) {
            const std::string request = data.substr(0, head + 4 + length);
            data.erase(0, request.size());
            int n = 0;
            {
              std::lock_guard lock(mu_);
              requests_.push_back(request);
              n = static_cast<int>(requests_.size());
            }
            const bool retry = n <= retry_first_.load();
            const std::string reply =
                StrCat("HTTP/1.1 ", retry ? "503 Service Unavailable" : "400 Bad Request",
                       "\r\nContent-Type: text/plain\r\nContent-Length: ", request.size() + 13,
                       "\r\n\r\nyou sent me: ", request);
            if (::write(fd, reply.data(), reply.size()) < 0) break;
            continue;
          }
        }
        const ssize_t got = ::read(fd, buf, sizeof buf);
        if (got <= 0) break;
        data.append(buf, static_cast<size_t>(got));
      }
      ::close(fd);
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> retry_first_{0};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

void ExpectNoSecret(const std::string& where, const std::string& text) {
  for (const char* secret : {kPathToken, kQueryToken, kPassword, kBasic}) {
    EXPECT_THAT(text, Not(HasSubstr(secret))) << where << " holds " << secret;
  }
  EXPECT_THAT(text, Not(HasSubstr(StrCat(kUser, ":")))) << where;
}

TEST(SecretsE2eTest, AWebhookUrlsTokensAndCredentialsAppearInNoOutput) {
  EchoReceiver receiver;
  receiver.RetryFirst(3);
  const std::string dir = TempPath("secrets_", "dir");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string url = StrCat("http://", kUser, ":", kPassword, "@127.0.0.1:", receiver.port(),
                                 "/services/", kPathToken, "?token=", kQueryToken, "&v=2");
  const std::string job = dir + "/job.yaml";
  std::ofstream(job) << "notify:\n"
                        "  spool: {dir: "
                     << dir
                     << "/spool}\n"
                        "  retry: {initial: 50ms, max: 200ms}\n"
                        "  receivers:\n"
                        "    - {name: team-hook, kind: webhook, url: '"
                     << url
                     << "'}\n"
                        "  routes: {P1: [team-hook], P2: [team-hook]}\n";
  const std::string log = dir + "/output.log";  // stdout and stderr
  const std::string dead = dir + "/dead.ndjson";
  const pid_t pid =
      Spawn(StrCat(kVigil, " run --config ", job, " --generator --speed 600 --rate 20 --seed 5",
                   " --incident latency_spike@1m+10m --http 127.0.0.1:0",
                   " --output json --dead-letter ", dead),
            log);
  ChildGuard guard(pid);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  // Retried three times (503), then rejected (400).
  ASSERT_TRUE(WaitFor([&] { return receiver.Requests().size() >= 5; }, 30)) << ReadFile(log);
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet(base, "/metrics").second;
        return metrics.find("vigil_notifications_total{") != std::string::npos;
      },
      10));
  const std::string status = HttpGet(base, "/api/status").second;
  const std::string alerts = HttpGet(base, "/api/alerts").second;
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);

  // The userinfo went out as basic auth, to the right host, path and query.
  const std::vector<std::string> requests = receiver.Requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(
      requests[0].rfind(
          StrCat("POST /services/", kPathToken, "?token=", kQueryToken, "&v=2 HTTP/1.1\r\n"), 0),
      0u)
      << requests[0];
  EXPECT_THAT(requests[0], HasSubstr(StrCat("\r\nAuthorization: Basic ", kBasic, "\r\n")));
  EXPECT_THAT(requests[0], HasSubstr(StrCat("\r\nHost: 127.0.0.1:", receiver.port(), "\r\n")));

  // Every output, free of the secrets.
  const std::string stderr_text = ReadFile(log);
  ExpectNoSecret("stdout and stderr", stderr_text);
  ExpectNoSecret("/metrics", metrics);
  ExpectNoSecret("/api/status", status);
  ExpectNoSecret("/api/alerts", alerts);
  ExpectNoSecret("dead letters", ReadFile(dead));
  for (const auto& e : std::filesystem::directory_iterator(dir + "/spool")) {
    ExpectNoSecret(e.path().string(), ReadFile(e.path().string()));
  }
  // ... while they still name the receiver and its redacted URL, and say
  // what went wrong (the echoed body, cleaned and cut short).
  const std::string shown = StrCat("http://127.0.0.1:", receiver.port(), "/***");
  // (One line per 30 s: the rejections that follow the retries are counted
  // in the next line, after the test ends.)
  EXPECT_THAT(
      stderr_text,
      HasSubstr(StrCat(
          "vigil: notify team-hook ", shown,
          ": HTTP 503: you sent me: POST <redacted> HTTP/1.1  Host: 127.0.0.1:", receiver.port(),
          "  User-Agent: vigil  Authorization: Basic "
          "<redacted>  Content-Type: application/json")));
  EXPECT_THAT(metrics,
              HasSubstr(StrCat("receiver=\"team-hook\",result=\"failed\",target=\"", shown, "\"")));
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
