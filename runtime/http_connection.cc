#include "runtime/http_connection.h"

#include <openssl/sha.h>

#include <algorithm>
#include <optional>
#include <type_traits>
#include <utility>

#include "base/strings.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "runtime/web_config.h"

namespace vigil {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace internal {

using BeastResponse = http::response<http::string_body>;
using BeastRequest = http::request<http::string_body>;

namespace {

constexpr std::string_view kPlainText = "text/plain; charset=utf-8";
constexpr size_t kMaxVerifiedPairs = 1024;

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
  if (valid_status) {
    for (const auto& [name, value] : reply.headers) response.insert(name, value);
  }
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

std::string Sha256(std::string_view s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace

// One accepted connection over `Stream` (a TCP stream, or TLS over one):
// shakes hands if TLS, reads requests one at a time (pipelined requests
// wait in the buffer), answers each, and loops while the client keeps the
// connection alive. Owned by the completion handlers of its pending
// operation, so it is destroyed as soon as nothing is in flight.
template <class Stream>
class HttpConnection : public ConnectionBase,
                       public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  // `web`: the web config as the connection was accepted; a reload applies
  // to later connections.
  template <class... Args>
  HttpConnection(HttpServer& server, std::shared_ptr<const WebConfig> web, Args&&... args)
      : ConnectionBase(server.io_->table),
        server_(server),
        web_(std::move(web)),
        stream_(std::forward<Args>(args)...) {}

  void Start();

  void Close() override {
    closed_ = true;
    Closed();
    beast::error_code ignored;
    tcp_().socket().close(ignored);
  }

 private:
  beast::tcp_stream& tcp_() { return beast::get_lowest_layer(stream_); }
  const HttpServer::Options& options() const { return server_.options_; }
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnRequest(beast::error_code ec);
  void OnReadError(beast::error_code ec);
  // Serves the request read, or hands its bcrypt check to the verifier
  // first.
  void Dispatch(BeastRequest request);
  BeastResponse Serve(const BeastRequest& request, bool authenticated, bool bearer) const;
  void Write(BeastResponse response);
  void OnWrite(beast::error_code ec);
  void Shutdown();

  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  HttpServer& server_;
  const std::shared_ptr<const WebConfig> web_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  BeastResponse response_;
  // Atomic for the verifier thread, which skips the bcrypt check of a
  // connection closed while it waited.
  std::atomic<bool> closed_{false};
};

template <class Stream>
void HttpConnection<Stream>::Start() {
  Waiting();
  if constexpr (!kTls) {
    ReadHeader();
  } else {
    tcp_().expires_after(options().read_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (self->closed_) return;
                              if (ec) return self->Shutdown();
                              self->ReadHeader();
                            });
  }
}

template <class Stream>
void HttpConnection<Stream>::ReadHeader() {
  Waiting();
  parser_.emplace();
  parser_->body_limit(options().max_body_bytes);
  // One deadline for the whole request, headers and body together, so that
  // trickling a byte at a time cannot extend it.
  tcp_().expires_after(options().read_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <class Stream>
void HttpConnection<Stream>::OnHeader(beast::error_code ec) {
  if (closed_) return;
  if (ec) return OnReadError(ec);
  const auto& request = parser_->get();
  if (!beast::iequals(request[http::field::expect], "100-continue")) return ReadBody();
  // Clients such as curl hold a large body back until the server agrees to
  // take it; without this they stall for a second on every such request.
  continue_ = http::response<http::empty_body>(http::status::continue_, request.version());
  tcp_().expires_after(options().write_timeout);
  http::async_write(stream_, continue_,
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec) return self->Shutdown();
                      self->tcp_().expires_after(self->options().read_timeout);
                      self->ReadBody();
                    });
}

template <class Stream>
void HttpConnection<Stream>::ReadBody() {
  http::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
}

template <class Stream>
void HttpConnection<Stream>::OnRequest(beast::error_code ec) {
  if (closed_) return;
  if (ec) return OnReadError(ec);
  Busy();
  Dispatch(parser_->release());
}

template <class Stream>
void HttpConnection<Stream>::OnReadError(beast::error_code ec) {
  Busy();
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

template <class Stream>
void HttpConnection<Stream>::Dispatch(BeastRequest request) {
  const WebConfig* web = web_.get();
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (web == nullptr || !web->auth_required() || web->Unauthenticated(path)) {
    return Write(Serve(request, true, false));
  }
  const Credentials c = ParseAuthorization(request[http::field::authorization]);
  if (c.kind == Credentials::Kind::kBearer) {
    const bool ok = web->CheckBearer(c.token);
    return Write(Serve(request, ok, ok));
  }
  if (c.kind != Credentials::Kind::kBasic || web->basic_auth_users.empty()) {
    return Write(Serve(request, false, false));
  }
  HttpServer::IoState& io = *server_.io_;
  std::string pair = Sha256(StrCat(c.user, std::string_view("\0", 1), c.password));
  if (io.verified.contains(pair)) return Write(Serve(request, true, false));
  // The check runs on the verifier; the connection (and the server's run
  // loop, through the work guard) waits for its answer. Meanwhile it counts
  // as waiting: a flood of bad passwords queued behind one another is what
  // the connection cap evicts, not the probes that arrive after it.
  Waiting();
  asio::post(*io.verifier, [self = this->shared_from_this(), c, pair = std::move(pair),
                            request = std::move(request),
                            guard = asio::make_work_guard(io.context)]() mutable {
    HttpServer::IoState& io = *self->server_.io_;
    const bool ok = !io.stopping_verifier.load() && !self->closed_.load() &&
                    self->web_->CheckBasic(c.user, c.password);
    asio::post(io.context, [self, ok, pair = std::move(pair), request = std::move(request)] {
      if (self->closed_) return;
      self->Busy();
      HttpServer::IoState& io = *self->server_.io_;
      if (ok) {
        if (io.verified.size() >= kMaxVerifiedPairs) io.verified.clear();
        io.verified.insert(pair);
      }
      self->Write(self->Serve(request, ok, false));
    });
  });
}

template <class Stream>
BeastResponse HttpConnection<Stream>::Serve(const BeastRequest& request, bool authenticated,
                                            bool bearer) const {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  const std::string_view method = request.method_string();
  const bool head = method == "HEAD";
  const std::string_view target = request.target();
  const size_t query_start = target.find('?');
  const std::string_view path = target.substr(0, query_start);
  const std::string_view host = request[http::field::host];
  const WebConfig* web = web_.get();
  const auto refuse = [&](int status, std::string body) {
    return PlainResponse(version, status, std::move(body), keep_alive, head);
  };

  const bool open_path = web == nullptr || web->Unauthenticated(path);
  if (!open_path && !web->HostAllowed(host)) {
    return refuse(403,
                  StrCat("Host '", host, "' is not allowed (allowed_hosts in ", web->file, ")\n"));
  }
  if (!authenticated) {
    BeastResponse response = refuse(401, "authentication required\n");
    if (!web->basic_auth_users.empty()) {
      response.insert(http::field::www_authenticate, "Basic realm=\"vigil\", charset=\"UTF-8\"");
    }
    if (!web->bearer_token_digests.empty()) {
      response.insert(http::field::www_authenticate, "Bearer realm=\"vigil\"");
    }
    return response;
  }

  const HttpServer::Route* route = server_.FindRoute(path);
  if (route == nullptr) return refuse(404, "not found\n");
  if (!Accepts(route->methods, method)) {
    BeastResponse response = refuse(405, "method not allowed\n");
    response.set(http::field::allow, route->allow);
    return response;
  }
  if (method != "GET" && method != "HEAD") {
    if (!options().enable_lifecycle) {
      return refuse(403, StrCat("the lifecycle API (", path,
                                ") is disabled; start vigil with --web.enable-lifecycle "
                                "(or http.enable_lifecycle: true in the job file)\n"));
    }
    // A bearer token is never sent by a browser on its own: no cross-site
    // page can have made this request.
    if (!bearer) {
      const Refusal r = CheckStateChange({.method = method,
                                          .path = path,
                                          .host = host,
                                          .origin = request[http::field::origin],
                                          .sec_fetch_site = request["Sec-Fetch-Site"],
                                          .content_type = request[http::field::content_type],
                                          .tls = kTls},
                                         web);
      if (r.status != 0) return refuse(r.status, r.body);
    }
  }

  HttpRequest http_request{
      .method = std::string(method),
      .path = std::string(path),
      .query = query_start == std::string_view::npos ? std::string()
                                                     : std::string(target.substr(query_start + 1)),
      .body = request.body(),
  };
  // A failing handler must cost one request, never the admin port or the job.
  try {
    return MakeResponse(version, route->handler(http_request), keep_alive, head);
  } catch (...) {
    return refuse(500, "internal server error\n");
  }
}

template <class Stream>
void HttpConnection<Stream>::Write(BeastResponse response) {
  response_ = std::move(response);
  tcp_().expires_after(options().write_timeout);
  http::async_write(
      stream_, response_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

template <class Stream>
void HttpConnection<Stream>::OnWrite(beast::error_code ec) {
  if (closed_) return;
  if (ec || response_.need_eof()) return Shutdown();
  ReadHeader();
}

template <class Stream>
void HttpConnection<Stream>::Shutdown() {
  Closed();
  beast::error_code ignored;
  // Half-close first so the client reads the final response before it sees
  // the connection end. (No TLS close_notify: every response is delimited
  // by its length, and waiting for the peer's would let it pin the socket.)
  tcp_().socket().shutdown(tcp::socket::shutdown_send, ignored);
  tcp_().socket().close(ignored);
}

void StartConnection(HttpServer& server, std::shared_ptr<const WebConfig> web, tcp::socket socket) {
  if (web != nullptr && web->tls()) {
    auto& context = *web->tls_context;
    std::make_shared<HttpConnection<beast::ssl_stream<beast::tcp_stream>>>(
        server, std::move(web), std::move(socket), context)
        ->Start();
  } else {
    std::make_shared<HttpConnection<beast::tcp_stream>>(server, std::move(web), std::move(socket))
        ->Start();
  }
}

}  // namespace internal

}  // namespace vigil
