// tests/operators/notify/recording_receiver.h
//
// RecordingReceiver is a small HTTP/1.1 server on 127.0.0.1 for notifier
// tests: it records every request and answers as the test scripts it —
// 200 by default, an error status, a hang (no answer until Release() or
// Stop()), or a closed connection. One thread per connection, keep-alive,
// Content-Length bodies only (what HttpClient sends).
//
// Example:
//   RecordingReceiver rx;                       // free port
//   rx.FailNext(2, 500);                        // two 500s, then 200s
//   ... point a webhook at rx.url("/hook") ...
//   ASSERT_TRUE(rx.WaitForAccepted(1, 5s));
//   rx.Requests()[2].body;                      // the accepted one
//   rx.SetHandler([](const RecordedRequest& r) {   // answers computed per request
//     return RecordingReceiver::Reply{201, R"({"key":"KB-1"})", ""};
//   });
#ifndef VIGIL_TESTS_OPERATORS_NOTIFY_RECORDING_RECEIVER_H_
#define VIGIL_TESTS_OPERATORS_NOTIFY_RECORDING_RECEIVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vigil::testing_util {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string headers;  // raw header block
  std::string body;
  int status = 0;  // what was answered: 0 = hung, -1 = connection closed
};

class RecordingReceiver {
 public:
  enum class Action { kStatus, kHang, kClose };
  struct Reply {
    int status = 200;
    std::string body;
    std::string headers;  // extra header lines, each ending in "\r\n"
  };
  // Answers every request not scripted otherwise (FailNext, CloseNext,
  // HangAll). Called without the receiver's lock held.
  using Handler = std::function<Reply(const RecordedRequest&)>;

  // port 0: a free port; otherwise that port (to come back up after Stop()).
  // Port 0: a free port below the kernel's ephemeral range, so that a
  // Restart on it cannot find it taken by some client's outgoing
  // connection (tests running beside this one open thousands).
  explicit RecordingReceiver(uint16_t port = 0) {
    if (port != 0) {
      Start(port);
      return;
    }
    const uint16_t first = 20000, last = EphemeralLow();
    const uint16_t span = static_cast<uint16_t>(last - first);
    const uint16_t offset = static_cast<uint16_t>((::getpid() * 131u + NextSeed()) % span);
    for (uint16_t i = 0; i < span; ++i) {
      if (TryStart(static_cast<uint16_t>(first + (offset + i) % span))) return;
    }
    Start(0);
  }
  ~RecordingReceiver() { Stop(); }
  RecordingReceiver(const RecordingReceiver&) = delete;
  RecordingReceiver& operator=(const RecordingReceiver&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // The next `n` requests get `status` (then back to the default).
  void FailNext(int n, int status) { Script(n, Action::kStatus, status); }
  void CloseNext(int n) { Script(n, Action::kClose, 0); }
  // Every request hangs until Release() or Stop().
  void HangAll(bool hang) {
    std::lock_guard lock(mu_);
    hang_all_ = hang;
    cv_.notify_all();
  }
  void Release() { HangAll(false); }
  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  void SetDefaultStatus(int status) {
    std::lock_guard lock(mu_);
    default_status_ = status;
  }

  std::vector<RecordedRequest> Requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Requests answered with a 2xx, in arrival order.
  std::vector<RecordedRequest> Accepted() const {
    std::lock_guard lock(mu_);
    std::vector<RecordedRequest> out;
    for (const RecordedRequest& r : requests_) {
      if (r.status / 100 == 2) out.push_back(r);
    }
    return out;
  }
  size_t AcceptedCount() const { return Accepted().size(); }

  bool WaitForAccepted(size_t n, std::chrono::milliseconds timeout) const {
    return WaitUntil([&] { return CountAcceptedLocked() >= n; }, timeout);
  }
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
    return WaitUntil([&] { return requests_.size() >= n; }, timeout);
  }

  // Closes the listening socket and every connection (new connects are refused).
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (listen_fd_ < 0) return;
      stopping_ = true;
      ::shutdown(listen_fd_, SHUT_RDWR);
      ::close(listen_fd_);
      listen_fd_ = -1;
      for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
      cv_.notify_all();
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(conn_threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  // Listens again (on the same port unless one is given).
  void Start(uint16_t port) {
    if (!TryStart(port)) {
      throw std::runtime_error("RecordingReceiver: cannot bind port " + std::to_string(port));
    }
  }
  void Restart() { Start(port_); }

 private:
  static uint16_t EphemeralLow() {
    unsigned low = 32768;
    if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
      if (std::fscanf(f, "%u", &low) != 1) low = 32768;
      std::fclose(f);
    }
    return static_cast<uint16_t>(std::clamp(low, 21000u, 65535u));
  }
  static unsigned NextSeed() {
    static std::atomic<unsigned> seed{0};
    return seed.fetch_add(7919);
  }
  bool TryStart(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return false;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::listen(fd, 64);
    {
      std::lock_guard lock(mu_);
      listen_fd_ = fd;
      port_ = ntohs(addr.sin_port);
      stopping_ = false;
    }
    accept_thread_ = std::thread([this, fd] { AcceptLoop(fd); });
    return true;
  }

