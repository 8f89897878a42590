#include "runtime/http_server.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <list>
#include <optional>
#include <sstream>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "absl/status/statusor.h"
#include "base/log.h"
#include "base/strings.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/core/detail/base64.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "runtime/web_config.h"

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace internal {

class ConnectionBase;

// The open connections, shared by the server and every connection (which
// outlives the server's run loop when Stop leaves handlers queued). Server
// thread only.
struct ConnectionTable {
  std::unordered_set<ConnectionBase*> open;
  // Connections waiting for (the rest of) a request or a TLS handshake,
  // longest waiting first: the ones closed at the connection cap.
  std::list<ConnectionBase*> waiting;
};

// What every connection shares, whatever its stream: its place in the
// table, and closing.
class ConnectionBase {
 public:
  explicit ConnectionBase(std::shared_ptr<ConnectionTable> table) : table_(std::move(table)) {
    table_->open.insert(this);
  }
  virtual ~ConnectionBase() {
    Busy();
    table_->open.erase(this);
  }
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;

  // Aborts whatever is in flight; the completion handlers then see closed_
  // and let the connection go.
  virtual void Close() = 0;

 protected:
  // The connection no longer counts as open (it is closed, and goes once
  // its handlers have run).
  void Closed() {
    Busy();
    table_->open.erase(this);
  }
  // Moves the connection to the back of the waiting list.
  void Waiting() {
    Busy();
    waiting_at_ = table_->waiting.insert(table_->waiting.end(), this);
    waiting_ = true;
  }
  void Busy() {
    if (!waiting_) return;
    table_->waiting.erase(waiting_at_);
    waiting_ = false;
  }

 private:
  std::shared_ptr<ConnectionTable> table_;
  std::list<ConnectionBase*>::iterator waiting_at_;
  bool waiting_ = false;
};

}  // namespace internal

struct HttpServer::IoState {
  // One thread runs the context, so the hint lets Asio skip internal locking.
  asio::io_context context{1};
  tcp::acceptor acceptor{context};
  asio::steady_timer accept_retry{context};
  std::shared_ptr<internal::ConnectionTable> table = std::make_shared<internal::ConnectionTable>();
  // bcrypt checks and web config reloads, off the server thread so that
  // /healthz never waits for one. Created at Start when there is a web
  // config.
  std::unique_ptr<asio::thread_pool> verifier;
  // The web config new connections get: the one Start loaded, then each
  // good reload of its files (HttpServer::CheckWebConfig).
  std::shared_ptr<const WebConfig> web;
  asio::steady_timer web_check{context};
  std::string web_stamp;  // of the files `web` was read from
  bool web_loading = false;
  std::atomic<bool> stopping_verifier{false};
  // Digests of (user, password) pairs found good: bcrypt is slow on
  // purpose, and Prometheus sends the same pair on every scrape.
  std::unordered_set<std::string> verified;
  bool stopping = false;
};

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

}  // namespace internal

namespace {

// What changes when any of `files` is replaced or rewritten: a Kubernetes
// Secret update swaps the files under a symlink, cert-manager renews them.
std::string FileStamp(const std::vector<std::string>& files) {
  std::string stamp;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      stamp += "-;";
      continue;
    }
    StrAppend(&stamp, st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec,
              ";");
  }
  return stamp;
}

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

HttpServer::HttpServer(Options options)
    : options_(std::move(options)), io_(std::make_unique<IoState>()) {}

void HttpServer::Configure(Options options) {
  absl::MutexLock lock(&lifecycle_mutex_);
  assert(!started_ && "Configure called after Start");
  options_ = std::move(options);
}

bool HttpServer::tls() const { return options_.web != nullptr && options_.web->tls(); }

// Stop throws only when the server thread cannot be joined, which ends the
// process either way.
HttpServer::~HttpServer() { Stop(); }  // NOLINT(bugprone-exception-escape)

void HttpServer::Handle(std::string path, HttpHandler handler, std::vector<std::string> methods) {
  assert(handler != nullptr);
  // The lock also orders these writes before the server thread's unlocked
  // reads, which begin in Start under the same lock.
  absl::MutexLock lock(&lifecycle_mutex_);
  assert(!started_ && "Handle called after Start");
  if (methods.empty()) methods = {"GET", "HEAD"};
  std::vector<std::string> allowed = methods;
  if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end() &&
      std::find(allowed.begin(), allowed.end(), "HEAD") == allowed.end()) {
    allowed.push_back("HEAD");
  }
  std::string allow;
  bool state_changing = false;
  for (const std::string& method : allowed) {
    allow += (allow.empty() ? "" : ", ") + method;
    state_changing = state_changing || (method != "GET" && method != "HEAD");
  }
  routes_.insert_or_assign(std::move(path), Route{std::move(handler), std::move(methods),
                                                  std::move(allow), state_changing});
}

