// The HTTP server's guards: the lifecycle routes, refusals of cross-site
// state changes and foreign host names, authentication (web config).
#include <crypt.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "boost/beast/core/detail/base64.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/http_server.h"
#include "runtime/web_config.h"
#include "tests/runtime/http_server_fixture.h"

namespace vigil::http_server_test {
namespace {

TEST_F(HttpServerTest, LifecycleRoutesAre403UnlessEnabled) {
  StartServer({});
  TestClient client(server_->port());
  const Response refused = client.RoundTrip(http::verb::post, "/-/reload");
  EXPECT_EQ(refused.result_int(), 403);
  EXPECT_EQ(refused.body(),
            "the lifecycle API (/-/reload) is disabled; start vigil with --web.enable-lifecycle "
            "(or http.enable_lifecycle: true in the job file)\n");
  // A route that also takes POST changes state by POST only.
  EXPECT_EQ(client.RoundTrip(http::verb::post, "/echo", "x").result_int(), 403);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/echo").result_int(), 200);
  EXPECT_EQ(LastRequest().method, "GET");
}

TEST_F(HttpServerTest, StateChangingRequestNeedsANonSimpleContentType) {
  StartServer();
  TestClient client(server_->port());
  // What an HTML form or a fetch without preflight can send from any site.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "TEXT/PLAIN;charset=utf-8", ""}) {
    const Response r =
        client.RoundTrip(http::verb::post, "/-/reload", "", {{"Content-Type", type}});
    EXPECT_EQ(r.result_int(), 415) << type;
    EXPECT_EQ(r.body(),
              "POST /-/reload needs Content-Type: application/json (or an Authorization: Bearer "
              "token); a form's or text content type is refused to stop cross-site requests\n");
  }
  EXPECT_EQ(client.RoundTrip(http::verb::post, "/-/reload").body(), "reloaded\n");
  // Reads need nothing of the kind.
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", {{"Content-Type", "text/plain"}})
                .result_int(),
            200);
}

TEST_F(HttpServerTest, CrossSiteStateChangeIsRefused) {
  StartServer();
  TestClient client(server_->port());
  const std::string own = "http://localhost";  // the client's Host is "localhost"
  Response r =
      client.RoundTrip(http::verb::post, "/-/reload", "", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r.result_int(), 403);
  EXPECT_EQ(r.body(),
            "cross-origin request refused: Origin 'http://evil.example' is not this "
            "server (http://localhost)\n");
  EXPECT_EQ(client.RoundTrip(http::verb::post, "/-/reload", "", {{"Origin", "null"}}).result_int(),
            403);
  r = client.RoundTrip(http::verb::post, "/-/reload", "", {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(r.result_int(), 403);
  EXPECT_EQ(r.body(), "cross-site request refused (Sec-Fetch-Site: cross-site)\n");
  // Same origin passes.
  EXPECT_EQ(client
                .RoundTrip(http::verb::post, "/-/reload", "",
                           {{"Origin", own}, {"Sec-Fetch-Site", "same-origin"}})
                .body(),
            "reloaded\n");
}

TEST_F(HttpServerTest, StateChangeUnderAForeignHostNameIsRefused) {
  StartServer();
  TestClient client(server_->port());
  // A DNS-rebinding page is same-origin with itself: only its Host gives it away.
  const Response r = client.RoundTrip(
      http::verb::post, "/-/reload", "",
      {{"Host", "rebind.evil.example:9464"}, {"Origin", "http://rebind.evil.example:9464"}});
  EXPECT_EQ(r.result_int(), 403);
  EXPECT_THAT(r.body(), HasSubstr("Host 'rebind.evil.example:9464' is neither an IP address, "
                                  "localhost nor in allowed_hosts"));
  for (const char* host : {"127.0.0.1:9464", "[::1]:9464", "localhost", "vigil.localhost:1"}) {
    EXPECT_EQ(client.RoundTrip(http::verb::post, "/-/reload", "", {{"Host", host}}).result_int(),
              200)
        << host;
  }
  // Reads are not refused for their Host unless allowed_hosts is set.
  EXPECT_EQ(
      client.RoundTrip(http::verb::get, "/hello", "", {{"Host", "vigil.example"}}).result_int(),
      200);
}

// A bcrypt hash of `password` at the lowest cost, made with libxcrypt.
std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

std::string Base64(const std::string& s) {
  std::string out(beast::detail::base64::encoded_size(s.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), s.data(), s.size()));
  return out;
}

class HttpServerAuthTest : public HttpServerTest {
 protected:
  void SetUp() override {
    token_file_ = ::testing::TempDir() + "/http_auth_token_" + std::to_string(::getpid());
    std::ofstream(token_file_) << "tok-7f3a9c\n";
  }
  void TearDown() override { std::remove(token_file_.c_str()); }

  void StartSecured(const std::string& extra = "") {
    absl::StatusOr<std::shared_ptr<const WebConfig>> web =
        ParseWebConfig("basic_auth_users:\n  prom: '" + Bcrypt("s3cret") +
                           "'\nbearer_token_files: [" + token_file_ + "]\n" + extra,
                       "web.yml", "");
    ASSERT_TRUE(web.ok()) << web.status();
    StartServer({.enable_lifecycle = true, .web = *web});
  }

  std::string token_file_;
};

TEST_F(HttpServerAuthTest, EveryPathButTheProbesNeedsCredentials) {
  StartSecured();
  TestClient client(server_->port());
  Response r = client.RoundTrip(http::verb::get, "/hello");
  EXPECT_EQ(r.result_int(), 401);
  EXPECT_EQ(r.body(), "authentication required\n");
  std::vector<std::string> challenges;
  for (const auto& field : r) {
    if (field.name() == http::field::www_authenticate) challenges.emplace_back(field.value());
  }
  EXPECT_THAT(challenges, ::testing::ElementsAre("Basic realm=\"vigil\", charset=\"UTF-8\"",
                                                 "Bearer realm=\"vigil\""));
  // Unknown paths too: a 404 would tell what exists.
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/nope").result_int(), 401);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/healthz").body(), "ok\n");

  const auto basic = [](const std::string& pair) {
    return HttpHeaders{{"Authorization", "Basic " + Base64(pair)}};
  };
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", basic("prom:wrong")).result_int(), 401);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", basic("nobody:s3cret")).result_int(),
            401);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", basic("prom:s3cret")).result_int(),
            200);
  // Cached after the first check, and still exact.
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", basic("prom:s3cret")).result_int(),
            200);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", basic("prom:s3cre")).result_int(), 401);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", {{"Authorization", "Basic !!!"}})
                .result_int(),
            401);
  EXPECT_EQ(
      client.RoundTrip(http::verb::get, "/hello", "", {{"Authorization", "Bearer tok-7f3a9c"}})
          .result_int(),
      200);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", {{"Authorization", "Bearer tok-7f3a9"}})
                .result_int(),
            401);
}

