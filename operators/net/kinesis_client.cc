#include "operators/net/kinesis_client.h"

#include <simdjson.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "absl/strings/cord.h"
#include "base/strings.h"

namespace vigil {

static_assert(kKinesisRecordPadding >= simdjson::SIMDJSON_PADDING);

namespace {

constexpr char kErrorPayload[] = "vigil/kinesis-error";

constexpr std::string_view kKindNames[] = {
    "None",          "Throttled",       "LimitExceeded", "ExpiredIterator", "ResourceNotFound",
    "ResourceInUse", "InvalidArgument", "AccessDenied",  "Server",          "Transport",
};

absl::Status WithKind(absl::StatusCode code, KinesisErrorKind kind, std::string message) {
  absl::Status s(code, absl::string_view(message.data(), message.size()));
  const std::string_view name = KinesisErrorName(kind);
  s.SetPayload(kErrorPayload, absl::Cord(absl::string_view(name.data(), name.size())));
  return s;
}

KinesisErrorKind KindOfType(std::string_view type, int http_status) {
  if (type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
      type == "KMSThrottlingException" || http_status == 429) {
    return KinesisErrorKind::kThrottled;
  }
  if (type == "LimitExceededException") return KinesisErrorKind::kLimitExceeded;
  if (type == "ExpiredIteratorException" || type == "ExpiredNextTokenException") {
    return KinesisErrorKind::kExpiredIterator;
  }
  if (type == "ResourceNotFoundException") return KinesisErrorKind::kResourceNotFound;
  if (type == "ResourceInUseException") return KinesisErrorKind::kResourceInUse;
  if (type == "AccessDeniedException" || type == "UnrecognizedClientException" ||
      type == "InvalidSignatureException" || type == "IncompleteSignature" ||
      type == "MissingAuthenticationToken" || type == "ExpiredTokenException" ||
      http_status == 401 || http_status == 403) {
    return KinesisErrorKind::kAccessDenied;
  }
  if (http_status >= 500 || type == "InternalFailure" || type == "ServiceUnavailable" ||
      type == "InternalFailureException") {
    return KinesisErrorKind::kServer;
  }
  return KinesisErrorKind::kInvalidArgument;
}

absl::StatusCode CodeOf(KinesisErrorKind kind) {
  switch (kind) {
    case KinesisErrorKind::kNone:
      return absl::StatusCode::kOk;
    case KinesisErrorKind::kThrottled:
    case KinesisErrorKind::kLimitExceeded:
      return absl::StatusCode::kResourceExhausted;
    case KinesisErrorKind::kExpiredIterator:
    case KinesisErrorKind::kResourceInUse:
      return absl::StatusCode::kFailedPrecondition;
    case KinesisErrorKind::kResourceNotFound:
      return absl::StatusCode::kNotFound;
    case KinesisErrorKind::kInvalidArgument:
      return absl::StatusCode::kInvalidArgument;
    case KinesisErrorKind::kAccessDenied:
      return absl::StatusCode::kPermissionDenied;
    case KinesisErrorKind::kServer:
    case KinesisErrorKind::kTransport:
      return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kUnknown;
}

TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view Str(simdjson::dom::element e, std::string_view key) {
  std::string_view v;
  if (e[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

// A JSON body's root object, or an error naming the operation.
absl::StatusOr<simdjson::dom::element> ParseBody(simdjson::dom::parser* parser,
                                                 const std::string& body,
                                                 std::string_view operation) {
  simdjson::dom::element root;
  if (parser->parse(body).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return WithKind(absl::StatusCode::kUnavailable, KinesisErrorKind::kServer,
                    StrCat(operation, ": malformed response: ", body.substr(0, 200)));
  }
  return root;
}

void AppendTimestampSeconds(TimeMs t, std::string* out) {
  StrAppend(out, FloorDiv(t, 1000), ".");
  const int64_t ms = t - FloorDiv(t, 1000) * 1000;
  if (ms < 100) out->push_back('0');
  if (ms < 10) out->push_back('0');
  StrAppend(out, ms);
}

const char* IteratorTypeName(KinesisIteratorSpec::Type t) {
  switch (t) {
    case KinesisIteratorSpec::Type::kTrimHorizon:
      return "TRIM_HORIZON";
    case KinesisIteratorSpec::Type::kLatest:
      return "LATEST";
    case KinesisIteratorSpec::Type::kAtTimestamp:
      return "AT_TIMESTAMP";
    case KinesisIteratorSpec::Type::kAtSequenceNumber:
      return "AT_SEQUENCE_NUMBER";
    case KinesisIteratorSpec::Type::kAfterSequenceNumber:
      return "AFTER_SEQUENCE_NUMBER";
  }
  return "TRIM_HORIZON";
}

KinesisShard ParseShard(simdjson::dom::element s) {
  KinesisShard shard;
  shard.shard_id = Str(s, "ShardId");
  shard.parent_shard_id = Str(s, "ParentShardId");
  shard.adjacent_parent_shard_id = Str(s, "AdjacentParentShardId");
  shard.starting_hash_key = Str(s["HashKeyRange"], "StartingHashKey");
  shard.ending_hash_key = Str(s["HashKeyRange"], "EndingHashKey");
  shard.starting_sequence_number = Str(s["SequenceNumberRange"], "StartingSequenceNumber");
  shard.ending_sequence_number = Str(s["SequenceNumberRange"], "EndingSequenceNumber");
  return shard;
}

// Decodes one record into the batch's buffer.
bool AppendRecord(simdjson::dom::element r, KinesisRecords* out) {
  KinesisRecords::Entry e;
  e.offset = out->bytes.size();
  if (!internal::DecodeBase64(Str(r, "Data"), &out->bytes)) return false;
  e.size = out->bytes.size() - e.offset;
  out->bytes.append(kKinesisRecordPadding, '\0');
  e.sequence_number = Str(r, "SequenceNumber");
  e.partition_key = Str(r, "PartitionKey");
  double arrival = 0;
  if (r["ApproximateArrivalTimestamp"].get_double().get(arrival) == simdjson::SUCCESS) {
    // Seconds in the JSON protocol; some emulators send milliseconds.
    e.arrival = static_cast<TimeMs>(std::llround(arrival < 1e11 ? arrival * 1000 : arrival));
  }
  out->records.push_back(std::move(e));
  return true;
}

thread_local simdjson::dom::parser tls_parser;

}  // namespace

KinesisErrorKind KinesisErrorOf(const absl::Status& status) {
  if (status.ok()) return KinesisErrorKind::kNone;
  if (auto p = status.GetPayload(kErrorPayload)) {
    const std::string name(*p);
    for (size_t i = 0; i < std::size(kKindNames); ++i) {
      if (kKindNames[i] == name) return static_cast<KinesisErrorKind>(i);
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      return KinesisErrorKind::kThrottled;
    case absl::StatusCode::kUnavailable:
      return KinesisErrorKind::kTransport;
    case absl::StatusCode::kNotFound:
      return KinesisErrorKind::kResourceNotFound;
    case absl::StatusCode::kPermissionDenied:
      return KinesisErrorKind::kAccessDenied;
    default:
      return KinesisErrorKind::kInvalidArgument;
  }
}

std::string_view KinesisErrorName(KinesisErrorKind kind) {
  return kKindNames[static_cast<size_t>(kind)];
}

bool IsRetryableKinesisError(KinesisErrorKind kind) {
  return kind == KinesisErrorKind::kThrottled || kind == KinesisErrorKind::kLimitExceeded ||
         kind == KinesisErrorKind::kServer || kind == KinesisErrorKind::kTransport;
}

int CompareSequenceNumbers(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a[0] == '0') a.remove_prefix(1);
  while (b.size() > 1 && b[0] == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

KinesisClient::KinesisClient(HttpUrl url, std::string endpoint, std::string region,
                             std::shared_ptr<AwsCredentialSource> credentials,
                             HttpClient::Options http_options)
    : url_(std::move(url)),
      endpoint_(std::move(endpoint)),
      region_(std::move(region)),
      credentials_(std::move(credentials)),
      http_(std::make_unique<HttpClient>(url_, http_options)) {
  // The value HttpClient sends, so that the signed Host is the one received.
  const bool v6 = url_.host.find(':') != std::string::npos;
  const bool default_port = url_.port == (url_.tls ? 443 : 80);
  host_header_ =
      StrCat(v6 ? "[" : "", url_.host, v6 ? "]" : "", default_port ? "" : StrCat(":", url_.port));
}

KinesisClient::~KinesisClient() = default;

absl::StatusOr<std::unique_ptr<KinesisClient>> KinesisClient::Open(KinesisClientOptions options) {
  std::string region = ResolveAwsRegion(options.region);
  std::string endpoint = options.endpoint.empty()
                             ? StrCat("https://kinesis.", region, ".amazonaws.com")
                             : options.endpoint;
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(endpoint);
  if (!url.ok()) return url.status();
  std::shared_ptr<AwsCredentialSource> creds;
  if (options.credentials) {
    creds = AwsCredentialSource::Fixed(*options.credentials);
  } else {
    absl::StatusOr<std::shared_ptr<AwsCredentialSource>> env =
        AwsCredentialSource::FromEnvironment();
    if (env.ok()) {
      creds = std::move(*env);
    } else if (!options.endpoint.empty() && absl::IsFailedPrecondition(env.status()) &&
               std::getenv("AWS_ACCESS_KEY_ID") == nullptr) {
      creds = AwsCredentialSource::Fixed({"vigil-local", "vigil-local", ""});
    } else {
      return absl::FailedPreconditionError(StrCat("kinesis: no AWS credentials for ", endpoint,
                                                  ": ", std::string(env.status().message())));
    }
  }
  HttpClient::Options http_options;
  http_options.timeout = options.timeout;
  http_options.verify_tls = options.verify_tls;
  return std::unique_ptr<KinesisClient>(new KinesisClient(
      std::move(*url), std::move(endpoint), std::move(region), std::move(creds), http_options));
}

absl::StatusOr<std::string> KinesisClient::Call(std::string_view operation, std::string_view body) {
  HttpHeaders headers = {{"Host", host_header_},
                         {"Content-Type", "application/x-amz-json-1.1"},
                         {"X-Amz-Target", StrCat("Kinesis_20131202.", operation)}};
  absl::StatusOr<AwsCredentials> credentials = credentials_->Get();
  if (!credentials.ok()) {
    return WithKind(absl::StatusCode::kUnavailable, KinesisErrorKind::kTransport,
                    StrCat(operation, ": ", std::string(credentials.status().message())));
  }
  SignV4(*credentials, {region_, "kinesis"}, "POST", "/", body, NowMs(), &headers);
  absl::StatusOr<HttpClientResponse> r = http_->Send("POST", "/", body, headers);
  if (!r.ok()) {
    return WithKind(absl::StatusCode::kUnavailable, KinesisErrorKind::kTransport,
                    StrCat(operation, ": ", std::string(r.status().message())));
  }
  if (r->status / 100 != 2) return internal::KinesisErrorStatus(r->status, r->body, operation);
  return std::move(r->body);
}

absl::StatusOr<std::vector<KinesisShard>> KinesisClient::ListShards(std::string_view stream,
                                                                    std::string* next_token,
                                                                    int max_results) {
  std::string body = "{";
  if (next_token->empty()) {
    internal::AppendStreamField(stream, &body);
  } else {
    body += "\"NextToken\":";
    AppendJsonString(*next_token, &body);
  }
  if (max_results > 0) StrAppend(&body, ",\"MaxResults\":", max_results);
  body += "}";
  absl::StatusOr<std::string> resp = Call("ListShards", body);
  if (!resp.ok()) return resp.status();
  absl::StatusOr<simdjson::dom::element> root = ParseBody(&tls_parser, *resp, "ListShards");
  if (!root.ok()) return root.status();
  std::vector<KinesisShard> shards;
  simdjson::dom::array list;
  if ((*root)["Shards"].get_array().get(list) == simdjson::SUCCESS) {
    for (simdjson::dom::element s : list) shards.push_back(ParseShard(s));
  }
  *next_token = std::string(Str(*root, "NextToken"));
  return shards;
}

absl::StatusOr<std::vector<KinesisShard>> KinesisClient::ListAllShards(std::string_view stream,
                                                                       int page_size) {
  std::vector<KinesisShard> all;
  std::string token;
  do {
    absl::StatusOr<std::vector<KinesisShard>> page = ListShards(stream, &token, page_size);
    if (!page.ok()) return page.status();
    for (KinesisShard& s : *page) all.push_back(std::move(s));
  } while (!token.empty());
  return all;
}

absl::StatusOr<std::string> KinesisClient::GetShardIterator(std::string_view stream,
                                                            std::string_view shard_id,
                                                            const KinesisIteratorSpec& spec) {
  std::string body = "{";
  internal::AppendStreamField(stream, &body);
  body += ",\"ShardId\":";
  AppendJsonString(shard_id, &body);
  StrAppend(&body, ",\"ShardIteratorType\":\"", IteratorTypeName(spec.type), "\"");
  if (spec.type == KinesisIteratorSpec::Type::kAtSequenceNumber ||
      spec.type == KinesisIteratorSpec::Type::kAfterSequenceNumber) {
    body += ",\"StartingSequenceNumber\":";
    AppendJsonString(spec.sequence_number, &body);
  }
  if (spec.type == KinesisIteratorSpec::Type::kAtTimestamp) {
    body += ",\"Timestamp\":";
    AppendTimestampSeconds(spec.timestamp, &body);
  }
  body += "}";
  absl::StatusOr<std::string> resp = Call("GetShardIterator", body);
  if (!resp.ok()) return resp.status();
  absl::StatusOr<simdjson::dom::element> root = ParseBody(&tls_parser, *resp, "GetShardIterator");
  if (!root.ok()) return root.status();
  std::string_view it = Str(*root, "ShardIterator");
  if (it.empty()) {
    return WithKind(absl::StatusCode::kUnavailable, KinesisErrorKind::kServer,
                    "GetShardIterator: response without ShardIterator");
  }
  return std::string(it);
}

absl::StatusOr<KinesisRecords> KinesisClient::GetRecords(std::string_view iterator, int limit) {
  std::string body = "{\"ShardIterator\":";
  AppendJsonString(iterator, &body);
  if (limit > 0) StrAppend(&body, ",\"Limit\":", limit);
  body += "}";
  absl::StatusOr<std::string> resp = Call("GetRecords", body);
  if (!resp.ok()) return resp.status();
  absl::StatusOr<simdjson::dom::element> root = ParseBody(&tls_parser, *resp, "GetRecords");
  if (!root.ok()) return root.status();
  KinesisRecords out;
  out.bytes.reserve(resp->size() * 3 / 4 + 4096);
  simdjson::dom::array list;
  if ((*root)["Records"].get_array().get(list) == simdjson::SUCCESS) {
    for (simdjson::dom::element r : list) {
      if (!AppendRecord(r, &out)) {
        return WithKind(absl::StatusCode::kUnavailable, KinesisErrorKind::kServer,
                        "GetRecords: record Data is not base64");
      }
    }
  }
  out.next_shard_iterator = Str(*root, "NextShardIterator");
  int64_t behind = -1;
  if ((*root)["MillisBehindLatest"].get_int64().get(behind) == simdjson::SUCCESS) {
    out.millis_behind_latest = behind;
  }
  simdjson::dom::array children;
  if ((*root)["ChildShards"].get_array().get(children) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : children) {
      KinesisRecords::ChildShard child;
      child.shard_id = Str(c, "ShardId");
      simdjson::dom::array parents;
      if (c["ParentShards"].get_array().get(parents) == simdjson::SUCCESS) {
        for (simdjson::dom::element p : parents) {
          std::string_view id;
          if (p.get_string().get(id) == simdjson::SUCCESS) child.parent_shards.emplace_back(id);
        }
      }
      out.child_shards.push_back(std::move(child));
    }
  }
  return out;
}

absl::StatusOr<KinesisPutResult> KinesisClient::PutRecords(
    std::string_view stream, const std::vector<KinesisPutEntry>& entries) {
  std::string body = "{";
  internal::AppendStreamField(stream, &body);
  body += ",\"Records\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    body += i ? ",{\"Data\":\"" : "{\"Data\":\"";
    internal::AppendBase64(entries[i].data, &body);
    body += "\",\"PartitionKey\":";
    AppendJsonString(entries[i].partition_key, &body);
    body += "}";
  }
  body += "]}";
  absl::StatusOr<std::string> resp = Call("PutRecords", body);
  if (!resp.ok()) return resp.status();
  absl::StatusOr<simdjson::dom::element> root = ParseBody(&tls_parser, *resp, "PutRecords");
  if (!root.ok()) return root.status();
  KinesisPutResult out;
  int64_t failed = 0;
  if ((*root)["FailedRecordCount"].get_int64().get(failed)) failed = 0;
  out.failed_record_count = static_cast<int>(failed);
  simdjson::dom::array list;
  if ((*root)["Records"].get_array().get(list) == simdjson::SUCCESS) {
    for (simdjson::dom::element r : list) {
      KinesisPutResult::Entry e;
      e.sequence_number = Str(r, "SequenceNumber");
      e.shard_id = Str(r, "ShardId");
      e.error_code = Str(r, "ErrorCode");
      e.error_message = Str(r, "ErrorMessage");
      out.records.push_back(std::move(e));
    }
  }
  if (out.records.size() != entries.size()) {
    return WithKind(
        absl::StatusCode::kUnavailable, KinesisErrorKind::kServer,
        StrCat("PutRecords: ", out.records.size(), " results for ", entries.size(), " records"));
  }
  return out;
}

absl::StatusOr<KinesisStreamSummary> KinesisClient::DescribeStreamSummary(std::string_view stream) {
  std::string body = "{";
  internal::AppendStreamField(stream, &body);
  body += "}";
  absl::StatusOr<std::string> resp = Call("DescribeStreamSummary", body);
  if (!resp.ok()) return resp.status();
  absl::StatusOr<simdjson::dom::element> root =
      ParseBody(&tls_parser, *resp, "DescribeStreamSummary");
  if (!root.ok()) return root.status();
  simdjson::dom::element d = (*root)["StreamDescriptionSummary"];
  KinesisStreamSummary s;
  s.stream_name = Str(d, "StreamName");
  s.stream_arn = Str(d, "StreamARN");
  s.status = Str(d, "StreamStatus");
  int64_t open = 0;
  if (d["OpenShardCount"].get_int64().get(open)) open = 0;
  s.open_shard_count = static_cast<int>(open);
  return s;
}

absl::Status KinesisClient::CreateStream(std::string_view stream, int shard_count) {
  std::string body = "{\"StreamName\":";
  AppendJsonString(stream, &body);
  StrAppend(&body, ",\"ShardCount\":", shard_count, "}");
  return Call("CreateStream", body).status();
}

absl::Status KinesisClient::SplitShard(std::string_view stream, std::string_view shard_id,
                                       std::string_view new_starting_hash_key) {
  std::string body = "{";
  internal::AppendStreamField(stream, &body);
  body += ",\"ShardToSplit\":";
  AppendJsonString(shard_id, &body);
  body += ",\"NewStartingHashKey\":";
  AppendJsonString(new_starting_hash_key, &body);
  body += "}";
  return Call("SplitShard", body).status();
}

absl::Status KinesisClient::MergeShards(std::string_view stream, std::string_view shard_id,
                                        std::string_view adjacent_shard_id) {
  std::string body = "{";
  internal::AppendStreamField(stream, &body);
  body += ",\"ShardToMerge\":";
  AppendJsonString(shard_id, &body);
  body += ",\"AdjacentShardToMerge\":";
  AppendJsonString(adjacent_shard_id, &body);
  body += "}";
  return Call("MergeShards", body).status();
}

absl::Status KinesisClient::WaitForActive(std::string_view stream,
                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  absl::Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<KinesisStreamSummary> s = DescribeStreamSummary(stream);
    if (s.ok() && s->status == "ACTIVE") return absl::OkStatus();
    last =
        s.ok() ? absl::UnavailableError(StrCat("stream ", stream, " is ", s->status)) : s.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(StrCat("stream ", stream, " not ACTIVE after ",
                                            timeout.count(), " ms: ", std::string(last.message())));
}

namespace internal {

void AppendStreamField(std::string_view stream, std::string* out) {
  *out += stream.substr(0, 4) == "arn:" ? "\"StreamARN\":" : "\"StreamName\":";
  AppendJsonString(stream, out);
}

absl::Status KinesisErrorStatus(int http_status, std::string_view body,
                                std::string_view operation) {
  std::string type, message;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string copy(body);
  if (parser.parse(copy).get(root) == simdjson::SUCCESS && root.is_object()) {
    type = Str(root, "__type");
    message = Str(root, "message");
    if (message.empty()) message = Str(root, "Message");
  }
  // "com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException"
  if (const size_t hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
  const KinesisErrorKind kind = KindOfType(type, http_status);
  return WithKind(
      CodeOf(kind), kind,
      StrCat(operation, ": HTTP ", http_status, " ", type.empty() ? "error" : type,
             message.empty() ? "" : ": ", message,
             type.empty() && message.empty() ? StrCat(" ", body.substr(0, 200)) : std::string()));
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  out->reserve(out->size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                          kAlphabet[v & 63]};
    out->append(quad, 4);
  }
  if (i < n) {
    const uint32_t v = (p[i] << 16) | (i + 1 < n ? p[i + 1] << 8 : 0);
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

bool DecodeBase64(std::string_view text, std::string* out) {
  static const auto kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out->reserve(out->size() + text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = kTable[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace internal
}  // namespace vigil
