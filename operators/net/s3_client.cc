#include "operators/net/s3_client.h"

#include <chrono>
#include <cstdlib>

#include "base/clock.h"
#include "base/strings.h"
#include "operators/net/xml_text.h"

namespace vigil {

bool IsS3Url(std::string_view text) { return text.rfind("s3://", 0) == 0; }

bool ValidS3Key(std::string_view key) {
  if (key.empty() || key.size() > 1024 || key.front() == '/') return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '.' || c == '_' || c == '-' || c == '=';
    if (!ok) return false;
  }
  return key.find("//") == std::string_view::npos;
}

std::string S3Location::ToString() const {
  return prefix.empty() ? StrCat("s3://", bucket) : StrCat("s3://", bucket, "/", prefix);
}

std::string S3Location::ToUrl() const {
  std::string url = ToString();
  const char* sep = "?";
  if (!endpoint.empty()) {
    StrAppend(&url, sep, "endpoint=", PercentEncode(endpoint));
    sep = "&";
  }
  if (!region.empty()) StrAppend(&url, sep, "region=", PercentEncode(region));
  return url;
}

absl::StatusOr<S3Location> ParseS3Url(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("S3 URL ", url.substr(0, url.find('?')), ": ", why));
  };
  if (!IsS3Url(url)) return bad("must start with s3://BUCKET");
  std::string_view rest = url.substr(5);
  const size_t q = rest.find('?');
  const std::string_view query = q == std::string_view::npos ? "" : rest.substr(q + 1);
  rest = rest.substr(0, q);
  S3Location at;
  const size_t slash = rest.find('/');
  at.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) at.prefix = std::string(rest.substr(slash + 1));
  while (!at.prefix.empty() && at.prefix.back() == '/') at.prefix.pop_back();
  // Bucket names: 3-63 lower-case letters, digits, '.' and '-'.
  bool bucket_ok = at.bucket.size() >= 3 && at.bucket.size() <= 63;
  for (char c : at.bucket) {
    bucket_ok =
        bucket_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
  }
  if (!bucket_ok) return bad("the bucket name must be 3-63 lower-case letters, digits, '.' or '-'");
  if (!at.prefix.empty() && !ValidS3Key(at.prefix)) {
    return bad("the prefix may hold letters, digits and /._-= only");
  }
  std::string region;
  for (std::string_view param : StrSplit(query, '&')) {
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    std::string value;
    if (!PercentDecode(eq == std::string_view::npos ? "" : param.substr(eq + 1), &value)) {
      return bad(StrCat(key, ": a malformed %-escape"));
    }
    if (key == "endpoint") {
      if (!HttpUrl::Parse(value).ok()) return bad("endpoint must be an http:// or https:// URL");
      at.endpoint = value;
    } else if (key == "region") {
      region = value;
    } else {
      return bad(StrCat("unknown parameter '", key, "' (allowed: endpoint, region)"));
    }
  }
  at.region = ResolveAwsRegion(region);
  if (at.endpoint.empty()) at.endpoint = StrCat("https://s3.", at.region, ".amazonaws.com");
  return at;
}

S3Client::S3Client(S3Location location, std::shared_ptr<AwsCredentialSource> credentials,
                   Options options, HttpUrl endpoint)
    : location_(std::move(location)),
      credentials_(std::move(credentials)),
      options_(options),
      endpoint_(std::move(endpoint)) {
  HttpClient::Options o;
  o.timeout = std::chrono::milliseconds(options_.timeout);
  o.max_response_bytes = 1ull << 31;
  http_ = std::make_unique<HttpClient>(endpoint_, o);
}

absl::StatusOr<std::unique_ptr<S3Client>> S3Client::Create(
    const S3Location& location, std::shared_ptr<AwsCredentialSource> credentials, Options options) {
  absl::StatusOr<HttpUrl> endpoint = HttpUrl::Parse(location.endpoint);
  if (!endpoint.ok()) return endpoint.status();
  if (options.part_size < (5u << 20)) options.part_size = 5u << 20;
  return std::unique_ptr<S3Client>(
      new S3Client(location, std::move(credentials), options, *std::move(endpoint)));
}

absl::StatusOr<HttpClientResponse> S3Client::Send(std::string_view method, std::string_view key,
                                                  std::string_view query, std::string_view body,
                                                  std::string_view what) {
  std::string target = StrCat("/", location_.bucket);
  if (!key.empty()) StrAppend(&target, "/", key);
  if (!query.empty()) StrAppend(&target, "?", query);
  const std::string where = StrCat(location_.ToString(), " (", what, ")");
  absl::StatusOr<AwsCredentials> credentials = credentials_->Get();
  if (!credentials.ok()) {
    return absl::Status(credentials.status().code(),
                        StrCat(where, ": ", std::string(credentials.status().message())));
  }
  HttpHeaders headers = {{"Host", StrCat(endpoint_.host, ":", endpoint_.port)}};
  SignV4(*credentials, {location_.region, "s3"}, method, target, body, WallClockMs(), &headers,
         {.content_sha256_header = true});
  ++requests_;
  absl::StatusOr<HttpClientResponse> r = http_->Send(method, target, body, headers);
  if (!r.ok()) {
    http_->Close();
    return absl::UnavailableError(StrCat(where, ": ", std::string(r.status().message())));
  }
  if (r->status >= 200 && r->status < 300) return r;
  const std::string code = XmlText(r->body, "Code"), message = XmlText(r->body, "Message");
  const std::string why = StrCat(where, ": HTTP ", r->status, code.empty() ? "" : StrCat(" ", code),
                                 message.empty() ? "" : StrCat(": ", message));
  if (r->status >= 500 || r->status == 429 || code == "SlowDown") {
    return absl::UnavailableError(why);
  }
  if (r->status == 401 || r->status == 403) return absl::PermissionDeniedError(why);
  if (r->status == 404) return absl::NotFoundError(why);
  return absl::InvalidArgumentError(why);
}

