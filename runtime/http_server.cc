#include "runtime/http_server.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/status/statusor.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct HttpServer::IoState {
  // One thread runs the context, so the hint lets Asio skip internal locking.
  asio::io_context context{1};
  tcp::acceptor acceptor{context};
  asio::steady_timer accept_retry{context};
  // Weak so that a connection's lifetime is governed by its pending
  // operations alone; kept only to close them all on Stop.
  std::vector<std::weak_ptr<internal::HttpConnection>> connections;
  bool stopping = false;
};

namespace internal {

using BeastResponse = http::response<http::string_body>;

// One accepted connection: reads requests one at a time (pipelined requests
// wait in the buffer), answers each, and loops while the client keeps the
// connection alive. Owned by the completion handlers of its pending
// operation, so it is destroyed as soon as nothing is in flight.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(const HttpServer& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {}

  void Start() { ReadHeader(); }

  // Aborts whatever is in flight; the completion handlers then see closed_
  // and let the connection go.
  void Close() {
    closed_ = true;
    stream_.close();
  }

 private:
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnRequest(beast::error_code ec);
  void OnReadError(beast::error_code ec);
  BeastResponse Serve(http::request<http::string_body> request) const;
  void Write(BeastResponse response);
  void OnWrite(beast::error_code ec);
  void Shutdown();

  const HttpServer& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  BeastResponse response_;
  bool closed_ = false;
};

namespace {

constexpr std::string_view kPlainText = "text/plain; charset=utf-8";

BeastResponse MakeResponse(unsigned version, const HttpResponse& reply, bool keep_alive,
                           bool head) {
  BeastResponse response;
  response.version(version);
  // Beast rejects codes past 999, and an informational status would promise
  // a second, final response that never comes.
  const bool valid_status = reply.status >= 200 && reply.status <= 599;
  response.result(valid_status ? static_cast<unsigned>(reply.status) : 500u);
  response.set(http::field::server, "vigil");
  response.keep_alive(keep_alive);
  const unsigned status = response.result_int();
  if (status == 204 || status == 304) return response;  // These carry no body.
  response.set(http::field::content_type, valid_status ? reply.content_type : kPlainText);
  response.body() = valid_status ? reply.body : "internal server error: invalid status\n";
  response.content_length(response.body().size());
  // HEAD advertises the length a GET would have sent but sends no body.
  if (head) response.body().clear();
  return response;
}

BeastResponse PlainResponse(unsigned version, int status, std::string body, bool keep_alive,
                            bool head) {
  return MakeResponse(
      version,
      HttpResponse{
          .status = status, .content_type = std::string(kPlainText), .body = std::move(body)},
      keep_alive, head);
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

bool Accepts(const std::vector<std::string>& methods, std::string_view method) {
  if (std::find(methods.begin(), methods.end(), method) != methods.end()) return true;
  return method == "HEAD" && std::find(methods.begin(), methods.end(), "GET") != methods.end();
}

}  // namespace

void HttpConnection::ReadHeader() {
  parser_.emplace();
  parser_->body_limit(server_.options_.max_body_bytes);
  // One deadline for the whole request, headers and body together, so that
  // trickling a byte at a time cannot extend it.
  stream_.expires_after(server_.options_.read_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void HttpConnection::OnHeader(beast::error_code ec) {
  if (closed_) return;
  if (ec) return OnReadError(ec);
  const auto& request = parser_->get();
  if (!beast::iequals(request[http::field::expect], "100-continue")) return ReadBody();
  // Clients such as curl hold a large body back until the server agrees to
  // take it; without this they stall for a second on every such request.
  continue_ = http::response<http::empty_body>(http::status::continue_, request.version());
  stream_.expires_after(server_.options_.write_timeout);
  http::async_write(stream_, continue_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (self->closed_) return;
    if (ec) return self->Shutdown();
    self->stream_.expires_after(self->server_.options_.read_timeout);
    self->ReadBody();
  });
}

void HttpConnection::ReadBody() {
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
}

void HttpConnection::OnRequest(beast::error_code ec) {
  if (closed_) return;
  if (ec) return OnReadError(ec);
  Write(Serve(parser_->release()));
}

void HttpConnection::OnReadError(beast::error_code ec) {
  // The request was not read to its end, so the stream cannot be resynchronised:
  // answer if the client deserves to know why, then close.
  if (ec == http::error::body_limit) {
    return Write(PlainResponse(11, 413, "request body too large\n", false, false));
  }
  if (ec == http::error::header_limit) {
    return Write(PlainResponse(11, 431, "request header too large\n", false, false));
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return Shutdown();
  }
  if (IsHttpParseError(ec)) {
    return Write(PlainResponse(11, 400, "bad request\n", false, false));
  }
  // Timeouts, resets and aborts: the socket is unusable or already closed.
  Shutdown();
}

BeastResponse HttpConnection::Serve(http::request<http::string_body> request) const {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  const std::string_view method = request.method_string();
  const bool head = method == "HEAD";
  const std::string_view target = request.target();
  const size_t query_start = target.find('?');
  const std::string_view path = target.substr(0, query_start);

  const HttpServer::Route* route = server_.FindRoute(path);
  if (route == nullptr) return PlainResponse(version, 404, "not found\n", keep_alive, head);
  if (!Accepts(route->methods, method)) {
    BeastResponse response = PlainResponse(version, 405, "method not allowed\n", keep_alive, head);
    response.set(http::field::allow, route->allow);
    return response;
  }

  HttpRequest http_request{
      .method = std::string(method),
      .path = std::string(path),
      .query = query_start == std::string_view::npos ? std::string()
                                                     : std::string(target.substr(query_start + 1)),
      .body = std::move(request.body()),
  };
  // A failing handler must cost one request, never the admin port or the job.
  try {
    return MakeResponse(version, route->handler(http_request), keep_alive, head);
  } catch (...) {
    return PlainResponse(version, 500, "internal server error\n", keep_alive, head);
  }
}

void HttpConnection::Write(BeastResponse response) {
  response_ = std::move(response);
  stream_.expires_after(server_.options_.write_timeout);
  http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnWrite(ec);
  });
}

