#include "operators/source/kinesis_source.h"

#include <simdjson.h>

#include <chrono>

#include "base/hash.h"
#include "base/strings.h"
#include "operators/source/kinesis_fetcher.h"

namespace vigil {

using internal::KinesisBatch;
using internal::KinesisInput;
using internal::KinesisPosition;

int KinesisShardOwner(std::string_view shard_id, int instance_count) {
  int best = 0;
  uint64_t best_weight = 0;
  for (int i = 0; i < instance_count; ++i) {
    const uint64_t w = HashBytes(StrCat(i, "/", shard_id));
    if (i == 0 || w > best_weight) {
      best = i;
      best_weight = w;
    }
  }
  return best;
}

KinesisSource::KinesisSource(KinesisSourceOptions options)
    : options_(std::move(options)),
      name_(StrCat("kinesis:", options_.stream)),
      shared_(std::make_unique<internal::KinesisShared>()) {}

KinesisSource::~KinesisSource() {
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->stop = true;
    shared_->wake_cv.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<KinesisSource>> OpenKinesisSource(KinesisSourceOptions options) {
  if (options.stream.empty()) return absl::InvalidArgumentError("kinesis: no stream name");
  if (options.instance_count < 1 || options.instance_index < 0 ||
      options.instance_index >= options.instance_count) {
    return absl::InvalidArgumentError(StrCat("kinesis: instance index ", options.instance_index,
                                             " is not in [0, ", options.instance_count, ")"));
  }
  if (options.max_records_per_call < 1 || options.max_records_per_call > 10000) {
    return absl::InvalidArgumentError("kinesis: max_records_per_call must be in [1, 10000]");
  }
  if (options.poll_interval < 0 || options.discovery_interval <= 0 || options.idle_sleep < 0 ||
      options.backoff_base <= 0 || options.backoff_max < options.backoff_base) {
    return absl::InvalidArgumentError("kinesis: intervals must be positive");
  }
  KinesisClientOptions client_options;
  client_options.endpoint = options.endpoint;
  client_options.region = options.region;
  client_options.credentials = options.credentials;
  client_options.timeout = std::chrono::milliseconds(options.request_timeout);
  absl::StatusOr<std::unique_ptr<KinesisClient>> client = KinesisClient::Open(client_options);
  if (!client.ok()) return client.status();
  std::unique_ptr<KinesisSource> source(new KinesisSource(std::move(options)));
  source->fetcher_ = std::make_unique<internal::KinesisFetcher>(
      source->options_, std::move(*client), source->shared_.get());
  return source;
}

bool ParseKinesisStart(std::string_view s, KinesisSourceOptions* o) {
  if (s == "trim_horizon") {
    o->start = KinesisSourceOptions::Start::kTrimHorizon;
  } else if (s == "latest") {
    o->start = KinesisSourceOptions::Start::kLatest;
  } else if (std::optional<TimeMs> t = ParseRfc3339(s)) {
    o->start = KinesisSourceOptions::Start::kAtTimestamp;
    o->start_timestamp = *t;
  } else {
    return false;
  }
  return true;
}

bool KinesisSource::Next(std::vector<Record>* out, size_t max) {
  out->clear();
  // Started on the first call so that RestorePositions comes first.
  if (!thread_.joinable()) thread_ = std::thread([this] { fetcher_->Run(); });
  // The batches that backed the previous call's records are released now.
  retired_.clear();
  absl::ReleasableMutexLock lock(&shared_->mu);
  if (!shared_->fatal.ok()) return false;
  auto& queue = shared_->queue;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(options_.idle_sleep);
  while (queue.empty() && !shared_->stop && shared_->fatal.ok() &&
         !shared_->data_cv.WaitWithDeadline(&shared_->mu, deadline)) {
  }
  while (!queue.empty()) {
    KinesisBatch& b = *queue.front();
    KinesisInput& input = shared_->inputs[b.input];
    const size_t n = b.records.records.size();
    while (b.next < n && out->size() < max) {
      const KinesisRecords::Entry& e = b.records.records[b.next++];
      Record r;
      r.data = std::string_view(b.records.bytes.data() + e.offset, e.size);
      r.line = ++input.line;
      r.offset = 0;
      r.size = e.size;
      r.input = b.input;
      out->push_back(r);
      input.delivered_seq = e.sequence_number;
      shared_->bytes_read += e.size;
    }
    if (b.next < n) break;
    if (b.shard_end) input.finished = true;
    retired_.push_back(std::move(queue.front()));
    queue.pop_front();
  }
  shared_->queued_records -= out->size();
  shared_->stats.records += out->size();
  shared_->wake_cv.SignalAll();
  lock.Release();
  return !(out->empty() && options_.exit_at_end && CaughtUp());
}

absl::Status KinesisSource::status() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->fatal;
}

int KinesisSource::input_count() const {
  absl::MutexLock lock(&shared_->mu);
  return static_cast<int>(shared_->inputs.size());
}

std::string KinesisSource::input_name(int input) const {
  absl::MutexLock lock(&shared_->mu);
  if (input < 0 || input >= static_cast<int>(shared_->inputs.size())) return std::to_string(input);
  return shared_->inputs[input].shard_id;
}

std::vector<std::string> KinesisSource::AllInputs() {
  absl::MutexLock lock(&shared_->mu);
  return shared_->open_shards;
}

bool KinesisSource::input_active(int input) const {
  absl::MutexLock lock(&shared_->mu);
  if (input < 0 || input >= static_cast<int>(shared_->inputs.size())) return false;
  return !shared_->inputs[input].finished;
}

int64_t KinesisSource::input_lag(int input) const {
  absl::MutexLock lock(&shared_->mu);
  if (input < 0 || input >= static_cast<int>(shared_->inputs.size())) return -1;
  return shared_->inputs[input].lag;
}

bool KinesisSource::input_caught_up(int input) const {
  absl::MutexLock lock(&shared_->mu);
  if (input < 0 || input >= static_cast<int>(shared_->inputs.size())) return false;
  return shared_->inputs[input].caught_up;
}

bool KinesisSource::connected() const { return shared_->connected.load(); }

uint64_t KinesisSource::bytes_read() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->bytes_read;
}

