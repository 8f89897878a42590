#include "operators/net/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace vigil {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims the value and collapses runs of spaces into one, as the canonical
// headers require.
std::string CanonicalValue(std::string_view v) {
  v = Strip(v);
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (std::string_view piece : StrSplit(query, '&')) {
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    std::string_view k = piece.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    params.emplace_back(PercentEncode(PercentDecode(k), false),
                        PercentEncode(PercentDecode(v), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) StrAppend(&out, out.empty() ? "" : "&", k, "=", v);
  return out;
}

std::string CredentialScope(std::string_view amz_date, const SigV4Scope& scope) {
  return StrCat(amz_date.substr(0, 8), "/", scope.region, "/", scope.service, "/aws4_request");
}

}  // namespace

absl::StatusOr<AwsCredentials> AwsCredentials::FromEnvironment() {
  AwsCredentials c;
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  const char* token = std::getenv("AWS_SESSION_TOKEN");
  if (id == nullptr || *id == '\0') {
    return absl::FailedPreconditionError("AWS_ACCESS_KEY_ID is not set");
  }
  if (secret == nullptr || *secret == '\0') {
    return absl::FailedPreconditionError("AWS_SECRET_ACCESS_KEY is not set");
  }
  c.access_key_id = id;
  c.secret_access_key = secret;
  if (token != nullptr) c.session_token = token;
  return c;
}

std::string ResolveAwsRegion(std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return "us-east-1";
}

void SignV4(const AwsCredentials& credentials, const SigV4Scope& scope, std::string_view method,
            std::string_view target, std::string_view body, TimeMs now, HttpHeaders* headers,
            const SigV4Options& options) {
  const std::string amz_date = internal::AmzDate(now);
  const std::string payload_hash = internal::Sha256Hex(body);
  headers->emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    headers->emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  if (options.content_sha256_header) headers->emplace_back("x-amz-content-sha256", payload_hash);
  std::string signed_headers;
  const std::string creq =
      internal::CanonicalRequest(method, target, *headers, payload_hash, &signed_headers);
  const std::string sts = internal::StringToSign(amz_date, scope, creq);
  const std::string signature =
      internal::Signature(credentials.secret_access_key, amz_date, scope, sts);
  headers->emplace_back("Authorization",
                        StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key_id, "/",
                               CredentialScope(amz_date, scope), ", SignedHeaders=", signed_headers,
                               ", Signature=", signature));
}

namespace internal {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof digest);
}

std::string AmzDate(TimeMs now) {
  const std::time_t secs = static_cast<std::time_t>(FloorDiv(now, 1000));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalRequest(std::string_view method, std::string_view target,
                             const HttpHeaders& headers, std::string_view payload_hash,
                             std::string* signed_headers) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty()) path = "/";
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);

  // Repeated headers are joined with ',' in the order given.
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : headers) {
    std::string& v = canonical[Lower(name)];
    if (!v.empty()) v.push_back(',');
    v += CanonicalValue(value);
  }
  std::string out =
      StrCat(method, "\n", PercentEncode(path, true), "\n", CanonicalQuery(query), "\n");
  signed_headers->clear();
  for (const auto& [name, value] : canonical) {
    StrAppend(&out, name, ":", value, "\n");
    StrAppend(signed_headers, signed_headers->empty() ? "" : ";", name);
  }
  StrAppend(&out, "\n", *signed_headers, "\n", payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, const SigV4Scope& scope,
                         std::string_view canonical_request) {
  return StrCat("AWS4-HMAC-SHA256\n", amz_date, "\n", CredentialScope(amz_date, scope), "\n",
                Sha256Hex(canonical_request));
}

std::string Signature(std::string_view secret, std::string_view amz_date, const SigV4Scope& scope,
                      std::string_view string_to_sign) {
  const std::string k_date = Hmac(StrCat("AWS4", secret), amz_date.substr(0, 8));
  const std::string k_region = Hmac(k_date, scope.region);
  const std::string k_service = Hmac(k_region, scope.service);
  const std::string k_signing = Hmac(k_service, "aws4_request");
  const std::string mac = Hmac(k_signing, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

}  // namespace internal
}  // namespace vigil
