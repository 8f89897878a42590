// runtime/http_server.h
//
// HttpServer is the job's small admin HTTP/1.1 server: `/metrics` for
// Prometheus, `/healthz` and `/readyz` for the orchestrator, and the admin
// API (`/api/alerts`, `/-/reload`). It serves exact-path routes on a single
// background thread with Boost.Beast over Asio, so a handler never races
// another handler and needs no locking against the server itself; it must
// still synchronise with the job threads whose state it reports.
//
// The server is built to survive hostile or broken clients on an admin port:
//   - every read and write is bounded by a timeout, so a client that opens a
//     socket and goes silent releases it after `read_timeout`;
//   - at most `max_connections` are open at once; when a new one arrives at
//     the cap, the connection that has waited longest for its request (an
//     idle keep-alive, a slow or silent client) is closed to make room, so a
//     flood of idle connections never keeps a probe of /healthz out;
//   - request bodies above `max_body_bytes` are refused with 413 before they
//     are buffered;
//   - a handler that throws yields a 500 and the server keeps serving.
// Connections are persistent (HTTP/1.1 keep-alive) unless the client asks
// otherwise; no thread is created per request or per connection.
//
// Security (Options::web, runtime/web_config.h), checked in this order:
//   1. TLS on the whole port when the web config has tls_server_config
//      (with client certificates if it asks for them);
//   2. Host: with `allowed_hosts`, any other Host is refused (403);
//   3. authentication: with basic_auth_users or bearer tokens, every path
//      but the unauthenticated ones (default /healthz, /readyz) needs a
//      valid `Authorization` (401 otherwise). bcrypt runs on a worker
//      thread, never on the one that answers /healthz;
//   4. routes (404) and methods (405);
//   5. state-changing routes (any method besides GET and HEAD, e.g. POST
//      /-/reload) answer 403 unless `enable_lifecycle`; and unless the
//      request carries a valid bearer token (which a browser never attaches
//      on its own), they need a non-simple Content-Type such as
//      application/json (415 otherwise: an HTML form or a simple fetch from
//      another site cannot send one), no foreign Origin or cross-site
//      Sec-Fetch-Site (403), and a Host that is an IP address, `localhost`
//      or an allowed host (403: defeats DNS rebinding).
//
// Example:
//   auto registry = std::make_shared<prometheus::Registry>();
//   HttpServer server;
//   server.Handle("/metrics", PrometheusHandler(registry));
//   server.Handle("/healthz", [](const HttpRequest&) {
//     return HttpResponse{.body = "ok\n"};
//   });
//   server.Handle("/-/reload", ReloadRules, {"POST"});
//   absl::Status status = server.Start("127.0.0.1:0");
//   // curl http://127.0.0.1:<server.port()>/healthz      -> 200 "ok\n"
//   // curl http://127.0.0.1:<server.port()>/nope         -> 404
//   // curl -X DELETE http://127.0.0.1:<port>/healthz     -> 405, Allow: GET, HEAD
//   // curl -X POST http://127.0.0.1:<port>/-/reload      -> 403 (lifecycle disabled)
//   server.Stop();
#ifndef VIGIL_RUNTIME_HTTP_SERVER_H_
#define VIGIL_RUNTIME_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace vigil {

// One request as a handler sees it. `path` is the request target up to (not
// including) the first '?', exactly as sent (not percent-decoded); `query` is
// what follows the '?', without it.
struct HttpRequest {
  std::string method;
  std::string path;
  std::string query;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Further header fields, e.g. {{"Location", "/-/reload/status?id=3"}}.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct WebConfig;

namespace internal {
class ConnectionBase;
template <class Stream>
class HttpConnection;
}  // namespace internal

// The host and port of a listen address, "host:port", "[v6]:port" or
// ":port" (any address), without resolving the host; an error says what
// is wrong ("invalid listen address \"off\": expected host:port").
absl::Status SplitListenAddress(std::string_view listen, std::string_view* host, uint16_t* port);

class HttpServer {
 public:
  struct Options {
    // Bounds the wait for one whole request (headers and body), including the
    // idle time between requests on a kept-alive connection.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
    // Bounds the write of one response, so a client that stops reading cannot
    // pin its connection either.
    std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
    // Larger request bodies are answered with 413 and the connection closed.
    size_t max_body_bytes = 1 << 20;
    // Open connections at most (>= 1); see the file comment for what
    // happens at the cap.
    size_t max_connections = 512;
    // State-changing routes (methods besides GET and HEAD) answer 403
    // unless this is set (`--web.enable-lifecycle`).
    bool enable_lifecycle = false;
    // TLS, authentication and allowed hosts; null: plain HTTP, no auth.
    std::shared_ptr<const WebConfig> web = nullptr;
    // Read by Start into `web` when that is null (LoadWebConfig), so that a
    // bad file fails Start with its `file:line:col:` message. While the
    // server runs, the file and those it names (certificate, key, CA,
    // tokens) are checked for changes this often; changed, they are loaded
    // again off the server thread and apply to the connections accepted
    // after (a bad file is logged and the previous config stays).
    std::string web_config_file = {};
    std::chrono::milliseconds web_config_check_interval{std::chrono::seconds(10)};
  };

