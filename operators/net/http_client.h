// operators/net/http_client.h
//
// HttpClient is a small blocking HTTP/1.1 client (Boost.Beast over Asio,
// OpenSSL for https) for the outputs and sources that talk to HTTP APIs:
// Alertmanager, PagerDuty, webhooks, the Kinesis JSON API. One client holds
// at most one kept-alive connection to one origin and is used by one thread
// at a time.
//
// Every step (resolve + connect, TLS handshake, write, read) is bounded by a
// timeout, so a server that hangs costs the caller at most `timeout` per
// request. A request that fails on a reused connection before any response
// byte arrived (the server closed an idle keep-alive connection) is sent
// once more on a fresh connection; every other failure is returned to the
// caller, who owns retries and backoff.
//
// Errors: InvalidArgument for a malformed URL, Unavailable for DNS,
// connect, TLS and transport errors and timeouts (the message names the
// origin and the step). HTTP error statuses are not errors: they come back
// in HttpClientResponse::status.
//
// Example:
//   absl::StatusOr<HttpUrl> url = HttpUrl::Parse("http://127.0.0.1:9093/api/v2/alerts");
//   HttpClient client(*url);
//   absl::StatusOr<HttpClientResponse> r =
//       client.Send("POST", url->target, body, {{"Content-Type", "application/json"}});
//   if (r.ok() && r->status / 100 == 2) ...
#ifndef VIGIL_OPERATORS_NET_HTTP_CLIENT_H_
#define VIGIL_OPERATORS_NET_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace vigil {

struct HttpUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string target = "/";  // path and query, at least "/"
  // From "user:password@" before the host, percent-decoded; sent as HTTP
  // basic auth. Empty when the URL has none.
  std::string username = {};
  std::string password = {};

  // "http://[user[:password]@]host[:port][/path][?query][#fragment]" or
  // "https://…"; IPv6 hosts in []; the fragment is dropped. Error messages
  // show the URL redacted (see Redact), never its path, query or userinfo.
  static absl::StatusOr<HttpUrl> Parse(std::string_view url);
  // "http://host:port" (the port always shown).
  std::string Origin() const;
  // What may be logged or exposed of this URL: the origin, and "/***" in
  // place of any path or query (webhook URLs carry their token there, e.g.
  // https://hooks.slack.com/services/T0/B0/XXXX), never the userinfo.
  std::string Redacted() const;
  // The same for a URL that may not even parse: scheme and host as far as
  // they can be told apart from the rest, e.g. "https://hooks.slack.com/***".
  static std::string Redact(std::string_view url);
  // The secret parts of this URL as they may appear in text a server sends
  // back (path and query as sent, each long path segment and query value,
  // userinfo, the password, the basic auth header value), longest first:
  // what a receiver's error body must be cleaned of before it is logged.
  std::vector<std::string> Secrets() const;
};

// Replaces every occurrence of each of `secrets` in `text` with "<redacted>".
std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpClientResponse {
  int status = 0;
  std::string body;
  HttpHeaders headers;
  // The value of header `name` (case-insensitive), or "".
  std::string_view Header(std::string_view name) const;
};

class HttpClient {
 public:
  struct Options {
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
    // Verify the server certificate against the system store (https only).
    bool verify_tls = true;
    size_t max_response_bytes = 16 << 20;
  };

  explicit HttpClient(HttpUrl origin);
  HttpClient(HttpUrl origin, Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request to `target` on the client's origin. Host,
  // Content-Length and User-Agent are set unless `headers` sets them. On a
  // kept-alive connection that fails before any answer (the server closed
  // it), the request is sent once more on a new connection, unless it
  // timed out.
  absl::StatusOr<HttpClientResponse> Send(std::string_view method, std::string_view target,
                                          std::string_view body, const HttpHeaders& headers = {});

  // Drops the kept-alive connection, if any.
  void Close();

  const HttpUrl& origin() const { return origin_; }

 private:
  struct Impl;
  HttpUrl origin_;
  Options options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_HTTP_CLIENT_H_
