// The admin HTTP endpoint secured end to end: TLS, basic auth and bearer
// tokens with curl; a Prometheus scrape over TLS with basic auth; a
// cross-site POST refused; a bad web config refused at start; client
// certificates; and /healthz answering under 24,000 idle connections.
// Certificates are made with the openssl CLI for each run.
#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

using ::testing::HasSubstr;

const std::string kVigil = VIGIL_BINARY;
constexpr const char* kToken = "tok-Qm9vZ2xlIGlzIG5vdCBhIHNlY3JldA";

std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

// A CA, a server certificate for 127.0.0.1 and localhost, a client
// certificate, a bearer token file and a web config using them.
class WebSecurityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath("websec_", "dir");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string cmd =
        StrCat("cd ", dir_, " && openssl req -x509 ", ec,
               " -keyout ca.key -out ca.crt -days 1 -subj /CN=vigil-test-ca", " && openssl req ",
               ec, " -keyout tls.key -out tls.csr -subj /CN=localhost",
               " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext",
               " && openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial",
               " -out tls.crt -days 1 -extfile san.ext", " && openssl req ", ec,
               " -keyout client.key -out client.csr -subj /CN=prometheus",
               " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial",
               " -out client.crt -days 1");
    ASSERT_EQ(std::system(("(" + cmd + ") >" + dir_ + "/openssl.log 2>&1").c_str()), 0)
        << ReadFile(dir_ + "/openssl.log");
    std::ofstream(dir_ + "/token") << kToken << "\n";
    std::ofstream(dir_ + "/web.yml") << "tls_server_config:\n  cert_file: tls.crt\n"
                                        "  key_file: tls.key\n"
                                        "basic_auth_users:\n  prom: '"
                                     << Bcrypt("s3cret") << "'\nbearer_token_files: [token]\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts vigil with `flags`; returns its pid and sets *base to
  // "https://127.0.0.1:PORT".
  pid_t StartVigil(const std::string& flags, const std::string& log, std::string* base) {
    const pid_t pid = Spawn(kVigil +
                                " run --generator --speed 600 --rate 50 --no-console "
                                "--http 127.0.0.1:0 " +
                                flags,
                            log);
    const std::string plain = JobHttpBase(log);
    *base = plain.empty() ? "" : "https" + plain.substr(4);
    return pid;
  }

  std::string Curl(const std::string& args) {
    return Sh(StrCat("curl -s --max-time 10 --cacert ", dir_, "/ca.crt -w ' %{http_code}' ", args,
                     " 2>&1"))
        .out;
  }

  std::string dir_;
};

TEST_F(WebSecurityE2eTest, TlsBasicAuthAndBearerTokensWithCurl) {
  const std::string log = TempPath("websec_", "curl.log");
  std::string base;
  const pid_t job =
      StartVigil("--web.enable-lifecycle --web.config.file " + dir_ + "/web.yml", log, &base);
  ChildGuard guard(job);
  ASSERT_FALSE(base.empty()) << ReadFile(log);

  // The probes need no credentials, but TLS all the same.
  EXPECT_EQ(Curl(base + "/healthz"), "ok\n 200");
  EXPECT_EQ(Curl(base + "/readyz"), "ready\n 200");
  EXPECT_EQ(Sh("curl -s --max-time 5 http" + base.substr(5) + "/healthz").out, "")
      << "plain HTTP on the TLS port";
  // Everything else needs a user or a token.
  EXPECT_EQ(Curl(base + "/metrics"), "authentication required\n 401");
  EXPECT_EQ(Curl("-u prom:wrong " + base + "/api/status"), "authentication required\n 401");
  EXPECT_EQ(Curl("-H 'Authorization: Bearer tok-wrong' " + base + "/api/status"),
            "authentication required\n 401");
  const std::string metrics = Curl("-u prom:s3cret " + base + "/metrics");
  EXPECT_THAT(metrics, HasSubstr("vigil_events_in_total"));
  EXPECT_THAT(metrics, ::testing::EndsWith(" 200"));
  const std::string status =
      Curl(StrCat("-H 'Authorization: Bearer ", kToken, "' ", base, "/api/status"));
  EXPECT_THAT(status, HasSubstr("\"source\":\"generator\""));
  EXPECT_THAT(status, ::testing::EndsWith(" 200"));

  // A state change: a form post from another site is refused, whatever its
  // credentials (a browser would replay basic auth); the same origin with
  // JSON, or a bearer token, is accepted and answered 202.
  EXPECT_EQ(Curl("-u prom:s3cret -X POST -H 'Origin: https://evil.example' "
                 "-H 'Content-Type: application/x-www-form-urlencoded' -d a=1 " +
                 base + "/-/reload"),
            "cross-origin request refused: Origin 'https://evil.example' is not this server (" +
                base + ")\n 403");
  EXPECT_EQ(Curl("-u prom:s3cret -X POST -H 'Content-Type: text/plain' -d x " + base + "/-/reload"),
            "POST /-/reload needs Content-Type: application/json (or an Authorization: Bearer "
            "token); a form's or text content type is refused to stop cross-site requests\n 415");
  EXPECT_EQ(Curl("-u prom:s3cret -X POST -H 'Content-Type: application/json' -H 'Origin: " + base +
                 "' " + base + "/-/reload"),
            "{\"id\":1,\"status\":\"pending\",\"location\":\"/-/reload/status?id=1\"}\n 202");
  EXPECT_EQ(Curl(StrCat("-H 'Authorization: Bearer ", kToken, "' -X POST ", base, "/-/reload")),
            "{\"id\":2,\"status\":\"pending\",\"location\":\"/-/reload/status?id=2\"}\n 202");
  std::string done;
  EXPECT_TRUE(WaitFor(
      [&] {
        done = Curl("-u prom:s3cret '" + base + "/-/reload/status?id=2'");
        return done.find("pending") == std::string::npos;
      },
      10));
  EXPECT_EQ(done, "{\"id\":2,\"status\":\"succeeded\"}\n 200");
}

