#include "runtime/http_server.h"

#include <crypt.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/core/detail/base64.hpp"
#include "boost/beast/http.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/net/http_client.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "runtime/web_config.h"

namespace vigil {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

using Clock = std::chrono::steady_clock;
using Response = http::response<http::string_body>;

// Every client operation gives up after this, so a server bug fails the test
// instead of hanging it.
constexpr auto kClientTimeout = std::chrono::seconds(5);

// A blocking HTTP client over a real socket. Operations run asynchronously
// under a deadline, since Asio's synchronous calls cannot time out.
class TestClient {
 public:
  explicit TestClient(uint16_t port, std::string_view host = "127.0.0.1") : stream_(io_) {
    const tcp::endpoint endpoint(asio::ip::make_address(host), port);
    connect_error_ = Run([&](auto handler) { stream_.async_connect(endpoint, handler); });
  }

  beast::error_code connect_error() const { return connect_error_; }

  beast::error_code SendRaw(const std::string& bytes) {
    return Run([&](auto handler) { asio::async_write(stream_, asio::buffer(bytes), handler); });
  }

  beast::error_code Send(http::verb method, const std::string& target, std::string body = "",
                         bool keep_alive = true, const HttpHeaders& headers = {}) {
    http::request<http::string_body> request(method, target, 11);
    request.set(http::field::host, "localhost");
    // A content type no cross-site form can send: state-changing requests
    // need one.
    request.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.keep_alive(keep_alive);
    request.body() = std::move(body);
    request.prepare_payload();
    return Run([&](auto handler) { http::async_write(stream_, request, handler); });
  }

  // Reads one response; `head` tells the parser not to expect a body.
  std::pair<beast::error_code, Response> Receive(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    parser.skip(head);
    const beast::error_code ec =
        Run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
    return {ec, parser.release()};
  }

  Response RoundTrip(http::verb method, const std::string& target, std::string body = "",
                     const HttpHeaders& headers = {}) {
    const beast::error_code send_error = Send(method, target, std::move(body), true, headers);
    EXPECT_FALSE(send_error) << send_error.message();
    auto [ec, response] = Receive(method == http::verb::head);
    EXPECT_FALSE(ec) << ec.message();
    return response;
  }

  // Reads everything up to the blank line that ends a response's headers;
  // bytes read past it are kept for the next Receive.
  std::pair<beast::error_code, std::string> ReceiveHeaderBlock() {
    // Asio's read_until would copy a Beast buffer and read into the copy, so
    // it reads into a string that is then split.
    std::string data = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    size_t end = 0;
    const beast::error_code ec = Run([&](auto handler) {
      asio::async_read_until(stream_, asio::dynamic_buffer(data), "\r\n\r\n",
                             [&end, handler](beast::error_code ec, size_t n) {
                               end = n;
                               handler(ec, n);
                             });
    });
    const std::string rest = data.substr(end);
    buffer_.commit(asio::buffer_copy(buffer_.prepare(rest.size()), asio::buffer(rest)));
    data.resize(end);
    return {ec, data};
  }

  // Waits until the server closes the connection (or the client times out)
  // and returns how the read ended.
  beast::error_code WaitForClose() {
    char byte;
    return Run([&](auto handler) { stream_.async_read_some(asio::buffer(&byte, 1), handler); });
  }

 private:
  template <typename StartOperation>
  beast::error_code Run(StartOperation start) {
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kClientTimeout);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code connect_error_;
};

bool IsClosedByPeer(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

HttpResponse Text(std::string body) { return HttpResponse{.body = std::move(body)}; }

// A server with a few routes, started on an ephemeral loopback port.
class HttpServerTest : public ::testing::Test {
 protected:
  // Lifecycle routes enabled: most tests here are about HTTP itself.
  void StartServer(const HttpServer::Options& options = {.enable_lifecycle = true}) {
    server_ = std::make_unique<HttpServer>(options);
    server_->Handle("/hello", [](const HttpRequest&) {
      return HttpResponse{.content_type = "application/json", .body = R"({"hello":"world"})"};
    });
    server_->Handle("/echo",
                    [this](const HttpRequest& request) {
                      std::lock_guard lock(mutex_);
                      last_request_ = request;
                      return Text(request.method + " " + request.path + " ?" + request.query + " " +
                                  request.body);
                    },
                    {"GET", "POST", "PUT"});
    server_->Handle("/-/reload", [](const HttpRequest&) { return Text("reloaded\n"); }, {"POST"});
    server_->Handle("/throw", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("handler failed");
    });
    server_->Handle("/throw-int", [](const HttpRequest&) -> HttpResponse { throw 42; });
    server_->Handle("/healthz", [](const HttpRequest&) { return Text("ok\n"); });
    server_->Handle("/teapot", [](const HttpRequest&) {
      return HttpResponse{.status = 418, .body = "short and stout\n"};
    });
    const absl::Status status = server_->Start("127.0.0.1:0");
    ASSERT_TRUE(status.ok()) << status;
    ASSERT_NE(server_->port(), 0);
  }

  // The request the /echo handler saw last, copied out under the lock since
  // the handler runs on the server thread.
  HttpRequest LastRequest() {
    std::lock_guard lock(mutex_);
    return last_request_;
  }

  std::unique_ptr<HttpServer> server_;
  std::mutex mutex_;
  HttpRequest last_request_;
};

TEST_F(HttpServerTest, ServesHandlerResponseWithItsContentType) {
  StartServer();
  TestClient client(server_->port());
  ASSERT_FALSE(client.connect_error());
  const Response response = client.RoundTrip(http::verb::get, "/hello");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), R"({"hello":"world"})");
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response[http::field::server], "vigil");
  EXPECT_EQ(response[http::field::content_length], "17");
}

