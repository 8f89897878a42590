#include "operators/net/http_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/strings.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/core/detail/base64.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

std::string Base64(std::string_view s) {
  std::string out(beast::detail::base64::encoded_size(s.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), s.data(), s.size()));
  return out;
}

bool HostPortChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
         c == '[' || c == ']' || c == '_';
}

}  // namespace

std::string HttpUrl::Redact(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "<redacted URL>";
  const std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  const size_t at = authority.rfind('@');
  // An '@' past the authority but before the query: a password with a raw
  // '/' in it, so that what stands where the host should is user:password.
  const std::string_view before_query = rest.substr(0, rest.find_first_of("?#"));
  const bool ambiguous =
      at == std::string_view::npos && before_query.find('@') != std::string_view::npos;
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  // Whatever does not look like a host and port is not shown either.
  const size_t colon = authority.rfind(':');
  const std::string_view port = colon == std::string_view::npos || authority.back() == ']'
                                    ? std::string_view()
                                    : authority.substr(colon + 1);
  const bool plain_host =
      !ambiguous && !authority.empty() &&
      std::all_of(authority.begin(), authority.end(), HostPortChar) &&
      std::all_of(port.begin(), port.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      std::all_of(scheme.begin(), scheme.end(),
                  [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  std::string out = plain_host ? StrCat(scheme, "://", authority) : "<redacted URL>";
  if (!plain_host) return out;
  const std::string_view tail =
      authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (!tail.empty() && tail != "/") out += "/***";
  return out;
}

absl::StatusOr<HttpUrl> HttpUrl::Parse(std::string_view url) {
  const std::string shown = Redact(url);
  const auto invalid = [&shown](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("URL \"", shown, "\" ", why));
  };
  HttpUrl out;
  std::string_view rest = url;
  if (ConsumePrefix(&rest, "https://")) {
    out.tls = true;
    out.port = 443;
  } else if (ConsumePrefix(&rest, "http://")) {
    out.port = 80;
  } else {
    return invalid("must start with http:// or https://");
  }
  rest = rest.substr(0, rest.find('#'));
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(rest.substr(slash));
    if (out.target[0] == '?') out.target.insert(0, "/");
  }
  // Userinfo ends at the authority's last '@' (an '@' in a password must be
  // written %40, but a raw one is taken as the password's too).
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (!PercentDecode(userinfo.substr(0, colon), &out.username) ||
        (colon != std::string_view::npos &&
         !PercentDecode(userinfo.substr(colon + 1), &out.password))) {
      return invalid("has a malformed %-escape in its user:password@ part");
    }
    if (out.username.empty()) return invalid("has an empty user name before '@'");
    // Basic auth sends user:password; the receiver splits at the first ':'
    // (RFC 7617), so a user name cannot hold one.
    if (out.username.find(':') != std::string::npos) {
      return invalid("has a ':' (%3A) in its user name, which basic auth cannot carry");
    }
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("has an unclosed [ in its host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (ConsumePrefix(&after, ":")) port = after;
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return invalid("has no host");
  // Most likely a password with a raw '/' ("user:pa/ss@host"), which would
  // make "user" the host: refused rather than tried (and retried) there.
  if (out.target.substr(0, out.target.find('?')).find('@') != std::string::npos) {
    return invalid(
        "has an '@' in its path; if it holds user:password@, write a '/', '@' or ':' in the "
        "password as %2F, %40 or %3A");
  }
  if (!std::all_of(out.host.begin(), out.host.end(), HostPortChar)) {
    return invalid("has a character that cannot be in a host name");
  }
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return invalid("has a bad port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return invalid("has a bad port");
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

std::string HttpUrl::Origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return StrCat(tls ? "https://" : "http://", v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

std::string HttpUrl::Redacted() const {
  return target.empty() || target == "/" ? Origin() : Origin() + "/***";
}

std::vector<std::string> HttpUrl::Secrets() const {
  std::vector<std::string> out;
  const auto add = [&out](std::string_view s, size_t min_size) {
    if (s.size() >= min_size) out.emplace_back(s);
  };
  if (target != "/") {
    add(target, 2);
    const size_t q = target.find('?');
    const std::string_view path = std::string_view(target).substr(0, q);
    add(path, 2);
    // Segments short enough to be words ("api", "v2", "hooks") stay.
    for (std::string_view segment : StrSplit(path, '/')) add(segment, 6);
    if (q != std::string::npos) {
      const std::string_view query = std::string_view(target).substr(q + 1);
      // Values too short to be tokens ("v=2") stay: replacing them would
      // garble the text around them.
      add(query, 4);
      for (std::string_view param : StrSplit(query, '&')) {
        const size_t eq = param.find('=');
        if (eq != std::string_view::npos) add(param.substr(eq + 1), 4);
      }
    }
  }
  if (!username.empty()) {
    add(StrCat(username, ":", password), 1);
    add(password, 1);
    add(Base64(StrCat(username, ":", password)), 1);
  }
  // Longest first, so that a secret is never half-replaced by a shorter one
  // that it contains.
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "<redacted>");
      at += 10;
    }
  }
  return text;
}

std::string_view HttpClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return v;
  }
  return {};
}

struct HttpClient::Impl {
  asio::io_context ioc{1};
  std::optional<asio::ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  bool connected() const { return plain.has_value() || secure.has_value(); }
  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs the io_context until the operation started before it completes.
  void Run() {
    ioc.restart();
    ioc.run();
  }
};

