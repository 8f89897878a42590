// The web config file: Prometheus' format plus vigil's keys, with
// file:line:col: errors (runtime/web_config.h).
#include "runtime/web_config.h"

#include <crypt.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

using ::testing::HasSubstr;

std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

// A directory with a CA, a server certificate for localhost and its key,
// and a second key that belongs to nothing, made with the openssl CLI.
class WebConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/web_config_" + std::to_string(::getpid()));
    std::filesystem::create_directories(*dir_);
    const std::string cmd =
        "cd " + *dir_ +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.crt -days 1 -subj /CN=ca"
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout tls.key -out tls.crt -days 1 -subj /CN=localhost"
        " && openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out other.key"
        " && printf 'tok-1\\n' > token && : > empty";
    ASSERT_EQ(std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static absl::StatusOr<std::shared_ptr<const WebConfig>> Parse(const std::string& yaml) {
    return ParseWebConfig(yaml, "web.yml", *dir_);
  }
  static std::string Error(const std::string& yaml) {
    absl::StatusOr<std::shared_ptr<const WebConfig>> w = Parse(yaml);
    return w.ok() ? "ok" : std::string(w.status().message());
  }

  static std::string* dir_;
};

std::string* WebConfigTest::dir_ = nullptr;

TEST_F(WebConfigTest, EmptyFileIsPlainHttpWithoutAuth) {
  absl::StatusOr<std::shared_ptr<const WebConfig>> w = Parse("");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_FALSE((*w)->tls());
  EXPECT_FALSE((*w)->auth_required());
  EXPECT_TRUE((*w)->Unauthenticated("/healthz"));
  EXPECT_TRUE((*w)->Unauthenticated("/readyz"));
  EXPECT_FALSE((*w)->Unauthenticated("/metrics"));
  EXPECT_TRUE((*w)->HostAllowed("anything:1"));
}

TEST_F(WebConfigTest, ReadsTlsUsersTokensPathsAndHosts) {
  const std::string hash = Bcrypt("pw");
  absl::StatusOr<std::shared_ptr<const WebConfig>> w = Parse(
      "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"
      "  client_ca_file: ca.crt\n  min_version: TLS13\n"
      "basic_auth_users:\n  prom: '" +
      hash +
      "'\n"
      "bearer_token_files: [token]\n"
      "unauthenticated_paths: [/healthz]\n"
      "allowed_hosts: [Vigil.Example:9464, '[::1]']\n");
  ASSERT_TRUE(w.ok()) << w.status();
  const WebConfig& c = **w;
  EXPECT_TRUE(c.tls());
  EXPECT_TRUE(c.auth_required());
  EXPECT_TRUE(c.CheckBasic("prom", "pw"));
  EXPECT_FALSE(c.CheckBasic("prom", "pw "));
  EXPECT_FALSE(c.CheckBasic("other", "pw"));
  EXPECT_TRUE(c.CheckBearer("tok-1"));  // the file's newline is not part of it
  EXPECT_FALSE(c.CheckBearer("tok-1\n"));
  EXPECT_FALSE(c.CheckBearer("tok-"));
  EXPECT_FALSE(c.Unauthenticated("/readyz"));
  EXPECT_EQ(c.allowed_hosts, (std::vector<std::string>{"vigil.example", "::1"}));
  EXPECT_TRUE(c.HostAllowed("vigil.EXAMPLE"));
  EXPECT_TRUE(c.HostAllowed("[::1]:9464"));
  EXPECT_FALSE(c.HostAllowed("127.0.0.1"));
}

TEST_F(WebConfigTest, ErrorsPointAtTheNode) {
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: tls.crt\n  key_flie: tls.key\n"),
            "web.yml:3:3: unknown key 'key_flie' in tls_server_config; did you mean 'key_file'?");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: tls.crt\n"),
            "web.yml:2:3: tls_server_config needs 'key_file'");
  EXPECT_THAT(Error("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"
                    "  cert_file: other.crt\n"),
              HasSubstr("web.yml:4:3: duplicate key 'cert_file': it is also at line 2, column 3"));
  EXPECT_EQ(
      Error("tls_server_config:\n  cert_file: nope.crt\n  key_file: tls.key\n"),
      "web.yml:2:14: cannot read cert_file " + *dir_ + "/nope.crt: No such file or directory");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: tls.crt\n  key_file: other.key\n"),
            "web.yml:3:13: the private key " + *dir_ +
                "/other.key does not belong to the "
                "certificate " +
                *dir_ + "/tls.crt");
  EXPECT_THAT(Error("tls_server_config:\n  cert_file: token\n  key_file: tls.key\n"),
              HasSubstr("web.yml:2:14: cannot load the certificate " + *dir_ + "/token: "));
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"
                  "  client_auth_type: RequireAndVerifyClientCert\n"),
            "web.yml:4:21: client_auth_type RequireAndVerifyClientCert needs 'client_ca_file'");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"
                  "  client_auth_type: Always\n"),
            "web.yml:4:21: unknown client_auth_type 'Always' (allowed: NoClientCert, "
            "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, "
            "RequireAndVerifyClientCert)");
  // A plain password where the hash belongs is refused without echoing it.
  const std::string plain = Error("basic_auth_users:\n  prom: hunter2\n");
  EXPECT_THAT(plain, HasSubstr("web.yml:2:9: the password of user 'prom' must be a bcrypt hash"));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_EQ(Error("bearer_token_files: [empty]\n"),
            "web.yml:1:22: the bearer token file " + *dir_ + "/empty is empty");
  EXPECT_EQ(Error("bearer_token_files: [missing]\n"),
            "web.yml:1:22: cannot read the bearer token file " + *dir_ +
                "/missing: No such file or directory");
  EXPECT_EQ(Error("unauthenticated_paths: [healthz]\n"),
            "web.yml:1:25: an unauthenticated path must start with '/', e.g. /healthz");
  EXPECT_EQ(Error("basic_auth_user: {}\n"),
            "web.yml:1:1: unknown key 'basic_auth_user' in the web config; did you mean "
            "'basic_auth_users'?");
  EXPECT_EQ(Error("http_server_config: {http2: true}\n"),
            "web.yml:1:21: http_server_config (HTTP/2, response headers) is not supported by "
            "vigil");
  EXPECT_EQ(Error("tls_server_config: [\n"),
            "web.yml:1:20: this '[' is never closed with ']' (put a value that starts with '[' "
            "in quotes)");
}