TEST_F(HttpServerTest, SplitsQueryStringFromPath) {
  StartServer();
  TestClient client(server_->port());
  const Response response = client.RoundTrip(http::verb::get, "/echo?window=1m&group=a%20b");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(LastRequest().method, "GET");
  EXPECT_EQ(LastRequest().path, "/echo");
  EXPECT_EQ(LastRequest().query, "window=1m&group=a%20b");
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello?").result_int(), 200);
}

TEST_F(HttpServerTest, UnknownPathIs404WithShortPlainBody) {
  StartServer();
  TestClient client(server_->port());
  const Response response = client.RoundTrip(http::verb::get, "/nope");
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(response.body(), "not found\n");
  EXPECT_THAT(std::string(response[http::field::content_type]), HasSubstr("text/plain"));
  // Routes are exact: neither a prefix nor a trailing slash matches.
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello/").result_int(), 404);
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hell").result_int(), 404);
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllowHeader) {
  StartServer();
  TestClient client(server_->port());
  Response response = client.RoundTrip(http::verb::get, "/-/reload");
  EXPECT_EQ(response.result_int(), 405);
  EXPECT_EQ(response[http::field::allow], "POST");

  response = client.RoundTrip(http::verb::delete_, "/hello");
  EXPECT_EQ(response.result_int(), 405);
  EXPECT_EQ(response[http::field::allow], "GET, HEAD");

  response = client.RoundTrip(http::verb::delete_, "/echo");
  EXPECT_EQ(response.result_int(), 405);
  EXPECT_EQ(response[http::field::allow], "GET, POST, PUT, HEAD");

  EXPECT_EQ(client.RoundTrip(http::verb::post, "/-/reload").body(), "reloaded\n");
}

TEST_F(HttpServerTest, HeadSendsHeadersOnly) {
  StartServer();
  TestClient client(server_->port());
  const Response head = client.RoundTrip(http::verb::head, "/hello");
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], "17");
  EXPECT_EQ(head[http::field::content_type], "application/json");
  EXPECT_TRUE(head.body().empty());
  // Had the server sent a body, it would be parsed as this response's start.
  const Response get = client.RoundTrip(http::verb::get, "/hello");
  EXPECT_EQ(get.result_int(), 200);
  EXPECT_EQ(get.body(), R"({"hello":"world"})");
}

TEST_F(HttpServerTest, PostBodyReachesHandler) {
  StartServer();
  TestClient client(server_->port());
  const std::string body = "{\"rules\":\"deploy/rules/chatbot.yaml\"}";
  const Response response = client.RoundTrip(http::verb::post, "/echo", body);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(LastRequest().method, "POST");
  EXPECT_EQ(LastRequest().body, body);
  EXPECT_EQ(response.body(), "POST /echo ? " + body);
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody) {
  StartServer();
  TestClient client(server_->port());
  ASSERT_FALSE(
      client.SendRaw("PUT /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                     "Content-Type: application/json\r\nExpect: 100-continue\r\n\r\n"));
  const auto [ec, interim] = client.ReceiveHeaderBlock();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_THAT(interim, HasSubstr("HTTP/1.1 100 Continue"));
  ASSERT_FALSE(client.SendRaw("hello"));
  const auto [final_ec, response] = client.Receive();
  ASSERT_FALSE(final_ec) << final_ec.message();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(LastRequest().body, "hello");
}

TEST_F(HttpServerTest, KeepsConnectionAliveAcrossRequests) {
  StartServer();
  TestClient client(server_->port());
  const Response first = client.RoundTrip(http::verb::get, "/hello");
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_TRUE(first.keep_alive());
  const Response second = client.RoundTrip(http::verb::post, "/echo", "again");
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), "POST /echo ? again");
}

