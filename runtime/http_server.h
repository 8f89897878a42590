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
//   - request bodies above `max_body_bytes` are refused with 413 before they
//     are buffered;
//   - a handler that throws yields a 500 and the server keeps serving.
// Connections are persistent (HTTP/1.1 keep-alive) unless the client asks
// otherwise; no thread is created per request or per connection.
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
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"

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
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

namespace internal {
class HttpConnection;
}  // namespace internal

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
  };

  HttpServer();
  explicit HttpServer(Options options);
  // Stops the server (see Stop).
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes requests whose path equals `path` to `handler`. `methods` lists the
  // accepted methods (case-sensitive, as HTTP defines them); empty means GET
  // and HEAD. HEAD is accepted wherever GET is: the handler runs and only the
  // headers of its response are sent. A later call for the same path replaces
  // the earlier one. Must be called before Start.
  void Handle(std::string path, HttpHandler handler, std::vector<std::string> methods = {});

  // Binds `listen` ("host:port"; "[v6addr]:port" for IPv6; an empty host
  // means every IPv4 interface; port 0 picks a free port, see port()) and
  // starts serving on a background thread. Returns InvalidArgument for a
  // malformed address, Unavailable naming the address when it cannot be bound
  // (e.g. already in use), and FailedPrecondition if called more than once.
  absl::Status Start(std::string_view listen);

  // The bound port once Start succeeded, 0 before.
  uint16_t port() const { return port_.load(std::memory_order_acquire); }

  // Closes the listener and every open connection and joins the server
  // thread; a handler that is running finishes first. Idempotent, and safe to
  // call from any thread except the server thread itself (i.e. not from a
  // handler).
  void Stop();

 private:
  friend class internal::HttpConnection;

  struct Route {
    HttpHandler handler;
    std::vector<std::string> methods;
    std::string allow;  // The value of the Allow header in a 405.
  };
  struct IoState;  // Asio objects, kept out of this header.

  // Server thread only.
  void Accept();
  void CloseAll();
  // Safe from any thread once started: routes_ no longer changes.
  const Route* FindRoute(std::string_view path) const;

  const Options options_;
  // Ordered map with a transparent comparator: lookups by string_view, and a
  // handful of routes makes hashing pointless. Immutable once started.
  std::map<std::string, Route, std::less<>> routes_;
  std::unique_ptr<IoState> io_;
  std::atomic<uint16_t> port_{0};

  std::mutex lifecycle_mutex_;
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
