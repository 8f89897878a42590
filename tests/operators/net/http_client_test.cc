#include "operators/net/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace vigil {
namespace {

// A loopback server that hands each accepted connection to `serve`, one
// connection at a time, on its own thread.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] {
      while (true) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++connections_;
        serve_(c);
        ::close(c);
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::function<void(int)> serve_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// Reads one request (headers and a Content-Length body); "" on EOF.
std::string ReadRequest(int fd) {
  std::string data;
  char buf[4096];
  while (true) {
    const size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t length = 0;
      const size_t cl = data.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) length = std::stoul(data.substr(cl + 16));
      if (data.size() >= end + 4 + length) return data;
    }
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return "";
    data.append(buf, static_cast<size_t>(n));
  }
}

void Write(int fd, const std::string& s) { (void)!::write(fd, s.data(), s.size()); }

TEST(HttpUrlTest, ParsesSchemesHostsPortsAndTargets) {
  absl::StatusOr<HttpUrl> u = HttpUrl::Parse("http://127.0.0.1:9093/api/v2/alerts?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9093);
  EXPECT_EQ(u->target, "/api/v2/alerts?x=1");
  EXPECT_EQ(u->Origin(), "http://127.0.0.1:9093");

  u = HttpUrl::Parse("https://events.pagerduty.com");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");

  u = HttpUrl::Parse("http://[::1]:8080?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/?q");
  EXPECT_EQ(u->Origin(), "http://[::1]:8080");

  EXPECT_FALSE(HttpUrl::Parse("ftp://x").ok());
  EXPECT_FALSE(HttpUrl::Parse("http://:80/").ok());
  EXPECT_FALSE(HttpUrl::Parse("http://host:99999/").ok());
  EXPECT_FALSE(HttpUrl::Parse("http://host:8a/").ok());
}

TEST(HttpUrlTest, UserinfoIsBasicAuthNotPartOfTheHost) {
  absl::StatusOr<HttpUrl> u = HttpUrl::Parse(
      "https://bot:p%40ss%3Aw0rd@hooks.example.com:8443/services/T0/B0/XyZ123abc"
      "?token=s3cr3tq#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->username, "bot");
  EXPECT_EQ(u->password, "p@ss:w0rd");
  EXPECT_EQ(u->target, "/services/T0/B0/XyZ123abc?token=s3cr3tq");
  EXPECT_EQ(u->Redacted(), "https://hooks.example.com:8443/***");
  // An '@' in the query is not userinfo.
  u = HttpUrl::Parse("http://h:81/notify?to=a@b.example");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "h");
  EXPECT_EQ(u->username, "");
  u = HttpUrl::Parse("http://user@h/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->username, "user");
  EXPECT_EQ(u->password, "");
  EXPECT_EQ(u->Redacted(), "http://h:80");
}

TEST(HttpUrlTest, ErrorsShowTheUrlRedacted) {
  const auto error = [](std::string_view url) {
    absl::StatusOr<HttpUrl> u = HttpUrl::Parse(url);
    return u.ok() ? std::string("ok") : std::string(u.status().message());
  };
  EXPECT_EQ(error("http://u:secretpw@host:8a/hook/tok3n"), "URL \"<redacted URL>\" has a bad port");
  EXPECT_EQ(error("http://u:secretpw@host:99999/hook/tok3n"),
            "URL \"http://host:99999/***\" has a bad port");
  EXPECT_EQ(error("http://:secretpw@host/hook"),
            "URL \"http://host/***\" has an empty user name before '@'");
  EXPECT_EQ(error("http://us%3Aer:secretpw@host/hook"),
            "URL \"http://host/***\" has a ':' (%3A) in its user name, which basic auth cannot "
            "carry");
  EXPECT_EQ(error("http://u:%zzsecret@host/"),
            "URL \"http://host\" has a malformed %-escape in its user:password@ part");
  // A '/' in the password ends the authority early: the would-be host is
  // half the password, so nothing of it is shown.
  for (const char* url : {"http://u:pa/ss@host/", "http://u:1234/ss@host/"}) {
    EXPECT_EQ(error(url),
              "URL \"<redacted URL>\" has an '@' in its path; if it holds user:password@, write "
              "a '/', '@' or ':' in the password as %2F, %40 or %3A");
  }
  EXPECT_EQ(error("ftp://u:pw@x/secret"),
            "URL \"ftp://x/***\" must start with http:// or https://");
  EXPECT_EQ(HttpUrl::Redact("no scheme secret"), "<redacted URL>");
}

TEST(HttpUrlTest, SecretsAreWhatAReplyMustBeCleanedOf) {
  absl::StatusOr<HttpUrl> u =
      HttpUrl::Parse("http://bot:pw1@h:9/services/T0/XyZ123abc?token=s3cr3tq&v=2");
  ASSERT_TRUE(u.ok());
  // Longest first; "services" is a word but 8 long, so it goes too.
  EXPECT_EQ(u->Secrets(), (std::vector<std::string>{"/services/T0/XyZ123abc?token=s3cr3tq&v=2",
                                                    "/services/T0/XyZ123abc", "token=s3cr3tq&v=2",
                                                    "Ym90OnB3MQ==", "XyZ123abc", "services",
                                                    "bot:pw1", "s3cr3tq", "pw1"}));
  EXPECT_EQ(RedactSecrets("POST /services/T0/XyZ123abc?token=s3cr3tq&v=2 from bot:pw1 "
                          "(Basic Ym90OnB3MQ==) token s3cr3tq; v=2",
                          u->Secrets()),
            "POST <redacted> from <redacted> (Basic <redacted>) token <redacted>; v=2");
}

TEST(HttpClientTest, SendsTheUrlsUserinfoAsBasicAuth) {
  std::string seen;
  ScriptedServer server([&](int fd) {
    seen = ReadRequest(fd);
    Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  absl::StatusOr<HttpUrl> u =
      HttpUrl::Parse("http://bot:p%40ss@127.0.0.1:" + std::to_string(server.port()) + "/hook");
  ASSERT_TRUE(u.ok()) << u.status();
  HttpClient client(*u);
  absl::StatusOr<HttpClientResponse> r = client.Send("POST", u->target, "{}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  // base64("bot:p@ss")
  EXPECT_NE(seen.find("\r\nAuthorization: Basic Ym90OnBAc3M=\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << seen;
}

TEST(HttpClientTest, SendsRequestAndReadsResponseOnAKeptAliveConnection) {
  std::string seen;
  ScriptedServer server([&](int fd) {
    for (std::string req; !(req = ReadRequest(fd)).empty();) {
      seen += req;
      Write(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nX-Id: 7\r\n\r\nok");
    }
  });
  HttpClient client(*HttpUrl::Parse(server.url("/")));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpClientResponse> r =
        client.Send("POST", "/api/v2/alerts", "[]", {{"Content-Type", "application/json"}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(r->Header("x-id"), "7");
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_NE(seen.find("POST /api/v2/alerts HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(seen.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(seen.find("Host: 127.0.0.1:" + std::to_string(server.port())), std::string::npos);
}

TEST(HttpClientTest, ResendsOnceWhenTheServerClosedAnIdleConnection) {
  // The server answers one request per connection and then closes it
  // without saying so, as servers do with idle keep-alive connections.
  ScriptedServer server([&](int fd) {
    if (!ReadRequest(fd).empty()) Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  HttpClient client(*HttpUrl::Parse(server.url("/")));
  ASSERT_TRUE(client.Send("GET", "/", "").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  absl::StatusOr<HttpClientResponse> r = client.Send("GET", "/", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientTest, AHangingServerTimesOut) {
  std::atomic<bool> release{false};
  ScriptedServer server([&](int fd) {
    ReadRequest(fd);
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  HttpClient::Options options;
  options.timeout = std::chrono::milliseconds(200);
  HttpClient client(*HttpUrl::Parse(server.url("/")), options);
  absl::StatusOr<HttpClientResponse> r = client.Send("POST", "/hook", "{}");
  release.store(true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("reading the response: timed out"), std::string::npos)
      << r.status();
}

TEST(HttpClientTest, RefusedConnectionIsUnavailableAndNamesTheOrigin) {
  uint16_t port;
  {
    ScriptedServer server([](int) {});
    port = server.port();
  }
  HttpClient client(*HttpUrl::Parse("http://127.0.0.1:" + std::to_string(port) + "/"));
  absl::StatusOr<HttpClientResponse> r = client.Send("GET", "/", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(port) + ": connecting"),
            std::string::npos)
      << r.status();
}

TEST(HttpClientTest, ErrorStatusesAreResponsesNotErrors) {
  ScriptedServer server([&](int fd) {
    if (!ReadRequest(fd).empty()) {
      Write(
          fd,
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy");
    }
  });
  HttpClient client(*HttpUrl::Parse(server.url("/")));
  absl::StatusOr<HttpClientResponse> r = client.Send("GET", "/", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "busy");
}

}  // namespace
}  // namespace vigil