TEST_F(HttpServerTest, ServesPipelinedRequestsInOrder) {
  StartServer();
  TestClient client(server_->port());
  ASSERT_FALSE(
      client.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(client.Receive().second.result_int(), 200);
  EXPECT_EQ(client.Receive().second.result_int(), 404);
}

TEST_F(HttpServerTest, ClosesConnectionWhenClientAsks) {
  StartServer();
  TestClient client(server_->port());
  ASSERT_FALSE(client.Send(http::verb::get, "/hello", "", /*keep_alive=*/false));
  const auto [ec, response] = client.Receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(IsClosedByPeer(client.WaitForClose()));
}

TEST_F(HttpServerTest, ThrowingHandlerIs500AndServerKeepsServing) {
  StartServer();
  TestClient client(server_->port());
  Response response = client.RoundTrip(http::verb::get, "/throw");
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(response.body(), "internal server error\n");
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/throw-int").result_int(), 500);
  // Same connection, then a fresh one.
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello").result_int(), 200);
  TestClient other(server_->port());
  EXPECT_EQ(other.RoundTrip(http::verb::get, "/hello").result_int(), 200);
}

TEST_F(HttpServerTest, PassesThroughHandlerStatus) {
  StartServer();
  TestClient client(server_->port());
  const Response response = client.RoundTrip(http::verb::get, "/teapot");
  EXPECT_EQ(response.result_int(), 418);
  EXPECT_EQ(response.body(), "short and stout\n");
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  TestClient client(server_->port());
  ASSERT_FALSE(client.SendRaw("GET /hello HTTP/1.1\r\nHost x\r\n\r\n"));
  const auto [ec, response] = client.Receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(IsClosedByPeer(client.WaitForClose()));
}

TEST_F(HttpServerTest, ClosesIdleConnectionAfterReadTimeout) {
  StartServer({.read_timeout = milliseconds(200)});
  TestClient silent(server_->port());
  const auto start = Clock::now();
  EXPECT_TRUE(IsClosedByPeer(silent.WaitForClose()));
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(3));

  // A request that never completes gets no more time than silence does.
  TestClient trickle(server_->port());
  ASSERT_FALSE(trickle.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(IsClosedByPeer(trickle.WaitForClose()));

  // And an idle kept-alive connection is released the same way.
  TestClient idle(server_->port());
  EXPECT_EQ(idle.RoundTrip(http::verb::get, "/hello").result_int(), 200);
  EXPECT_TRUE(IsClosedByPeer(idle.WaitForClose()));
}

TEST_F(HttpServerTest, BodyOverLimitIs413) {
  StartServer();  // The default limit, 1 MiB.
  TestClient client(server_->port());
  // The declared length alone is refused; the body need not be sent.
  ASSERT_FALSE(client.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n"));
  const auto [ec, response] = client.Receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(LastRequest().method, "");  // The handler never ran.
  EXPECT_TRUE(IsClosedByPeer(client.WaitForClose()));
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413) {
  StartServer({.max_body_bytes = 16, .enable_lifecycle = true});
  TestClient client(server_->port());
  ASSERT_FALSE(
      client.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"));
  const auto [ec, response] = client.Receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(response.result_int(), 413);

  TestClient at_limit(server_->port());
  EXPECT_EQ(at_limit.RoundTrip(http::verb::post, "/echo", std::string(16, 'x')).result_int(), 200);
}

TEST_F(HttpServerTest, StopWithConnectedClientsReturnsPromptly) {
  StartServer();  // 30 s read timeout: Stop must not wait for it.
  TestClient idle(server_->port());
  TestClient partial(server_->port());
  ASSERT_FALSE(partial.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
  TestClient kept_alive(server_->port());
  EXPECT_EQ(kept_alive.RoundTrip(http::verb::get, "/hello").result_int(), 200);

  const auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(IsClosedByPeer(idle.WaitForClose()));
  EXPECT_TRUE(IsClosedByPeer(partial.WaitForClose()));
  EXPECT_TRUE(IsClosedByPeer(kept_alive.WaitForClose()));
  server_->Stop();  // Idempotent.

  TestClient refused(server_->port());
  EXPECT_TRUE(refused.connect_error());
}

TEST_F(HttpServerTest, StopFromAnotherThread) {
  StartServer();
  TestClient client(server_->port());
  std::thread stopper([this] { server_->Stop(); });
  stopper.join();
  EXPECT_TRUE(IsClosedByPeer(client.WaitForClose()));
}

TEST_F(HttpServerTest, DestructorStopsServer) {
  StartServer();
  TestClient client(server_->port());
  const auto start = Clock::now();
  server_.reset();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(IsClosedByPeer(client.WaitForClose()));
}

TEST(HttpServerLifecycleTest, StopWithoutStartIsNoOp) {
  HttpServer server;
  server.Stop();
  server.Stop();
  EXPECT_EQ(server.port(), 0);
}

TEST(HttpServerLifecycleTest, StartTwiceFails) {
  HttpServer server;
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  EXPECT_EQ(server.Start("127.0.0.1:0").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(HttpServerLifecycleTest, TwoServersOnEphemeralPorts) {
  HttpServer a;
  HttpServer b;
  a.Handle("/name", [](const HttpRequest&) { return Text("a"); });
  b.Handle("/name", [](const HttpRequest&) { return Text("b"); });
  ASSERT_TRUE(a.Start("127.0.0.1:0").ok());
  ASSERT_TRUE(b.Start("127.0.0.1:0").ok());
  EXPECT_NE(a.port(), b.port());
  TestClient to_a(a.port());
  TestClient to_b(b.port());
  EXPECT_EQ(to_a.RoundTrip(http::verb::get, "/name").body(), "a");
  EXPECT_EQ(to_b.RoundTrip(http::verb::get, "/name").body(), "b");
}

TEST(HttpServerLifecycleTest, AddressInUseIsAnErrorNamingTheAddress) {
  HttpServer first;
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second;
  const absl::Status status = second.Start(address);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr(address));
  EXPECT_EQ(second.port(), 0);
}

TEST(HttpServerLifecycleTest, RejectsMalformedListenAddress) {
  for (const char* listen : {"", "9090", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                             "127.0.0.1:-1", "::1:9090", "[::1:9090"}) {
    HttpServer server;
    const absl::Status status = server.Start(listen);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << listen << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(listen));
  }
}

TEST(HttpServerLifecycleTest, ListensOnIpv6Loopback) {
  {
    asio::io_context io;
    tcp::acceptor probe(io);
    beast::error_code ec;
    probe.open(tcp::v6(), ec);
    if (!ec) probe.bind(tcp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  }
  HttpServer server;
  server.Handle("/healthz", [](const HttpRequest&) { return Text("ok\n"); });
  const absl::Status status = server.Start("[::1]:0");
  ASSERT_TRUE(status.ok()) << status;
  TestClient client(server.port(), "::1");
  EXPECT_EQ(client.RoundTrip(http::verb::get, "/healthz").body(), "ok\n");
}

TEST(HttpServerLifecycleTest, ResolvesHostNames) {
  HttpServer server;
  server.Handle("/healthz", [](const HttpRequest&) { return Text("ok\n"); });
  const absl::Status status = server.Start("localhost:0");
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_NE(server.port(), 0);
}

TEST(PrometheusHandlerTest, ExposesRegisteredCounter) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::Counter& events_in = prometheus::BuildCounter()
                                       .Name("vigil_events_in_total")
                                       .Help("Events read from all sources.")
                                       .Register(*registry)
                                       .Add({{"source", "kafka"}});
  events_in.Increment(42);

  const HttpResponse direct = PrometheusHandler(registry)(
      HttpRequest{.method = "GET", .path = "/metrics", .query = "", .body = ""});
  EXPECT_EQ(direct.status, 200);
  EXPECT_THAT(direct.content_type, HasSubstr("version=0.0.4"));
  EXPECT_THAT(direct.body, HasSubstr("# HELP vigil_events_in_total Events read from all sources."));
  EXPECT_THAT(direct.body, HasSubstr("# TYPE vigil_events_in_total counter"));
  EXPECT_THAT(direct.body, HasSubstr("vigil_events_in_total{source=\"kafka\"} 42"));

  HttpServer server;
  server.Handle("/metrics", PrometheusHandler(registry));
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  TestClient client(server.port());
  Response scraped = client.RoundTrip(http::verb::get, "/metrics");
  EXPECT_EQ(scraped.result_int(), 200);
  EXPECT_EQ(scraped[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(scraped.body(), HasSubstr("vigil_events_in_total{source=\"kafka\"} 42"));

  // Each scrape collects afresh.
  events_in.Increment();
  scraped = client.RoundTrip(http::verb::get, "/metrics");
  EXPECT_THAT(scraped.body(), HasSubstr("vigil_events_in_total{source=\"kafka\"} 43"));
}

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

TEST_F(HttpServerTest, AtTheConnectionCapTheLongestWaitingConnectionMakesRoom) {
  StartServer({.max_connections = 4, .enable_lifecycle = true});
  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < 10; ++i) {
    idle.push_back(std::make_unique<TestClient>(server_->port()));
    ASSERT_FALSE(idle.back()->connect_error());
  }
  // A probe arriving now is served at once...
  TestClient probe(server_->port());
  EXPECT_EQ(probe.RoundTrip(http::verb::get, "/healthz").body(), "ok\n");
  // ...and the first seven, each the longest waiting when one more came,
  // were closed (accepts are taken in the order the connections came).
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(IsClosedByPeer(idle[i]->WaitForClose())) << i;
}

}  // namespace
}  // namespace vigil