TEST(WebConfigLoadTest, AMissingFileIsNamed) {
  absl::StatusOr<std::shared_ptr<const WebConfig>> w = LoadWebConfig("/nonexistent/web.yml");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message(),
            "/nonexistent/web.yml: cannot read the web config file: No such file or directory");
}

TEST(HostNameTest, StripsThePortAndLowersCase) {
  EXPECT_EQ(HostName("Example.COM:9464"), "example.com");
  EXPECT_EQ(HostName("[::1]:9464"), "::1");
  EXPECT_EQ(HostName("::1"), "::1");
  EXPECT_EQ(HostName("127.0.0.1"), "127.0.0.1");
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(ParseAuthorizationTest, BasicBearerAndMalformed) {
  // base64("prom:pa:ss") — the password may hold ':'.
  Credentials c = ParseAuthorization("Basic cHJvbTpwYTpzcw==");
  EXPECT_EQ(c.kind, Credentials::Kind::kBasic);
  EXPECT_EQ(c.user, "prom");
  EXPECT_EQ(c.password, "pa:ss");
  c = ParseAuthorization("bearer  tok-1 ");
  EXPECT_EQ(c.kind, Credentials::Kind::kBearer);
  EXPECT_EQ(c.token, "tok-1");
  EXPECT_EQ(ParseAuthorization("").kind, Credentials::Kind::kNone);
  for (const char* bad :
       {"Basic", "Basic !!!!", "Basic cHJvbQ==", "Basic cHJvbTpw===x", "Digest x", "Bearer"}) {
    EXPECT_EQ(ParseAuthorization(bad).kind, Credentials::Kind::kMalformed) << bad;
  }
}

TEST(CheckStateChangeTest, RefusesWhatAWebPageCanSend) {
  const StateChangeRequest ok{.method = "POST",
                              .path = "/-/reload",
                              .host = "127.0.0.1:9464",
                              .content_type = "application/json"};
  EXPECT_EQ(CheckStateChange(ok, nullptr).status, 0);
  StateChangeRequest r = ok;
  r.content_type = "text/plain;charset=UTF-8";
  EXPECT_EQ(CheckStateChange(r, nullptr).status, 415);
  r = ok;
  r.origin = "http://127.0.0.1:9464";
  EXPECT_EQ(CheckStateChange(r, nullptr).status, 0);
  r.tls = true;  // the same origin over TLS is https://
  EXPECT_EQ(CheckStateChange(r, nullptr).body,
            "cross-origin request refused: Origin 'http://127.0.0.1:9464' is not this server "
            "(https://127.0.0.1:9464)\n");
  r = ok;
  r.sec_fetch_site = "same-site";
  EXPECT_EQ(CheckStateChange(r, nullptr).status, 403);
  r = ok;
  r.host = "attacker.example:9464";
  EXPECT_EQ(CheckStateChange(r, nullptr).status, 403);
  // Names a DNS-rebinding page cannot have, and allowed hosts when configured.
  for (const char* host : {"localhost:9464", "LOCALHOST", "a.localhost", "[::1]:1", "10.0.0.7"}) {
    r.host = host;
    EXPECT_EQ(CheckStateChange(r, nullptr).status, 0) << host;
  }
  WebConfig web;
  web.allowed_hosts = {"vigil.example"};
  r.host = "vigil.example:9464";
  EXPECT_EQ(CheckStateChange(r, &web).status, 0);
  r.host = "127.0.0.1";  // with allowed_hosts, only those
  EXPECT_EQ(CheckStateChange(r, &web).status, 403);
}

}  // namespace
}  // namespace vigil
