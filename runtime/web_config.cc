#include "runtime/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/core/detail/base64.hpp"
#include "rules/scopes.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;

namespace {

// A valid bcrypt hash of a password nobody has: unknown users are checked
// against it so that they cost as much time as known ones.
constexpr const char* kDummyHash = "$2b$10$TWq3jrPzHH1ofrlXEX/5hONIilLe.gXjPrbYqfx6IkqvCTAeH5EZK";

std::string Sha256(std::string_view s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

const std::vector<std::string> kTopKeys = {"tls_server_config",  "basic_auth_users",
                                           "bearer_token_files", "unauthenticated_paths",
                                           "allowed_hosts",      "http_server_config"};
const std::vector<std::string> kTlsKeys = {"cert_file",      "key_file",    "client_auth_type",
                                           "client_ca_file", "min_version", "max_version"};
const std::vector<std::string> kClientAuthTypes = {
    "NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert"};
const std::vector<std::string> kTlsVersions = {"TLS10", "TLS11", "TLS12", "TLS13"};

class WebConfigReader {
 public:
  WebConfigReader(std::string file, std::string dir)
      : file_(std::move(file)), dir_(std::move(dir)) {}

  absl::Status Error(const YAML::Node& n, std::string_view msg) const {
    const YAML::Mark m = n.Mark();
    if (m.line < 0) return absl::InvalidArgumentError(StrCat(file_, ": ", msg));
    return absl::InvalidArgumentError(StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", msg));
  }

  absl::Status Read(const YAML::Node& root, WebConfig* c) const {
    if (root.IsNull()) return absl::OkStatus();  // an empty file: plain HTTP, no auth
    if (absl::Status s = CheckKeys(root, kTopKeys, "the web config"); !s.ok()) return s;
    if (YAML::Node h = root["http_server_config"]) {
      return Error(h, "http_server_config (HTTP/2, response headers) is not supported by vigil");
    }
    if (YAML::Node t = root["tls_server_config"]) {
      if (absl::Status s = ReadTls(t, c); !s.ok()) return s;
    }
    if (YAML::Node u = root["basic_auth_users"]) {
      if (absl::Status s = ReadUsers(u, c); !s.ok()) return s;
    }
    if (YAML::Node b = root["bearer_token_files"]) {
      if (absl::Status s = ReadTokens(b, c); !s.ok()) return s;
    }
    if (YAML::Node p = root["unauthenticated_paths"]) {
      if (absl::Status s = StringList(p, "unauthenticated_paths", &c->unauthenticated_paths);
          !s.ok())
        return s;
      for (size_t i = 0; i < c->unauthenticated_paths.size(); ++i) {
        if (c->unauthenticated_paths[i].rfind('/', 0) != 0) {
          return Error(p[i], "an unauthenticated path must start with '/', e.g. /healthz");
        }
      }
    }
    if (YAML::Node h = root["allowed_hosts"]) {
      if (absl::Status s = StringList(h, "allowed_hosts", &c->allowed_hosts); !s.ok()) return s;
      for (std::string& host : c->allowed_hosts) host = HostName(host);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                         std::string_view where) const {
    // "the web config must be a mapping", not the quoted form.
    if (!map.IsMap()) return Error(map, StrCat(where, " must be a mapping"));
    if (auto e = FindKeyError(map, allowed, where)) return Error(e->at, e->message);
    return absl::OkStatus();
  }

  absl::Status String(const YAML::Node& n, std::string_view what, std::string* out) const {
    if (!n.IsScalar() || n.Scalar().empty()) {
      return Error(n, StrCat("'", what, "' must be a non-empty string"));
    }
    *out = n.Scalar();
    return absl::OkStatus();
  }

  absl::Status StringList(const YAML::Node& n, std::string_view what,
                          std::vector<std::string>* out) const {
    if (!n.IsSequence()) return Error(n, StrCat("'", what, "' must be a list"));
    out->clear();
    for (const YAML::Node& item : n) {
      std::string s;
      if (absl::Status st = String(item, what, &s); !st.ok()) return st;
      out->push_back(std::move(s));
    }
    return absl::OkStatus();
  }

  std::string Path(const std::string& p) const {
    if (p.empty() || p[0] == '/' || dir_.empty()) return p;
    return (std::filesystem::path(dir_) / p).string();
  }

  // A file that must exist and be readable, named in the message if not.
  absl::Status FilePath(const YAML::Node& n, std::string_view what, std::string* out,
                        WebConfig* c) const {
    if (absl::Status s = String(n, what, out); !s.ok()) return s;
    *out = Path(*out);
    c->files.push_back(*out);
    std::ifstream in(*out);
    if (!in) return Error(n, StrCat("cannot read ", what, " ", *out, ": ", std::strerror(errno)));
    return absl::OkStatus();
  }

  absl::Status TlsVersion(const YAML::Node& n, std::string_view what, int* out) const {
    std::string v;
    if (absl::Status s = String(n, what, &v); !s.ok()) return s;
    static constexpr int kVersions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
                                        TLS1_3_VERSION};
    for (size_t i = 0; i < kTlsVersions.size(); ++i) {
      if (v == kTlsVersions[i]) {
        *out = kVersions[i];
        return absl::OkStatus();
      }
    }
    return Error(n, StrCat("'", what, "' must be one of ", StrJoin(kTlsVersions, ", ")));
  }

  absl::Status ReadTls(const YAML::Node& t, WebConfig* c) const {
    if (absl::Status s = CheckKeys(t, kTlsKeys, "tls_server_config"); !s.ok()) return s;
    if (!t["cert_file"]) return Error(t, "tls_server_config needs 'cert_file'");
    if (!t["key_file"]) return Error(t, "tls_server_config needs 'key_file'");
    std::string cert, key, ca;
    if (absl::Status s = FilePath(t["cert_file"], "cert_file", &cert, c); !s.ok()) return s;
    if (absl::Status s = FilePath(t["key_file"], "key_file", &key, c); !s.ok()) return s;
    if (t["client_ca_file"]) {
      if (absl::Status s = FilePath(t["client_ca_file"], "client_ca_file", &ca, c); !s.ok())
        return s;
    }
    // As Prometheus: a client CA alone means verified client certificates.
    std::string auth = ca.empty() ? "NoClientCert" : "RequireAndVerifyClientCert";
    if (YAML::Node a = t["client_auth_type"]) {
      if (absl::Status s = String(a, "client_auth_type", &auth); !s.ok()) return s;
      if (std::find(kClientAuthTypes.begin(), kClientAuthTypes.end(), auth) ==
          kClientAuthTypes.end()) {
        return Error(a, StrCat("unknown client_auth_type '", auth,
                               "' (allowed: ", StrJoin(kClientAuthTypes, ", "), ")"));
      }
      const bool verifies =
          auth == "VerifyClientCertIfGiven" || auth == "RequireAndVerifyClientCert";
      if (verifies && ca.empty()) {
        return Error(a, StrCat("client_auth_type ", auth, " needs 'client_ca_file'"));
      }
    }
    int min_version = TLS1_2_VERSION, max_version = 0;
    if (YAML::Node v = t["min_version"]) {
      if (absl::Status s = TlsVersion(v, "min_version", &min_version); !s.ok()) return s;
    }
    if (YAML::Node v = t["max_version"]) {
      if (absl::Status s = TlsVersion(v, "max_version", &max_version); !s.ok()) return s;
      if (max_version < min_version) {
        return Error(v, "'max_version' must not be below 'min_version'");
      }
    }

    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_min_proto_version(native, min_version);
    if (max_version != 0) SSL_CTX_set_max_proto_version(native, max_version);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1) {
      return Error(t["cert_file"],
                   StrCat("cannot load the certificate ", cert, ": ", OpenSslError()));
    }
    const bool key_loaded = SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) == 1;
    const bool mismatch =
        !key_loaded && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    if (!key_loaded && !mismatch) {
      return Error(t["key_file"],
                   StrCat("cannot load the private key ", key, ": ", OpenSslError()));
    }
    if (mismatch || SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return Error(t["key_file"],
                   StrCat("the private key ", key, " does not belong to the certificate ", cert));
    }
    if (!ca.empty()) {
      if (SSL_CTX_load_verify_locations(native, ca.c_str(), nullptr) != 1) {
        return Error(t["client_ca_file"],
                     StrCat("cannot load the client CA ", ca, ": ", OpenSslError()));
      }
      SSL_CTX_set_client_CA_list(native, SSL_load_client_CA_file(ca.c_str()));
    }
    int mode = SSL_VERIFY_NONE;
    bool check_chain = true;
    if (auth == "RequestClientCert") {
      mode = SSL_VERIFY_PEER;
      check_chain = false;
    } else if (auth == "RequireAnyClientCert") {
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      check_chain = false;
    } else if (auth == "VerifyClientCertIfGiven") {
      mode = SSL_VERIFY_PEER;
    } else if (auth == "RequireAndVerifyClientCert") {
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    // Requested but not verified: any certificate the client has will do.
    SSL_verify_cb accept_any = [](int, X509_STORE_CTX*) { return 1; };
    SSL_CTX_set_verify(native, mode, check_chain ? nullptr : accept_any);
    c->tls_context = std::move(ctx);
    return absl::OkStatus();
  }

  absl::Status ReadUsers(const YAML::Node& u, WebConfig* c) const {
    if (!u.IsMap()) return Error(u, "'basic_auth_users' must map user names to bcrypt hashes");
    for (const auto& kv : u) {
      const std::string user = kv.first.Scalar();
      if (user.empty() || user.find(':') != std::string::npos) {
        return Error(kv.first, "a basic auth user name must be non-empty and hold no ':'");
      }
      std::string hash;
      if (absl::Status s = String(kv.second, StrCat("basic_auth_users.", user), &hash); !s.ok())
        return s;
      const bool bcrypt =
          hash.size() == 60 &&
          (hash.rfind("$2a$", 0) == 0 || hash.rfind("$2b$", 0) == 0 || hash.rfind("$2y$", 0) == 0);
      // The hash is not echoed: a plain password written here by mistake
      // would otherwise land in the log.
      if (!bcrypt || !ValidHash(hash)) {
        return Error(kv.second, StrCat("the password of user '", user,
                                       "' must be a bcrypt hash ($2b$..., 60 characters), "
                                       "e.g. from `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"));
      }
      c->basic_auth_users[user] = hash;
    }
    return absl::OkStatus();
  }

  // crypt_r answers a hash with a hash of the same shape; a malformed one
  // with a string starting with '*'.
  static bool ValidHash(const std::string& hash) {
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_r("", hash.c_str(), data.get());
    return out != nullptr && out[0] != '*';
  }

  absl::Status ReadTokens(const YAML::Node& b, WebConfig* c) const {
    std::vector<std::string> files;
    if (absl::Status s = StringList(b, "bearer_token_files", &files); !s.ok()) return s;
    for (size_t i = 0; i < files.size(); ++i) {
      const std::string path = Path(files[i]);
      c->files.push_back(path);
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        return Error(
            b[i], StrCat("cannot read the bearer token file ", path, ": ", std::strerror(errno)));
      }
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string token(Strip(ss.str()));
      if (token.empty()) return Error(b[i], StrCat("the bearer token file ", path, " is empty"));
      const bool printable =
          std::all_of(token.begin(), token.end(), [](char ch) { return ch > ' ' && ch < 0x7f; });
      if (!printable) {
        return Error(b[i], StrCat("the bearer token in ", path,
                                  " must be one line of printable characters without spaces"));
      }
      c->bearer_token_digests.push_back(Sha256(token));
    }
    return absl::OkStatus();
  }

  std::string file_;
  std::string dir_;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A content type a cross-site form or a fetch without a CORS preflight can
// send (the Fetch standard's CORS-safelisted ones), or none.
bool SimpleContentType(std::string_view value) {
  const std::string type = Lower(Strip(value.substr(0, value.find(';'))));
  return type.empty() || type == "application/x-www-form-urlencoded" ||
         type == "multipart/form-data" || type == "text/plain";
}

// A Host a DNS-rebinding page cannot have: an IP address or localhost.
bool LocalHostName(const std::string& name) {
  if (name == "localhost" || name.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  asio::ip::make_address(name, ec);
  return !ec;
}

}  // namespace

bool CheckCryptHash(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  // crypt_data is about 32 KiB: too large for a small thread stack.
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  const size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

std::string HostName(std::string_view host_header) {
  std::string_view h = Strip(host_header);
  if (!h.empty() && h.front() == '[') {
    const size_t close = h.find(']');
    h = close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1);
  } else if (const size_t colon = h.rfind(':');
             colon != std::string_view::npos && h.find(':') == colon) {
    h = h.substr(0, colon);
  }
  std::string out(h);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool WebConfig::Unauthenticated(std::string_view path) const {
  return std::find(unauthenticated_paths.begin(), unauthenticated_paths.end(), path) !=
         unauthenticated_paths.end();
}

bool WebConfig::CheckBearer(std::string_view token) const {
  const std::string digest = Sha256(token);
  bool match = false;
  // Every digest is compared, so the time taken does not say which matched.
  for (const std::string& d : bearer_token_digests) {
    match |= CRYPTO_memcmp(d.data(), digest.data(), d.size()) == 0;
  }
  return match;
}

bool WebConfig::CheckBasic(std::string_view user, std::string_view password) const {
  const auto it = basic_auth_users.find(std::string(user));
  if (it == basic_auth_users.end()) {
    CheckCryptHash(password, kDummyHash);
    return false;
  }
  return CheckCryptHash(password, it->second);
}

bool WebConfig::HostAllowed(std::string_view host) const {
  if (allowed_hosts.empty()) return true;
  const std::string name = HostName(host);
  return std::find(allowed_hosts.begin(), allowed_hosts.end(), name) != allowed_hosts.end();
}

Credentials ParseAuthorization(std::string_view value) {
  Credentials c;
  value = Strip(value);
  if (value.empty()) return c;
  const size_t space = value.find(' ');
  const std::string scheme = Lower(value.substr(0, space));
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : Strip(value.substr(space + 1));
  c.kind = Credentials::Kind::kMalformed;
  if (scheme == "bearer" && !rest.empty()) {
    c.kind = Credentials::Kind::kBearer;
    c.token = std::string(rest);
  } else if (scheme == "basic" && !rest.empty()) {
    std::string decoded(beast::detail::base64::decoded_size(rest.size()), '\0');
    const auto [written, read] =
        beast::detail::base64::decode(decoded.data(), rest.data(), rest.size());
    // Beast stops at the padding: anything after it but '=' is malformed.
    const std::string_view padding = rest.substr(read);
    if (padding.size() > 2 || padding.find_first_not_of('=') != std::string_view::npos) return c;
    decoded.resize(written);
    const size_t colon = decoded.find(':');
    if (colon == std::string::npos) return c;
    c.kind = Credentials::Kind::kBasic;
    c.user = decoded.substr(0, colon);
    c.password = decoded.substr(colon + 1);
  }
  return c;
}

Refusal CheckStateChange(const StateChangeRequest& r, const WebConfig* web) {
  if (!r.sec_fetch_site.empty() && r.sec_fetch_site != "same-origin" &&
      r.sec_fetch_site != "none") {
    return {403, StrCat("cross-site request refused (Sec-Fetch-Site: ", r.sec_fetch_site, ")\n")};
  }
  const std::string own = StrCat(r.tls ? "https://" : "http://", r.host);
  if (!r.origin.empty() && Lower(r.origin) != Lower(own)) {
    return {403, StrCat("cross-origin request refused: Origin '", r.origin,
                        "' is not this server (", own, ")\n")};
  }
  const bool allowed_host = web != nullptr && !web->allowed_hosts.empty()
                                ? web->HostAllowed(r.host)
                                : LocalHostName(HostName(r.host));
  if (!allowed_host) {
    return {403, StrCat("Host '", r.host,
                        "' is neither an IP address, localhost nor in allowed_hosts: refused for ",
                        r.method,
                        " (DNS rebinding); use a bearer token or list the name in the "
                        "web config's allowed_hosts\n")};
  }
  if (SimpleContentType(r.content_type)) {
    return {415, StrCat(r.method, " ", r.path,
                        " needs Content-Type: application/json (or an Authorization: Bearer "
                        "token); a form's or text content type is refused to stop cross-site "
                        "requests\n")};
  }
  return {};
}

absl::StatusOr<std::shared_ptr<const WebConfig>> ParseWebConfig(std::string_view yaml,
                                                                const std::string& file,
                                                                const std::string& dir) {
  auto c = std::make_shared<WebConfig>();
  c->file = file;
  c->files.push_back(file);
  try {
    std::string second;
    const YAML::Node root = LoadOneDocument(file, std::string(yaml), &second);
    if (!second.empty()) return absl::InvalidArgumentError(second);
    if (absl::Status s = DuplicateKeysError(file, root); !s.ok()) return s;
    if (absl::Status s = WebConfigReader(file, dir).Read(root, c.get()); !s.ok()) return s;
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(YamlErrorLine(file, e, yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        StrCat(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": YAML: ", e.msg));
  }
  return std::shared_ptr<const WebConfig>(std::move(c));
}

absl::StatusOr<std::shared_ptr<const WebConfig>> LoadWebConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        StrCat(path, ": cannot read the web config file: ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseWebConfig(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace vigil