HttpClient::HttpClient(HttpUrl origin) : HttpClient(std::move(origin), Options()) {}
HttpClient::HttpClient(HttpUrl origin, Options options)
    : origin_(std::move(origin)), options_(options), impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (!impl_->connected()) return;
  beast::error_code ignored;
  impl_->tcp().socket().close(ignored);
  impl_->plain.reset();
  impl_->secure.reset();
  impl_->buffer.clear();
}

namespace {

absl::Status Failed(const HttpUrl& origin, std::string_view step, const beast::error_code& ec) {
  return absl::UnavailableError(StrCat(origin.Origin(), ": ", step, ": ",
                                       ec == beast::error::timeout ? "timed out" : ec.message()));
}

}  // namespace

namespace {

// One request/response exchange on an open stream. `nothing_received` tells
// the caller whether the failure happened before any response byte.
template <class Stream>
absl::StatusOr<HttpClientResponse> Exchange(Stream& stream, beast::tcp_stream& tcp,
                                            asio::io_context& ioc, beast::flat_buffer& buffer,
                                            const http::request<http::string_body>& req,
                                            const HttpUrl& origin,
                                            const HttpClient::Options& options,
                                            bool* nothing_received) {
  *nothing_received = true;
  beast::error_code ec;
  tcp.expires_after(options.timeout);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  ioc.restart();
  ioc.run();
  if (ec) return Failed(origin, "sending the request", ec);

  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_response_bytes);
  tcp.expires_after(options.timeout);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  ioc.restart();
  ioc.run();
  if (ec) {
    *nothing_received = !parser.got_some();
    return Failed(origin, "reading the response", ec);
  }
  *nothing_received = false;
  const http::response<http::string_body>& res = parser.get();
  HttpClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

}  // namespace

absl::StatusOr<HttpClientResponse> HttpClient::Send(std::string_view method,
                                                    std::string_view target, std::string_view body,
                                                    const HttpHeaders& headers) {
  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return absl::InvalidArgumentError(StrCat("unknown HTTP method ", method));
  }
  req.method(verb);
  req.target(target.empty() ? std::string_view("/") : target);
  req.version(11);
  const bool v6 = origin_.host.find(':') != std::string::npos;
  const bool default_port = origin_.port == (origin_.tls ? 443 : 80);
  req.set(http::field::host, StrCat(v6 ? "[" : "", origin_.host, v6 ? "]" : "",
                                    default_port ? "" : StrCat(":", origin_.port)));
  req.set(http::field::user_agent, "vigil");
  if (!origin_.username.empty()) {
    req.set(http::field::authorization,
            StrCat("Basic ", Base64(StrCat(origin_.username, ":", origin_.password))));
  }
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::string(body);
  req.prepare_payload();
  req.keep_alive(true);

  for (int attempt = 0;; ++attempt) {
    const bool reused = impl_->connected();
    if (!reused) {
      beast::error_code ec;
      tcp::resolver resolver(impl_->ioc);
      tcp::resolver::results_type endpoints =
          resolver.resolve(origin_.host, std::to_string(origin_.port), ec);
      if (ec) return Failed(origin_, "resolving the host", ec);
      if (origin_.tls) {
        if (!impl_->ssl_ctx) {
          impl_->ssl_ctx.emplace(asio::ssl::context::tls_client);
          if (options_.verify_tls) {
            impl_->ssl_ctx->set_default_verify_paths();
            impl_->ssl_ctx->set_verify_mode(asio::ssl::verify_peer);
          } else {
            impl_->ssl_ctx->set_verify_mode(asio::ssl::verify_none);
          }
        }
        impl_->secure.emplace(impl_->ioc, *impl_->ssl_ctx);
        if (options_.verify_tls) {
          impl_->secure->set_verify_callback(asio::ssl::host_name_verification(origin_.host));
        }
        SSL_set_tlsext_host_name(impl_->secure->native_handle(), origin_.host.c_str());
      } else {
        impl_->plain.emplace(impl_->ioc);
      }
      beast::tcp_stream& tcp = impl_->tcp();
      tcp.expires_after(options_.timeout);
      tcp.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
      impl_->Run();
      if (ec) {
        Close();
        return Failed(origin_, "connecting", ec);
      }
      if (origin_.tls) {
        tcp.expires_after(options_.timeout);
        impl_->secure->async_handshake(asio::ssl::stream_base::client,
                                       [&](beast::error_code e) { ec = e; });
        impl_->Run();
        if (ec) {
          Close();
          return Failed(origin_, "TLS handshake", ec);
        }
      }
    }
    bool nothing_received = true;
    const auto sent_at = std::chrono::steady_clock::now();
    absl::StatusOr<HttpClientResponse> res =
        impl_->secure ? Exchange(*impl_->secure, impl_->tcp(), impl_->ioc, impl_->buffer, req,
                                 origin_, options_, &nothing_received)
                      : Exchange(*impl_->plain, impl_->tcp(), impl_->ioc, impl_->buffer, req,
                                 origin_, options_, &nothing_received);
    if (!res.ok()) {
      Close();
      // A kept-alive connection the server has closed fails at once: send
      // again on a new one. A server that let the request time out is not
      // asked twice.
      const bool timed_out = std::chrono::steady_clock::now() - sent_at >= options_.timeout;
      if (reused && nothing_received && attempt == 0 && !timed_out) continue;
      return res;
    }
    const std::string_view connection = res->Header("Connection");
    if (connection == "close" || connection == "Close") Close();
    return res;
  }
}

}  // namespace vigil