  struct Step {
    Action action;
    int status;
  };

  void Script(int n, Action action, int status) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < n; ++i) script_.push_back({action, status});
  }

  size_t CountAcceptedLocked() const {
    return static_cast<size_t>(
        std::count_if(requests_.begin(), requests_.end(),
                      [](const RecordedRequest& r) { return r.status / 100 == 2; }));
  }

  template <typename Pred>
  bool WaitUntil(Pred pred, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }

  void AcceptLoop(int listen_fd) {
    while (true) {
      const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(c);
        return;
      }
      conns_.insert(c);
      conn_threads_.emplace_back([this, c] { Serve(c); });
    }
  }

  // One request from `fd` into `req`; false on EOF or error.
  static bool ReadRequest(int fd, std::string* buffer, RecordedRequest* req) {
    char buf[8192];
    while (true) {
      const size_t end = buffer->find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffer->substr(0, end);
        std::string lower = head;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        size_t length = 0;
        const size_t cl = lower.find("\r\ncontent-length:");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 17));
        if (buffer->size() >= end + 4 + length) {
          const size_t sp1 = head.find(' ');
          const size_t sp2 = head.find(' ', sp1 + 1);
          req->method = head.substr(0, sp1);
          req->target = head.substr(sp1 + 1, sp2 - sp1 - 1);
          req->headers = head;
          req->body = buffer->substr(end + 4, length);
          buffer->erase(0, end + 4 + length);
          return true;
        }
      }
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      buffer->append(buf, static_cast<size_t>(n));
    }
  }

  void Serve(int fd) {
    std::string buffer;
    RecordedRequest req;
    while (ReadRequest(fd, &buffer, &req)) {
      Step step{Action::kStatus, 200};
      size_t index = 0;
      std::optional<Reply> reply;
      {
        std::unique_lock lock(mu_);
        const bool scripted = hang_all_ || !script_.empty();
        Handler handler = scripted ? nullptr : handler_;
        if (handler) {
          lock.unlock();
          reply = handler(req);
          lock.lock();
          step.status = reply->status;
        }
        if (!reply && hang_all_) {
          step = {Action::kHang, 0};
        } else if (!reply && !script_.empty()) {
          step = script_.front();
          script_.pop_front();
        } else if (!reply) {
          step.status = default_status_;
        }
        req.status = step.action == Action::kStatus ? step.status
                     : step.action == Action::kHang ? 0
                                                    : -1;
        index = requests_.size();
        requests_.push_back(req);
        cv_.notify_all();
        if (step.action == Action::kHang) {
          cv_.wait(lock, [&] { return !hang_all_ || stopping_; });
          requests_[index].status = -1;
          break;  // the client has given up by now: close
        }
      }
      if (step.action == Action::kClose) break;
      // Errors echo the request, as some APIs do: a client must not log them verbatim.
      const std::string body = reply                    ? reply->body
                               : step.status / 100 == 2 ? std::string("{\"status\":\"success\"}")
                                                        : "scripted error for request " + req.body;
      const std::string response =
          "HTTP/1.1 " + std::to_string(step.status) +
          " Scripted\r\nContent-Type: application/json\r\n" + (reply ? reply->headers : "") +
          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      size_t done = 0;
      while (done < response.size()) {
        const ssize_t n = ::write(fd, response.data() + done, response.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
    }
    std::lock_guard lock(mu_);
    conns_.erase(fd);
    ::close(fd);
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool stopping_ = false;
  bool hang_all_ = false;
  int default_status_ = 200;
  Handler handler_;
  std::deque<Step> script_;
  std::vector<RecordedRequest> requests_;
  std::set<int> conns_;
  std::thread accept_thread_;
  std::vector<std::thread> conn_threads_;
};

}  // namespace vigil::testing_util

#endif  // VIGIL_TESTS_OPERATORS_NOTIFY_RECORDING_RECEIVER_H_