  HttpServer();
  explicit HttpServer(Options options);
  // Stops the server (see Stop).
  ~HttpServer();  // NOLINT(bugprone-exception-escape): see the definition

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Replaces the options given at construction. Must be called before Start.
  void Configure(Options options);

  // Routes requests whose path equals `path` to `handler`. `methods` lists the
  // accepted methods (case-sensitive, as HTTP defines them); empty means GET
  // and HEAD. HEAD is accepted wherever GET is: the handler runs and only the
  // headers of its response are sent. A later call for the same path replaces
  // the earlier one. Must be called before Start.
  void Handle(std::string path, HttpHandler handler, std::vector<std::string> methods = {});

  // Binds `listen` ("host:port"; "[v6addr]:port" for IPv6; an empty host
  // means every IPv4 interface; port 0 picks a free port, see port()) and
  // starts serving on a background thread. Returns InvalidArgument for a
  // malformed address or web config file, Unavailable naming the address
  // when it cannot be bound (e.g. already in use), and FailedPrecondition if
  // called more than once.
  absl::Status Start(std::string_view listen);

  // Whether the server started with TLS (a web config with
  // tls_server_config).
  bool tls() const;

  // The bound port once Start succeeded, 0 before.
  uint16_t port() const { return port_.load(std::memory_order_acquire); }

  // Closes the listener and every open connection and joins the server
  // thread; a handler that is running finishes first. Idempotent, and safe to
  // call from any thread except the server thread itself (i.e. not from a
  // handler).
  void Stop();

 private:
  friend class internal::ConnectionBase;
  template <class Stream>
  friend class internal::HttpConnection;

  struct Route {
    HttpHandler handler;
    std::vector<std::string> methods;
    std::string allow;    // The value of the Allow header in a 405.
    bool state_changing;  // accepts a method besides GET and HEAD
  };
  struct IoState;  // Asio objects, kept out of this header.

  // Server thread only.
  void Accept();
  void CloseAll();
  // Closes the connection that has waited longest for a request, if any.
  bool EvictOldestWaiting();
  // Reloads the web config once its files change; re-arms itself.
  void CheckWebConfig();
  // Safe from any thread once started: routes_ no longer changes.
  const Route* FindRoute(std::string_view path) const;

  Options options_;  // Immutable once started.
  // Ordered map with a transparent comparator: lookups by string_view, and a
  // handful of routes makes hashing pointless. Immutable once started.
  std::map<std::string, Route, std::less<>> routes_;
  std::unique_ptr<IoState> io_;
  std::atomic<uint16_t> port_{0};

  absl::Mutex lifecycle_mutex_;
  bool started_ ABSL_GUARDED_BY(lifecycle_mutex_) = false;
  std::thread thread_ ABSL_GUARDED_BY(lifecycle_mutex_);
};

// Serves the Prometheus text exposition format 0.0.4 of every collectable
// registered in `registry` (which must not be null), collected afresh on each
// request.
//
// Example:
//   auto registry = std::make_shared<prometheus::Registry>();
//   prometheus::BuildCounter().Name("vigil_events_in_total").Register(*registry)
//       .Add({}).Increment(3);
//   server.Handle("/metrics", PrometheusHandler(registry));
//   // GET /metrics -> "# TYPE vigil_events_in_total counter\n"
//   //                 "vigil_events_in_total 3\n" ...
HttpHandler PrometheusHandler(std::shared_ptr<prometheus::Registry> registry);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_HTTP_SERVER_H_