absl::Status S3Client::Put(std::string_view key, std::string_view body) {
  if (!ValidS3Key(key))
    return absl::InvalidArgumentError(StrCat("S3 key '", key, "' is not valid"));
  if (body.size() > options_.multipart_threshold) return PutMultipart(key, body);
  return Send("PUT", key, "", body, StrCat("PUT ", key)).status();
}

absl::Status S3Client::PutMultipart(std::string_view key, std::string_view body) {
  absl::StatusOr<HttpClientResponse> start =
      Send("POST", key, "uploads=", "", StrCat("multipart upload of ", key));
  if (!start.ok()) return start.status();
  const std::string upload = XmlText(start->body, "UploadId");
  if (upload.empty()) {
    return absl::InvalidArgumentError(
        StrCat(location_.ToString(), ": no UploadId in the answer to a multipart upload"));
  }
  const std::string id = PercentEncode(upload);
  std::string complete = "<CompleteMultipartUpload>";
  int part = 0;
  for (size_t at = 0; at < body.size(); at += options_.part_size) {
    ++part;
    absl::StatusOr<HttpClientResponse> r =
        Send("PUT", key, StrCat("partNumber=", part, "&uploadId=", id),
             body.substr(at, options_.part_size), StrCat("part ", part, " of ", key));
    if (!r.ok()) {
      (void)Send("DELETE", key, StrCat("uploadId=", id), "", StrCat("abort of ", key));
      return r.status();
    }
    std::string etag(r->Header("ETag"));
    StrAppend(&complete, "<Part><PartNumber>", part, "</PartNumber><ETag>", etag, "</ETag></Part>");
  }
  complete += "</CompleteMultipartUpload>";
  absl::StatusOr<HttpClientResponse> done =
      Send("POST", key, StrCat("uploadId=", id), complete, StrCat("completion of ", key));
  if (!done.ok()) {
    (void)Send("DELETE", key, StrCat("uploadId=", id), "", StrCat("abort of ", key));
    return done.status();
  }
  // S3 may answer 200 with an error document.
  if (const std::string code = XmlText(done->body, "Code"); !code.empty()) {
    return absl::UnavailableError(StrCat(location_.ToString(), " (completion of ", key, "): ", code,
                                         ": ", XmlText(done->body, "Message")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> S3Client::Get(std::string_view key) {
  if (!ValidS3Key(key))
    return absl::InvalidArgumentError(StrCat("S3 key '", key, "' is not valid"));
  absl::StatusOr<HttpClientResponse> r = Send("GET", key, "", "", StrCat("GET ", key));
  if (!r.ok()) return r.status();
  return std::move(r->body);
}

absl::Status S3Client::Delete(std::string_view key) {
  if (!ValidS3Key(key))
    return absl::InvalidArgumentError(StrCat("S3 key '", key, "' is not valid"));
  return Send("DELETE", key, "", "", StrCat("DELETE ", key)).status();
}

absl::StatusOr<std::vector<S3Object>> S3Client::List(std::string_view prefix) {
  // ListObjects (version 1), a page after the last key of the page before:
  // what AWS and every S3-compatible store answer alike.
  std::vector<S3Object> out;
  std::string marker;
  while (true) {
    std::string query = StrCat("prefix=", PercentEncode(prefix));
    if (!marker.empty()) StrAppend(&query, "&marker=", PercentEncode(marker));
    absl::StatusOr<HttpClientResponse> r = Send("GET", "", query, "", StrCat("LIST ", prefix));
    if (!r.ok()) return r.status();
    const size_t before = out.size();
    for (size_t at = r->body.find("<Contents>"); at != std::string::npos;
         at = r->body.find("<Contents>", at + 1)) {
      const size_t close = r->body.find("</Contents>", at);
      if (close == std::string::npos) break;
      const std::string_view item(r->body.data() + at, close - at);
      out.push_back(
          {XmlText(item, "Key"), std::strtoull(XmlText(item, "Size").c_str(), nullptr, 10)});
    }
    if (XmlText(r->body, "IsTruncated") != "true" || out.size() == before) break;
    marker = out.back().key;
  }
  return out;
}

absl::Status S3Client::CheckBucket() {
  // A one-key listing: it needs the bucket and the right to read it.
  return Send("GET", "", "max-keys=1", "", "LIST").status();
}

}  // namespace vigil
