// runtime/http_connection.h
//
// The inside of HttpServer (runtime/http_server.h), shared by the server
// and its connections and by nothing else: the table of open connections,
// what every connection has whatever its stream, the server's Asio state,
// and StartConnection, which serves one accepted socket until it closes.
//
// Example (on the server thread, in the acceptor's handler):
//   internal::StartConnection(*this, io_->web, std::move(socket));
#ifndef VIGIL_RUNTIME_HTTP_CONNECTION_H_
#define VIGIL_RUNTIME_HTTP_CONNECTION_H_

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <unordered_set>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/thread_pool.hpp"
#include "runtime/http_server.h"

namespace vigil {

namespace asio = boost::asio;
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

// Serves `socket` (over TLS when `web` has a server config): reads and
// answers requests until the client or the server closes it. Server
// thread only.
void StartConnection(HttpServer& server, std::shared_ptr<const WebConfig> web, tcp::socket socket);

}  // namespace internal

}  // namespace vigil

#endif  // VIGIL_RUNTIME_HTTP_CONNECTION_H_
