// runtime/web_config.h
//
// WebConfig is how the admin HTTP server (runtime/http_server.h) is secured:
// TLS, who may call it, and which paths stay open. It is read from the file
// named by `--web.config.file` (or `http.web_config_file` in the job file),
// in Prometheus' web configuration format, plus three keys of vigil's own:
//
//   tls_server_config:               # Prometheus' keys; no block: plain HTTP
//     cert_file: tls.crt             # relative paths: from the file's directory
//     key_file: tls.key
//     client_auth_type: RequireAndVerifyClientCert   # default NoClientCert, or
//                                    # RequireAndVerifyClientCert with client_ca_file
//     client_ca_file: ca.crt
//     min_version: TLS12             # TLS10, TLS11, TLS12 (default), TLS13
//     max_version: TLS13
//   basic_auth_users:                # user: bcrypt hash ($2a$, $2b$ or $2y$)
//     prometheus: $2b$10$...
//   bearer_token_files: [token]      # vigil: each file holds one token
//   unauthenticated_paths: [/healthz, /readyz]   # vigil: the default
//   allowed_hosts: [vigil.example.com]           # vigil: Host names accepted
//
// With users or tokens configured every request needs one of them
// (`Authorization: Basic` or `Authorization: Bearer`), except the
// unauthenticated paths. Passwords are checked with libxcrypt's crypt_r;
// tokens are compared in constant time. Certificates, keys and token files
// are read when the file is loaded; the server loads it again when any of
// them changes (runtime/http_server.h).
//
// Every error is `file:line:col: message` at the offending node; no error
// message ever holds a password hash's check value or a token.
//
// Example:
//   absl::StatusOr<std::shared_ptr<const WebConfig>> w = LoadWebConfig("web.yml");
//   (*w)->tls_context;                   // null without tls_server_config
//   (*w)->CheckBasic("prometheus", "s3cret");   // true for the right password
//   (*w)->Unauthenticated("/healthz");  // true
#ifndef VIGIL_RUNTIME_WEB_CONFIG_H_
#define VIGIL_RUNTIME_WEB_CONFIG_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace vigil {

struct WebConfig {
  std::string file;  // where it was read from, for messages
  // That file and every file it names (certificate, key, CA, token files):
  // what a change of the configuration shows in.
  std::vector<std::string> files;
  // The server's TLS set-up (certificate, key, client verification); null:
  // plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  // SHA-256 of each bearer token: compared in constant time, and a token is
  // never kept in the clear.
  std::vector<std::string> bearer_token_digests;
  std::vector<std::string> unauthenticated_paths = {"/healthz", "/readyz"};
  std::vector<std::string> allowed_hosts;  // empty: any Host

  bool tls() const { return tls_context != nullptr; }
  bool auth_required() const { return !basic_auth_users.empty() || !bearer_token_digests.empty(); }
  bool Unauthenticated(std::string_view path) const;
  // Whether `token` is one of the bearer tokens.
  bool CheckBearer(std::string_view token) const;
  // Whether `password` matches the bcrypt hash of `user`. Costs a bcrypt
  // round (tens of milliseconds at cost 10) even for an unknown user, so
  // that timing does not tell which users exist; call it off the I/O thread.
  bool CheckBasic(std::string_view user, std::string_view password) const;
  // Whether `host` (a Host header, with or without its port) is allowed:
  // always when allowed_hosts is empty.
  bool HostAllowed(std::string_view host) const;
};

// Reads and checks a web config file; builds the TLS context (so a missing
// or mismatched certificate or key is reported here, at its key).
absl::StatusOr<std::shared_ptr<const WebConfig>> LoadWebConfig(const std::string& path);

// The same from YAML text; relative paths are taken from `dir`.
absl::StatusOr<std::shared_ptr<const WebConfig>> ParseWebConfig(std::string_view yaml,
                                                                const std::string& file,
                                                                const std::string& dir);

// Whether `password` matches the crypt(3) hash `hash` (bcrypt here), with
// libxcrypt's crypt_r. False for a malformed hash.
bool CheckCryptHash(std::string_view password, const std::string& hash);

// The host part of a Host header value: "example.com:9464" -> "example.com",
// "[::1]:9464" -> "::1"; lower-cased.
std::string HostName(std::string_view host_header);

// The credentials of an Authorization header value: "Basic <base64 of
// user:password>" or "Bearer <token>" (schemes case-insensitive); kNone for
// no header, kMalformed for anything else.
struct Credentials {
  enum class Kind { kNone, kBasic, kBearer, kMalformed } kind = Kind::kNone;
  std::string user = {}, password = {}, token = {};
};
Credentials ParseAuthorization(std::string_view value);

// What a state-changing request (any method besides GET and HEAD) shows of
// where it comes from.
struct StateChangeRequest {
  std::string_view method = {}, path = {}, host = {}, origin = {}, sec_fetch_site = {},
                   content_type = {};
  bool tls = false;  // the server speaks TLS: its own origin is https://host
};
struct Refusal {
  int status = 0;  // 0: not refused
  std::string body = {};
};

// The checks a state-changing request without a bearer token must pass, so
// that no web page can make a browser send it (`web` may be null):
//   - Sec-Fetch-Site, if sent, is same-origin or none (else 403);
//   - Origin, if sent, is this server's own (else 403; "null" too);
//   - Host is an IP address, localhost (or *.localhost), or one of
//     allowed_hosts when those are configured (else 403: DNS rebinding,
//     where the attacker's page is same-origin with itself);
//   - Content-Type is not one a form or a fetch without a CORS preflight
//     can send: none, text/plain, application/x-www-form-urlencoded,
//     multipart/form-data (else 415).
//
// Example:
//   CheckStateChange({.method = "POST", .path = "/-/reload", .host = "127.0.0.1:9464",
//                     .origin = "http://evil.example", .content_type = "text/plain"}, nullptr)
//   // {403, "cross-origin request refused: Origin 'http://evil.example' is not this
//   //        server (http://127.0.0.1:9464)\n"}
Refusal CheckStateChange(const StateChangeRequest& request, const WebConfig* web);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_WEB_CONFIG_H_