const HttpServer::Route* HttpServer::FindRoute(std::string_view path) const {
  const auto it = routes_.find(path);
  return it == routes_.end() ? nullptr : &it->second;
}

absl::Status HttpServer::Start(std::string_view listen) {
  absl::MutexLock lock(&lifecycle_mutex_);
  if (started_) return absl::FailedPreconditionError("HttpServer::Start called more than once");
  if (options_.web == nullptr && !options_.web_config_file.empty()) {
    absl::StatusOr<std::shared_ptr<const WebConfig>> web = LoadWebConfig(options_.web_config_file);
    if (!web.ok()) return web.status();
    options_.web = std::move(*web);
  }
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
  io_->web = options_.web;
  if (options_.web != nullptr) io_->verifier = std::make_unique<asio::thread_pool>(1);
  if (!options_.web_config_file.empty()) {
    io_->web_stamp = FileStamp(options_.web->files);
    CheckWebConfig();
  }

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
    if (io_->table->open.size() >= std::max<size_t>(1, options_.max_connections) &&
        !EvictOldestWaiting()) {
      // Every connection is busy being answered: this one must wait its turn
      // from the start, and closing it is the only bounded way.
      socket.close(ignored);
      return Accept();
    }
    const std::shared_ptr<const WebConfig>& web = io_->web;
    if (web != nullptr && web->tls()) {
      std::make_shared<internal::HttpConnection<beast::ssl_stream<beast::tcp_stream>>>(
          *this, web, std::move(socket), *web->tls_context)
          ->Start();
    } else {
      std::make_shared<internal::HttpConnection<beast::tcp_stream>>(*this, web, std::move(socket))
          ->Start();
    }
    Accept();
  });
}

void HttpServer::CheckWebConfig() {
  io_->web_check.expires_after(options_.web_config_check_interval);
  io_->web_check.async_wait([this](beast::error_code ec) {
    if (ec || io_->stopping) return;
    const std::string stamp = FileStamp(io_->web->files);
    if (stamp == io_->web_stamp || io_->web_loading) return CheckWebConfig();
    // Loading checks every bcrypt hash: on the verifier, not here.
    io_->web_loading = true;
    asio::post(*io_->verifier, [this, stamp, guard = asio::make_work_guard(io_->context)] {
      absl::StatusOr<std::shared_ptr<const WebConfig>> web =
          LoadWebConfig(options_.web_config_file);
      asio::post(io_->context, [this, stamp, web = std::move(web)] {
        io_->web_loading = false;
        // A bad file is reported once, not on every check, until it changes.
        io_->web_stamp = stamp;
        if (web.ok()) {
          io_->web = *web;
          io_->verified.clear();
          Logf("web config %s reloaded", options_.web_config_file.c_str());
        } else {
          Logf("web config not reloaded, the previous one stays: %s",
               std::string(web.status().message()).c_str());
        }
        if (!io_->stopping) CheckWebConfig();
      });
    });
  });
}

bool HttpServer::EvictOldestWaiting() {
  if (io_->table->waiting.empty()) return false;
  io_->table->waiting.front()->Close();  // leaves the list
  return true;
}

void HttpServer::CloseAll() {
  io_->stopping = true;
  io_->stopping_verifier.store(true);
  beast::error_code ignored;
  io_->acceptor.close(ignored);
  io_->accept_retry.cancel();
  io_->web_check.cancel();
  // Close() leaves the set, and does not destroy: its handlers run later,
  // on this thread.
  const std::vector<internal::ConnectionBase*> open(io_->table->open.begin(),
                                                    io_->table->open.end());
  for (internal::ConnectionBase* connection : open) connection->Close();
}

void HttpServer::Stop() {
  absl::MutexLock lock(&lifecycle_mutex_);
  if (!thread_.joinable()) return;
  assert(thread_.get_id() != std::this_thread::get_id() && "Stop called from a handler");
  // Closing on the server thread keeps every Asio object single-threaded;
  // once nothing is in flight, run() returns and the thread ends.
  asio::post(io_->context, [this] { CloseAll(); });
  thread_.join();
  if (io_->verifier) io_->verifier->join();
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
