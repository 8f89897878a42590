#include "runtime/http_server.h"

#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <utility>

#include "absl/status/statusor.h"
#include "base/log.h"
#include "base/strings.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "prometheus/registry.h"
#include "runtime/http_connection.h"
#include "runtime/prometheus_text.h"
#include "runtime/web_config.h"

namespace vigil {

namespace beast = boost::beast;
namespace http = boost::beast::http;

absl::Status SplitListenAddress(std::string_view listen, std::string_view* host, uint16_t* port) {
  const auto invalid = [listen](std::string_view why) {
    return absl::InvalidArgumentError("invalid listen address \"" + std::string(listen) +
                                      "\": " + std::string(why));
  };
  if (listen.starts_with("http://") || listen.starts_with("https://")) {
    return invalid("expected host:port, not a URL (e.g. 127.0.0.1:9464)");
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return invalid("expected host:port");
  *host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  uint32_t number = 0;
  const char* const port_end = port_text.data() + port_text.size();
  const auto [parsed_end, parse_error] = std::from_chars(port_text.data(), port_end, number);
  if (port_text.empty() || parse_error != std::errc() || parsed_end != port_end || number > 65535) {
    return invalid("port must be a number from 0 to 65535");
  }
  *port = static_cast<uint16_t>(number);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  } else if (host->find(':') != std::string_view::npos) {
    return invalid("an IPv6 address must be written in brackets, e.g. [::1]:9090");
  }
  return absl::OkStatus();
}

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
  std::string_view host;
  uint16_t port = 0;
  if (absl::Status s = SplitListenAddress(listen, &host, &port); !s.ok()) return s;
  if (host.empty()) return tcp::endpoint(asio::ip::address_v4::any(), port);

  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(context);
  const auto results = resolver.resolve(
      host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        "invalid listen address \"" + std::string(listen) +
        "\": cannot resolve host: " + (ec ? ec.message() : std::string("no address")));
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
    internal::StartConnection(*this, io_->web, std::move(socket));
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
    return HttpResponse{.status = 200,
                        .content_type = "text/plain; version=0.0.4; charset=utf-8",
                        .body = PrometheusText(registry->Collect())};
  };
}

}  // namespace vigil
