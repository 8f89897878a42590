// operators/net/sigv4.h
//
// AWS Signature Version 4 for requests sent with HttpClient: the canonical
// request, the string to sign, the signing key (HMAC-SHA256 chain over date,
// region, service) and the Authorization header, as AWS documents them
// ("Create a signed AWS API request", and the sig-v4 test suite the tests
// reproduce).
//
// SignV4 adds X-Amz-Date, X-Amz-Security-Token (with session credentials),
// x-amz-content-sha256 (when asked) and Authorization to the headers of a
// request. Every header passed in is signed, so pass Host (with the value
// HttpClient will send) and Content-Type before signing, and add nothing
// afterwards that the server must check.
//
// The canonical URI is the request path URI-encoded once more, with '/' kept
// (what every service but S3 expects: the path the client sends is already
// encoded). Paths are not normalised ("." and ".." segments are kept):
// vigil signs only "/" for the Kinesis JSON API.
//
// Example:
//   AwsCredentials creds = *AwsCredentials::FromEnvironment();
//   HttpHeaders headers = {{"Host", "kinesis.us-east-1.amazonaws.com"},
//                          {"Content-Type", "application/x-amz-json-1.1"}};
//   SignV4(creds, {"us-east-1", "kinesis"}, "POST", "/", body, NowMs(), &headers);
//   // headers now also hold X-Amz-Date and
//   // Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/aws4_request,
//   //                SignedHeaders=content-type;host;x-amz-date, Signature=…
#ifndef VIGIL_OPERATORS_NET_SIGV4_H_
#define VIGIL_OPERATORS_NET_SIGV4_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/net/http_client.h"

namespace vigil {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term credentials

  // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (optional).
  // FailedPrecondition naming the missing variable when a key is unset.
  static absl::StatusOr<AwsCredentials> FromEnvironment();
};

// `configured` when not empty, else AWS_REGION, else AWS_DEFAULT_REGION, else
// "us-east-1".
std::string ResolveAwsRegion(std::string_view configured);

struct SigV4Scope {
  std::string region;
  std::string service;  // "kinesis"
};

struct SigV4Options {
  // Adds x-amz-content-sha256 (the payload hash) as a signed header; S3
  // requires it, other services accept it.
  bool content_sha256_header = false;
};

// Signs a request for `scope` at time `now` (epoch ms) and appends the
// signature headers to `headers`. `target` is the path and query as sent.
void SignV4(const AwsCredentials& credentials, const SigV4Scope& scope, std::string_view method,
            std::string_view target, std::string_view body, TimeMs now, HttpHeaders* headers,
            const SigV4Options& options = {});

namespace internal {

// The pieces of the signature, exposed for the test-suite vectors. `headers`
// must already hold X-Amz-Date (and X-Amz-Security-Token when signed).
std::string CanonicalRequest(std::string_view method, std::string_view target,
                             const HttpHeaders& headers, std::string_view payload_hash,
                             std::string* signed_headers);
std::string StringToSign(std::string_view amz_date, const SigV4Scope& scope,
                         std::string_view canonical_request);
std::string Signature(std::string_view secret, std::string_view amz_date, const SigV4Scope& scope,
                      std::string_view string_to_sign);
std::string AmzDate(TimeMs now);  // "20150830T123600Z"
std::string Sha256Hex(std::string_view data);

}  // namespace internal
}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_SIGV4_H_
