#include "operators/net/kinesis_writer.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace vigil {
namespace {

constexpr size_t kMaxRecordBytes = 1 << 20;  // data plus partition key
constexpr size_t kMaxKeyChars = 256;

size_t Utf8Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<KinesisUrl> ParseKinesisUrl(std::string_view url) {
  std::string_view rest = url;
  if (!ConsumePrefix(&rest, "kinesis://")) {
    return absl::InvalidArgumentError(StrCat("not a kinesis:// URL: ", url));
  }
  KinesisUrl out;
  const size_t q = rest.find('?');
  out.stream = Unescape(rest.substr(0, q));
  if (!out.stream.empty() && out.stream.back() == '/') out.stream.pop_back();
  if (out.stream.empty()) return absl::InvalidArgumentError(StrCat("no stream in ", url));
  if (q == std::string_view::npos) return out;
  for (std::string_view param : StrSplit(rest.substr(q + 1), '&')) {
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string value = eq == std::string_view::npos ? "" : Unescape(param.substr(eq + 1));
    if (name == "endpoint") {
      out.endpoint = value;
    } else if (name == "region") {
      out.region = value;
    } else {
      return absl::InvalidArgumentError(
          StrCat("unknown parameter '", name, "' in ", url, " (expected endpoint, region)"));
    }
  }
  return out;
}

KinesisWriter::KinesisWriter(KinesisWriterOptions options, std::unique_ptr<KinesisClient> client)
    : options_(std::move(options)), client_(std::move(client)), rng_(std::random_device{}()) {}

absl::StatusOr<std::unique_ptr<KinesisWriter>> KinesisWriter::Open(KinesisWriterOptions options) {
  if (options.stream.empty()) return absl::InvalidArgumentError("kinesis: no stream name");
  if (options.max_batch_records < 1 || options.max_batch_records > 500 ||
      options.max_batch_bytes < kMaxRecordBytes || options.max_batch_bytes > (5u << 20)) {
    return absl::InvalidArgumentError("kinesis: batches hold 1 to 500 records and 1 to 5 MiB");
  }
  KinesisClientOptions client_options;
  client_options.endpoint = options.endpoint;
  client_options.region = options.region;
  client_options.credentials = options.credentials;
  client_options.timeout = std::chrono::milliseconds(options.request_timeout);
  absl::StatusOr<std::unique_ptr<KinesisClient>> client = KinesisClient::Open(client_options);
  if (!client.ok()) return client.status();
  return std::unique_ptr<KinesisWriter>(new KinesisWriter(std::move(options), std::move(*client)));
}

absl::Status KinesisWriter::Write(std::string_view partition_key, std::string_view data) {
  if (partition_key.empty() || Utf8Chars(partition_key) > kMaxKeyChars) {
    return absl::InvalidArgumentError(
        StrCat("kinesis: a partition key has 1 to 256 characters, not ", Utf8Chars(partition_key)));
  }
  if (data.size() + partition_key.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(
        StrCat("kinesis: a record holds at most 1 MiB, not ", data.size(), " bytes"));
  }
  pending_.push_back({std::string(partition_key), std::string(data)});
  pending_bytes_ += partition_key.size() + data.size();
  if (pending_.size() >= options_.max_batch_records || pending_bytes_ >= options_.max_batch_bytes) {
    return SendBatch();
  }
  return absl::OkStatus();
}

absl::Status KinesisWriter::Flush() {
  while (!pending_.empty()) {
    absl::Status s = SendBatch();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status KinesisWriter::SendBatch() {
  // A batch that comes back failed in whole or in part is sent again until
  // records land, up to max_attempts fruitless attempts in a row.
  while (true) {
    std::vector<KinesisPutEntry> entries;
    size_t bytes = 0;
    for (const Pending& p : pending_) {
      const size_t size = p.key.size() + p.data.size();
      if (entries.size() == options_.max_batch_records ||
          (!entries.empty() && bytes + size > options_.max_batch_bytes)) {
        break;
      }
      entries.push_back({p.key, p.data});
      bytes += size;
    }
    if (entries.empty()) return absl::OkStatus();
    ++stats_.put_calls;
    absl::StatusOr<KinesisPutResult> r = client_->PutRecords(options_.stream, entries);
    if (!r.ok()) {
      const KinesisErrorKind kind = KinesisErrorOf(r.status());
      if (!IsRetryableKinesisError(kind)) return r.status();
      if (++failures_ >= options_.max_attempts) {
        failures_ = 0;
        return absl::UnavailableError(
            StrCat("kinesis: PutRecords failed ", options_.max_attempts,
                   " times in a row: ", std::string(r.status().message())));
      }
      ++stats_.calls_retried;
      Sleep(failures_);
      continue;
    }
    // Keep the failed records, in order, at the front.
    std::deque<Pending> failed;
    size_t landed = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      Pending& p = pending_.front();
      pending_bytes_ -= p.key.size() + p.data.size();
      if (r->records[i].ok()) {
        ++landed;
      } else {
        failed.push_back(std::move(p));
      }
      pending_.pop_front();
    }
    stats_.records_written += landed;
    if (failed.empty()) {
      failures_ = 0;
      return absl::OkStatus();
    }
    stats_.records_retried += failed.size();
    for (auto it = failed.rbegin(); it != failed.rend(); ++it) {
      pending_bytes_ += it->key.size() + it->data.size();
      pending_.push_front(std::move(*it));
    }
    failures_ = landed > 0 ? 1 : failures_ + 1;
    if (failures_ >= options_.max_attempts) {
      failures_ = 0;
      return absl::UnavailableError(StrCat("kinesis: PutRecords failed every record ",
                                           options_.max_attempts, " times in a row"));
    }
    Sleep(failures_);
  }
}

void KinesisWriter::Sleep(int failures) {
  const int64_t cap =
      std::min<int64_t>(options_.backoff_max, options_.backoff_base << std::min(failures - 1, 20));
  const int64_t ms = std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(cap, 1))(rng_);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace vigil