TEST_F(WebSecurityE2eTest, LifecycleIsOffByDefault) {
  const std::string log = TempPath("websec_", "lifecycle.log");
  std::string base;
  const pid_t job = StartVigil("", log, &base);
  ChildGuard guard(job);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  const std::string plain = "http" + base.substr(5);
  EXPECT_EQ(Curl("-X POST -H 'Content-Type: application/json' " + plain + "/-/reload"),
            "the lifecycle API (/-/reload) is disabled; start vigil with --web.enable-lifecycle "
            "(or http.enable_lifecycle: true in the job file)\n 403");
  EXPECT_EQ(Curl(plain + "/healthz"), "ok\n 200");
}

TEST_F(WebSecurityE2eTest, ClientCertificatesWhenTheConfigAsksForThem) {
  std::ofstream(dir_ + "/mtls.yml") << "tls_server_config:\n  cert_file: tls.crt\n"
                                       "  key_file: tls.key\n  client_ca_file: ca.crt\n";
  const std::string log = TempPath("websec_", "mtls.log");
  std::string base;
  const pid_t job = StartVigil("--web.config.file " + dir_ + "/mtls.yml", log, &base);
  ChildGuard guard(job);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  EXPECT_THAT(Curl(base + "/healthz"), ::testing::EndsWith(" 000")) << "no client certificate";
  EXPECT_EQ(
      Curl(StrCat("--cert ", dir_, "/client.crt --key ", dir_, "/client.key ", base, "/healthz")),
      "ok\n 200");
}

TEST_F(WebSecurityE2eTest, ABadWebConfigStopsTheStartWithItsPosition) {
  std::ofstream(dir_ + "/bad.yml")
      << "tls_server_config:\n  cert_file: tls.crt\n"
         "  key_file: tls.key\n  client_auth_typ: RequireAnyClientCert\n";
  const std::string log = TempPath("websec_", "bad.log");
  const pid_t job = Spawn(
      kVigil + " run --no-console --http 127.0.0.1:0 --web.config.file " + dir_ + "/bad.yml", log);
  ChildGuard guard(job);
  EXPECT_EQ(WaitExit(job), 2);
  EXPECT_EQ(ReadFile(log), "vigil: " + dir_ +
                               "/bad.yml:4:3: unknown key 'client_auth_typ' in "
                               "tls_server_config; did you mean "
                               "'client_auth_type'?\n");

  std::ofstream(dir_ + "/job.yaml") << "http:\n  listen: 127.0.0.1:0\n  enable_lifecycle: yes\n"
                                       "  max_connections: 0\n";
  const Result r = Sh(kVigil + " run --config " + dir_ + "/job.yaml 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr(dir_ + "/job.yaml:4:20: max_connections must be a whole number "
                                      "of at least 1"));
}

