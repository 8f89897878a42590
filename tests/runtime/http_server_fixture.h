// tests/runtime/http_server_fixture.h
//
// What the HTTP server tests share: a blocking client over a real socket
// (TestClient) and a server with a few routes on an ephemeral loopback port
// (HttpServerTest). http_server_test.cc tests HTTP itself with them,
// http_server_security_test.cc the lifecycle routes, cross-site refusals and
// authentication.
//
// Example:
//   TEST_F(HttpServerTest, Hello) {
//     StartServer();
//     TestClient client(server_->port());
//     EXPECT_EQ(client.RoundTrip(http::verb::get, "/hello").result_int(), 200);
//   }
#ifndef VIGIL_TESTS_RUNTIME_HTTP_SERVER_FIXTURE_H_
#define VIGIL_TESTS_RUNTIME_HTTP_SERVER_FIXTURE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/net/http_client.h"
#include "runtime/http_server.h"

namespace vigil::http_server_test {

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

inline bool IsClosedByPeer(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

inline HttpResponse Text(std::string body) { return HttpResponse{.body = std::move(body)}; }

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

}  // namespace vigil::http_server_test

#endif  // VIGIL_TESTS_RUNTIME_HTTP_SERVER_FIXTURE_H_
