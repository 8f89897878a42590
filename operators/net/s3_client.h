// operators/net/s3_client.h
//
// A client of S3 and S3-compatible object stores (MinIO, s3rver, …) over
// HttpClient, requests signed with SigV4 (operators/net/sigv4.h),
// path-style addressing (ENDPOINT/BUCKET/KEY): put, get, delete, list (every
// page) and, above a size threshold, multipart upload (an
// upload that fails part-way is aborted). Keys are limited to letters,
// digits and "/._-=", which need no escaping in a URL or a signature.
// Listing uses ListObjects version 1 (pages after the last key), which AWS
// and the S3-compatible stores answer alike.
//
// Errors name the bucket, the HTTP status and S3's error code and message,
// never a credential: Unavailable for what a retry may cure (a transport
// error, 5xx, 429, SlowDown), PermissionDenied for 401/403 (wrong or
// missing credentials), NotFound for 404, InvalidArgument otherwise.
//
// Example:
//   S3Location at = *ParseS3Url("s3://vigil-archive/events?endpoint=http://127.0.0.1:4569");
//   auto s3 = *S3Client::Create(at, *AwsCredentials::FromEnvironment());
//   absl::Status s = s3->Put(at.prefix + "/2026/01/01/00/batch-1.ndjson.zst", bytes);
//   std::vector<S3Object> objects = *s3->List(at.prefix + "/2026/01/01/");
#ifndef VIGIL_OPERATORS_NET_S3_CLIENT_H_
#define VIGIL_OPERATORS_NET_S3_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/net/aws_credentials.h"
#include "operators/net/http_client.h"
#include "operators/net/sigv4.h"

namespace vigil {

// s3://BUCKET[/PREFIX][?endpoint=URL&region=R]: without an endpoint, AWS's
// regional one (https://s3.REGION.amazonaws.com); the region as
// ResolveAwsRegion. The prefix has no leading or trailing '/'.
struct S3Location {
  std::string bucket, prefix, endpoint, region;
  std::string ToString() const;  // s3://BUCKET/PREFIX, for messages
  // s3://BUCKET/PREFIX?endpoint=…&region=…: ParseS3Url gives this location back.
  std::string ToUrl() const;
};
absl::StatusOr<S3Location> ParseS3Url(std::string_view url);
bool IsS3Url(std::string_view text);
// Whether `key` is one the client takes (see the file comment).
bool ValidS3Key(std::string_view key);

struct S3Object {
  std::string key;
  uint64_t size = 0;
};

class S3Client {
 public:
  struct Options {
    DurationMs timeout = 30000;
    size_t multipart_threshold = 16 << 20;  // bodies above go in parts
    size_t part_size = 8 << 20;             // S3's minimum is 5 MiB
  };
  // `credentials` is asked before each request (temporary credentials
  // are renewed as they expire).
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(
      const S3Location& location, std::shared_ptr<AwsCredentialSource> credentials,
      Options options);
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(const S3Location& location,
                                                          AwsCredentials credentials,
                                                          Options options) {
    return Create(location, AwsCredentialSource::Fixed(std::move(credentials)), options);
  }
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(const S3Location& location,
                                                          AwsCredentials credentials) {
    return Create(location, std::move(credentials), Options());
  }

  absl::Status Put(std::string_view key, std::string_view body);
  absl::StatusOr<std::string> Get(std::string_view key);
  absl::Status Delete(std::string_view key);
  // Every object whose key starts with `prefix`, in key order.
  absl::StatusOr<std::vector<S3Object>> List(std::string_view prefix);
  // Whether the bucket answers a one-key listing: the start-up check.
  absl::Status CheckBucket();

  // Requests sent, for tests and metrics.
  uint64_t requests() const { return requests_; }

 private:
  S3Client(S3Location location, std::shared_ptr<AwsCredentialSource> credentials, Options options,
           HttpUrl endpoint);
  absl::StatusOr<HttpClientResponse> Send(std::string_view method, std::string_view key,
                                          std::string_view query, std::string_view body,
                                          std::string_view what);
  absl::Status PutMultipart(std::string_view key, std::string_view body);

  S3Location location_;
  std::shared_ptr<AwsCredentialSource> credentials_;
  Options options_;
  HttpUrl endpoint_;
  std::unique_ptr<HttpClient> http_;
  uint64_t requests_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_S3_CLIENT_H_