bool KinesisSource::Drained() const {
  absl::MutexLock lock(&shared_->mu);
  if (!shared_->listed || shared_->needs_listing || shared_->queued_records > 0) return false;
  for (const KinesisInput& input : shared_->inputs) {
    if (!input.finished) return false;
  }
  return true;
}

bool KinesisSource::CaughtUp() const {
  absl::MutexLock lock(&shared_->mu);
  if (!shared_->listed || shared_->needs_listing || shared_->queued_records > 0) return false;
  for (const KinesisInput& input : shared_->inputs) {
    if (!input.finished && !input.caught_up) return false;
  }
  return true;
}

std::string KinesisSource::last_error() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->last_error;
}

KinesisSource::Stats KinesisSource::stats() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->stats;
}

std::string KinesisSource::SavePositions() const {
  absl::MutexLock lock(&shared_->mu);
  std::map<std::string, KinesisPosition> all = shared_->restored;
  for (const KinesisInput& input : shared_->inputs) {
    if (input.delivered_seq.empty() && !input.finished && input.start_at == 0) continue;
    all[input.shard_id] =
        KinesisPosition{input.delivered_seq, input.finished, input.start_at, input.line};
  }
  std::string out = "{\"v\":1,\"shards\":{";
  bool first = true;
  for (const auto& [id, pos] : all) {
    if (!first) out += ",";
    first = false;
    AppendJsonString(id, &out);
    out += ":{";
    if (!pos.seq.empty()) {
      out += "\"seq\":";
      AppendJsonString(pos.seq, &out);
    }
    std::string fields;
    if (pos.line > 0) StrAppend(&fields, ",\"line\":", pos.line);
    if (pos.seq.empty() && !pos.finished && pos.at > 0) StrAppend(&fields, ",\"at\":", pos.at);
    if (pos.finished) fields += ",\"done\":true";
    if (!fields.empty()) out += pos.seq.empty() ? fields.substr(1) : fields;
    out += "}";
  }
  out += "}}";
  return out;
}

bool KinesisSource::RestoredDone(std::string_view name) const {
  absl::MutexLock lock(&shared_->mu);
  auto it = shared_->restored.find(std::string(name));
  return it != shared_->restored.end() && it->second.finished;
}

absl::Status KinesisSource::RestorePositions(std::string_view positions) {
  if (thread_.joinable()) {
    return absl::FailedPreconditionError("kinesis: RestorePositions after the first Next");
  }
  if (Strip(positions).empty()) return absl::OkStatus();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string text(positions);
  simdjson::dom::object shards;
  if (parser.parse(text).get(root) != simdjson::SUCCESS ||
      root["shards"].get_object().get(shards) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat("kinesis positions: not a {\"shards\":{...}} object: ", text.substr(0, 200)));
  }
  std::map<std::string, KinesisPosition> restored;
  for (auto [key, value] : shards) {
    KinesisPosition pos;
    std::string_view seq;
    if (value["seq"].get_string().get(seq) == simdjson::SUCCESS) pos.seq = seq;
    bool done = false;
    if (value["done"].get_bool().get(done) == simdjson::SUCCESS) pos.finished = done;
    int64_t at = 0;
    if (value["at"].get_int64().get(at) == simdjson::SUCCESS && at > 0) pos.at = at;
    uint64_t line = 0;
    if (value["line"].get_uint64().get(line) == simdjson::SUCCESS) pos.line = line;
    if (pos.seq.empty() && !pos.finished && pos.at == 0) {
      return absl::InvalidArgumentError(StrCat("kinesis positions: shard ",
                                               std::string_view(key.data(), key.size()),
                                               " has neither seq, done nor at"));
    }
    restored[std::string(key.data(), key.size())] = std::move(pos);
  }
  absl::MutexLock lock(&shared_->mu);
  shared_->restored = std::move(restored);
  return absl::OkStatus();
}

}  // namespace vigil