TEST_F(WebSecurityE2eTest, PrometheusScrapesOverTlsWithBasicAuth) {
  if (Sh("command -v prometheus").exit_code != 0) GTEST_SKIP() << "no prometheus binary";
  const std::string log = TempPath("websec_", "scraped.log");
  std::string base;
  const pid_t job = StartVigil("--web.config.file " + dir_ + "/web.yml", log, &base);
  ChildGuard guard(job);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  const std::string target = base.substr(8);  // 127.0.0.1:PORT
  const uint16_t prom_port = FreePort();
  std::ofstream(dir_ + "/prometheus.yml") << "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                                             "scrape_configs:\n"
                                             "  - job_name: vigil_secured\n"
                                             "    scheme: https\n"
                                             "    tls_config: {ca_file: "
                                          << dir_
                                          << "/ca.crt, server_name: localhost}\n"
                                             "    basic_auth: {username: prom, password: s3cret}\n"
                                             "    static_configs: [{targets: ['"
                                          << target
                                          << "']}]\n"
                                             "  - job_name: vigil_wrong_password\n"
                                             "    scheme: https\n"
                                             "    tls_config: {ca_file: "
                                          << dir_
                                          << "/ca.crt, server_name: localhost}\n"
                                             "    basic_auth: {username: prom, password: guess}\n"
                                             "    static_configs: [{targets: ['"
                                          << target << "']}]\n";
  ServerProcess prometheus({"prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                            "--storage.tsdb.path=" + dir_ + "/tsdb",
                            StrCat("--web.listen-address=127.0.0.1:", prom_port)},
                           dir_ + "/prometheus.log");
  const auto up = [&](const std::string& job_name) {
    return Sh(StrCat("curl -s --max-time 2 -G http://127.0.0.1:", prom_port,
                     "/api/v1/query --data-urlencode 'query=up{job=\"", job_name, "\"}'"))
        .out;
  };
  std::string secured;
  EXPECT_TRUE(WaitFor(
      [&] {
        secured = up("vigil_secured");
        return secured.find("\"1\"]") != std::string::npos;
      },
      60))
      << secured << "\n"
      << ReadFile(dir_ + "/prometheus.log");
  // The same target with a wrong password is down: the scrape above got in
  // by its credentials.
  std::string wrong;
  EXPECT_TRUE(WaitFor(
      [&] {
        wrong = up("vigil_wrong_password");
        return wrong.find("\"0\"]") != std::string::npos;
      },
      30))
      << wrong;
}

// Opens `count` TCP connections to 127.0.0.1:port from a child process and
// holds them, idle, until killed; writes one byte to `ready_fd` when done.
pid_t HoldIdleConnections(uint16_t port, int count, int ready_fd) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::alarm(120);  // never outlives a test that lost track of it
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(count) + 64);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int opened = 0;
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      break;
    }
    ++opened;
  }
  const char byte = opened == count ? 1 : 0;
  (void)!::write(ready_fd, &byte, 1);
  for (;;) ::pause();
}

TEST_F(WebSecurityE2eTest, HealthzAnswersUnder24000IdleConnections) {
  const std::string log = TempPath("websec_", "flood.log");
  std::string base;
  const pid_t job = StartVigil("", log, &base);
  ChildGuard guard(job);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  const uint16_t port = static_cast<uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
  const std::string plain = "http" + base.substr(5);

  // Three holders of 8,000 each: no file-descriptor limit of one process
  // needs raising past what an unprivileged one may.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  std::vector<pid_t> holders;
  for (int i = 0; i < 3; ++i) holders.push_back(HoldIdleConnections(port, 8000, ready[1]));
  int complete = 0;
  for (int i = 0; i < 3; ++i) {
    char byte = 0;
    if (::read(ready[0], &byte, 1) == 1) complete += byte;
  }
  ::close(ready[0]);
  ::close(ready[1]);

  EXPECT_EQ(complete, 3) << "every holder opened its 8,000 connections";
  // Answered within the curl bound while the connections are held.
  const Result health = Sh("curl -s --max-time 5 -w ' %{http_code}' " + plain + "/healthz");
  EXPECT_EQ(health.out, "ok\n 200");
  // The job holds at most the cap (512) of them, not 24,000.
  size_t fds = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(StrCat("/proc/", job, "/fd"))) {
    ++fds;
  }
  EXPECT_LT(fds, 512u + 128u);

  for (pid_t h : holders) ::kill(h, SIGKILL);
  for (pid_t h : holders) ::waitpid(h, nullptr, 0);
  EXPECT_EQ(Sh("curl -s --max-time 5 " + plain + "/healthz").out, "ok\n");
}

}  // namespace
}  // namespace vigil