void HttpConnection::OnWrite(beast::error_code ec) {
  if (closed_) return;
  if (ec || response_.need_eof()) return Shutdown();
  ReadHeader();
}

void HttpConnection::Shutdown() {
  beast::error_code ignored;
  // Half-close first so the client reads the final response before it sees
  // the connection end.
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace internal

namespace {

// Splits "host:port", "[v6]:port" or ":port" and resolves the host. Numeric
// addresses never touch the resolver.
absl::StatusOr<tcp::endpoint> ParseListenAddress(std::string_view listen,
                                                 asio::io_context& context) {
  const auto invalid = [listen](std::string_view why) {
    return absl::InvalidArgumentError("invalid listen address \"" + std::string(listen) +
                                      "\": " + std::string(why));
  };
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return invalid("expected host:port");
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  uint32_t port = 0;
  const char* const port_end = port_text.data() + port_text.size();
  const auto [parsed_end, parse_error] = std::from_chars(port_text.data(), port_end, port);
  if (port_text.empty() || parse_error != std::errc() || parsed_end != port_end || port > 65535) {
    return invalid("port must be a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid("an IPv6 address must be written in brackets, e.g. [::1]:9090");
  }
  if (host.empty()) return tcp::endpoint(asio::ip::address_v4::any(), port);

  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(context);
  const auto results = resolver.resolve(
      host, port_text, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return invalid("cannot resolve host: " + (ec ? ec.message() : std::string("no address")));
  }
  return results.begin()->endpoint();
}

}  // namespace

HttpServer::HttpServer() : HttpServer(Options{}) {}

HttpServer::HttpServer(Options options) : options_(options), io_(std::make_unique<IoState>()) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string path, HttpHandler handler, std::vector<std::string> methods) {
  assert(handler != nullptr);
  // The lock also orders these writes before the server thread's unlocked
  // reads, which begin in Start under the same lock.
  std::lock_guard lock(lifecycle_mutex_);
  assert(!started_ && "Handle called after Start");
  if (methods.empty()) methods = {"GET", "HEAD"};
  std::vector<std::string> allowed = methods;
  if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end() &&
      std::find(allowed.begin(), allowed.end(), "HEAD") == allowed.end()) {
    allowed.push_back("HEAD");
  }
  std::string allow;
  for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
  routes_.insert_or_assign(std::move(path),
                           Route{std::move(handler), std::move(methods), std::move(allow)});
}

const HttpServer::Route* HttpServer::FindRoute(std::string_view path) const {
  const auto it = routes_.find(path);
  return it == routes_.end() ? nullptr : &it->second;
}

absl::Status HttpServer::Start(std::string_view listen) {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_) return absl::FailedPreconditionError("HttpServer::Start called more than once");
  absl::StatusOr<tcp::endpoint> endpoint = ParseListenAddress(listen, io_->context);
  if (!endpoint.ok()) return endpoint.status();

  tcp::acceptor& acceptor = io_->acceptor;
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  // Lets a restarted job rebind at once while the old sockets sit in
  // TIME_WAIT; on Linux it never allows two live listeners on one port.
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  tcp::endpoint bound;
  if (!ec) bound = acceptor.local_endpoint(ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return absl::UnavailableError("cannot listen on " + std::string(listen) + ": " + ec.message());
  }
  port_.store(bound.port(), std::memory_order_release);

  Accept();
  thread_ = std::thread([this] {
    // Handlers' exceptions are caught per request; anything else escaping a
    // completion handler is resumed past rather than taking the job down.
    for (;;) {
      try {
        io_->context.run();
        return;
      } catch (...) {
      }
    }
  });
  started_ = true;
  return absl::OkStatus();
}

void HttpServer::Accept() {
  io_->acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (io_->stopping) return;
    if (ec) {
      // Typically EMFILE: retrying at once would spin the thread, so wait for
      // connections to close and free descriptors.
      io_->accept_retry.expires_after(std::chrono::milliseconds(100));
      io_->accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !io_->stopping) Accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto connection = std::make_shared<internal::HttpConnection>(*this, std::move(socket));
    std::erase_if(io_->connections, [](const auto& weak) { return weak.expired(); });
    io_->connections.push_back(connection);
    connection->Start();
    Accept();
  });
}

void HttpServer::CloseAll() {
  io_->stopping = true;
  beast::error_code ignored;
  io_->acceptor.close(ignored);
  io_->accept_retry.cancel();
  for (const auto& weak : io_->connections) {
    if (auto connection = weak.lock()) connection->Close();
  }
  io_->connections.clear();
}

void HttpServer::Stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (!thread_.joinable()) return;
  assert(thread_.get_id() != std::this_thread::get_id() && "Stop called from a handler");
  // Closing on the server thread keeps every Asio object single-threaded;
  // once nothing is in flight, run() returns and the thread ends.
  asio::post(io_->context, [this] { CloseAll(); });
  thread_.join();
}

HttpHandler PrometheusHandler(std::shared_ptr<prometheus::Registry> registry) {
  assert(registry != nullptr);
  return [registry = std::move(registry)](const HttpRequest&) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, registry->Collect());
    return HttpResponse{.status = 200,
                        .content_type = "text/plain; version=0.0.4; charset=utf-8",
                        .body = std::move(out).str()};
  };
}

}  // namespace vigil
