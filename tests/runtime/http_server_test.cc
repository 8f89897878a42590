#include "runtime/http_server.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "tests/runtime/http_server_fixture.h"

namespace vigil::http_server_test {
namespace {

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
}  // namespace vigil::http_server_test