TEST_F(HttpServerAuthTest, ABearerTokenIsEnoughForAStateChange) {
  StartSecured();
  TestClient client(server_->port());
  // No browser attaches a bearer token by itself, so neither content type
  // nor Host is asked for.
  const Response r = client.RoundTrip(
      http::verb::post, "/-/reload", "",
      {{"Authorization", "Bearer tok-7f3a9c"}, {"Content-Type", ""}, {"Host", "vigil.example"}});
  EXPECT_EQ(r.body(), "reloaded\n");
  // Basic credentials are what a browser does replay: the checks stay.
  const Response basic = client.RoundTrip(
      http::verb::post, "/-/reload", "",
      {{"Authorization", "Basic " + Base64("prom:s3cret")}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(basic.result_int(), 415);
}

TEST_F(HttpServerAuthTest, AllowedHostsRefuseOtherHostsButNotTheProbes) {
  StartSecured("allowed_hosts: [vigil.example, 127.0.0.1]\n");
  TestClient client(server_->port());
  const HttpHeaders token = {{"Authorization", "Bearer tok-7f3a9c"}};
  HttpHeaders other = token;
  other.emplace_back("Host", "evil.example");
  const Response r = client.RoundTrip(http::verb::get, "/hello", "", other);
  EXPECT_EQ(r.result_int(), 403);
  EXPECT_EQ(r.body(), "Host 'evil.example' is not allowed (allowed_hosts in web.yml)\n");
  HttpHeaders good = token;
  good.emplace_back("Host", "VIGIL.example:9464");
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello", "", good).result_int(), 200);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/healthz", "", {{"Host", "evil.example"}}).body(),
            "ok\n");
}

// A changed web config (a rotated token here; certificates alike) applies to
// new connections without a restart; a broken one is reported and the
// previous one stays.
TEST_F(HttpServerAuthTest, AChangedWebConfigIsLoadedAgain) {
  const std::string web_file = token_file_ + ".yml";
  std::ofstream(web_file) << "bearer_token_files: [" << token_file_ << "]\n";
  StartServer({.enable_lifecycle = true,
               .web_config_file = web_file,
               .web_config_check_interval = milliseconds(20)});
  const auto status_with = [&](const std::string& token) {
    TestClient client(server_->port());  // a new connection each time
    return client.RoundTrip(http::verb::get, "/hello", "", {{"Authorization", "Bearer " + token}})
        .result_int();
  };
  EXPECT_EQ(status_with("tok-7f3a9c"), 200);
  testing::internal::CaptureStderr();
  std::ofstream(token_file_) << "tok-rotated-2\n";
  bool rotated = false;
  for (int i = 0; i < 250 && !rotated; ++i) {
    rotated = status_with("tok-rotated-2") == 200;
    if (!rotated) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(rotated);
  EXPECT_EQ(status_with("tok-7f3a9c"), 401);

  std::ofstream(web_file) << "bearer_token_files: [" << token_file_ << "]\nbogus: 1\n";
  std::string err;
  for (int i = 0; i < 250 && err.find("not reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    // Captured stderr can be read only once: collect and capture again.
    err += testing::internal::GetCapturedStderr();
    testing::internal::CaptureStderr();
  }
  err += testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("vigil: web config " + web_file + " reloaded\n"));
  EXPECT_THAT(err, HasSubstr("vigil: web config not reloaded, the previous one stays: " + web_file +
                             ":2:1: unknown key 'bogus' in the web config"));
  EXPECT_EQ(status_with("tok-rotated-2"), 200);
  std::remove(web_file.c_str());
}

}  // namespace
}  // namespace vigil::http_server_test
