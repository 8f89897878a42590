#include "operators/source/kinesis_fetcher.h"

#include <algorithm>
#include <chrono>
#include <climits>

#include "base/clock.h"
#include "base/strings.h"

namespace vigil::internal {
namespace {

// The service allows 5 GetRecords calls per second per shard.
constexpr size_t kCallsPerSecond = 5;
constexpr int64_t kRateWindowMs = 1000;
// Longest the fetcher sleeps without looking at the clock again.
constexpr int64_t kMaxWaitMs = 100;

}  // namespace

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

KinesisFetcher::KinesisFetcher(const KinesisSourceOptions& options,
                               std::unique_ptr<KinesisClient> client, KinesisShared* shared)
    : options_(options),
      client_(std::move(client)),
      shared_(shared),
      rng_(std::random_device{}()) {}

void KinesisFetcher::Run() {
  while (true) {
    {
      absl::MutexLock lock(&shared_->mu);
      if (shared_->stop) return;
      if (shared_->needs_listing) next_listing_ = 0;
      // Fetch no further ahead of Next than the buffer allows.
      if (shared_->queued_records >= options_.max_buffered_records) {
        shared_->wake_cv.WaitWithTimeout(&shared_->mu, absl::Milliseconds(kMaxWaitMs));
        continue;
      }
    }
    int64_t now = SteadyMs();
    if (now >= next_listing_) {
      Discover();
      continue;
    }
    int64_t due = 0;
    Shard* s = NextDue(&due);
    if (s != nullptr && due <= now) {
      if (s->phase == Phase::kNeedIterator) {
        AcquireIterator(s);
      } else {
        Read(s);
      }
      continue;
    }
    const int64_t wait = std::clamp<int64_t>(std::min(due, next_listing_) - now, 1, kMaxWaitMs);
    absl::MutexLock lock(&shared_->mu);
    if (shared_->stop) return;
    shared_->wake_cv.WaitWithTimeout(&shared_->mu, absl::Milliseconds(wait));
  }
}

void KinesisFetcher::Discover() {
  {
    absl::MutexLock lock(&shared_->mu);
    ++shared_->stats.list_shards_calls;
  }
  absl::StatusOr<std::vector<KinesisShard>> listing =
      client_->ListAllShards(options_.stream, options_.list_shards_page_size);
  const int64_t now = SteadyMs();
  if (!listing.ok()) {
    NoteError(listing.status());
    next_listing_ = now + Backoff(&listing_failures_);
    return;
  }
  listing_failures_ = 0;
  shared_->connected = true;
  const bool first = !listed_once_;
  for (auto& [id, s] : shards_) s.listed = false;
  for (const KinesisShard& info : *listing) {
    auto it = shards_.find(info.shard_id);
    if (it == shards_.end()) {
      AddShard(info, first);
    } else {
      it->second.info = info;
      it->second.listed = true;
    }
  }
  listed_once_ = true;
  // A shard no longer listed has passed the retention period: nothing is
  // left to read in it.
  for (auto& [id, s] : shards_) {
    if (!s.listed && s.owned && s.phase != Phase::kFinished && s.input >= 0) {
      Queue(&s, KinesisRecords(), /*shard_end=*/true);
      s.phase = Phase::kFinished;
    }
  }
  ReleaseWaiting();
  next_listing_ = now + options_.discovery_interval;
  absl::MutexLock lock(&shared_->mu);
  // Restored shards past the retention period are forgotten.
  for (auto it = shared_->restored.begin(); it != shared_->restored.end();) {
    const auto s = shards_.find(it->first);
    it = s == shards_.end() || !s->second.listed ? shared_->restored.erase(it) : std::next(it);
  }
  shared_->listed = true;
  shared_->needs_listing = false;
  shared_->open_shards.clear();
  for (const KinesisShard& info : *listing) {
    if (!info.closed()) shared_->open_shards.push_back(info.shard_id);
  }
}

void KinesisFetcher::AddShard(const KinesisShard& info, bool first_listing) {
  Shard& s = shards_[info.shard_id];
  s.info = info;
  s.owned = KinesisShardOwner(info.shard_id, options_.instance_count) == options_.instance_index;
  absl::MutexLock lock(&shared_->mu);
  const auto restored = shared_->restored.find(info.shard_id);
  const bool parent_restored = shared_->restored.contains(info.parent_shard_id) ||
                               shared_->restored.contains(info.adjacent_parent_shard_id);
  if (first_listing && !parent_restored) {
    switch (options_.start) {
      case KinesisSourceOptions::Start::kTrimHorizon:
        s.start = KinesisIteratorSpec::TrimHorizon();
        break;
      case KinesisSourceOptions::Start::kLatest:
        // The time, not LATEST: a restart from a checkpoint written before
        // the shard's first record must start it at the same place.
        s.start = KinesisIteratorSpec::AtTimestamp(WallClockMs());
        break;
      case KinesisSourceOptions::Start::kAtTimestamp:
        s.start = KinesisIteratorSpec::AtTimestamp(options_.start_timestamp);
        break;
    }
  } else {
    s.start = KinesisIteratorSpec::TrimHorizon();
  }
  if (restored != shared_->restored.end()) {
    s.fetched_seq = restored->second.seq;
    if (restored->second.finished) s.phase = Phase::kFinished;
    if (restored->second.seq.empty() && restored->second.at > 0) {
      s.start = KinesisIteratorSpec::AtTimestamp(restored->second.at);
    }
  }
  if (!s.owned || s.phase == Phase::kFinished) return;
  s.input = static_cast<int>(shared_->inputs.size());
  KinesisInput input;
  input.shard_id = info.shard_id;
  input.delivered_seq = s.fetched_seq;
  if (s.start.type == KinesisIteratorSpec::Type::kAtTimestamp) input.start_at = s.start.timestamp;
  if (restored != shared_->restored.end()) input.line = restored->second.line;
  shared_->inputs.push_back(std::move(input));
}

bool KinesisFetcher::ParentsDone(const Shard& s) const {
  for (const std::string* parent : {&s.info.parent_shard_id, &s.info.adjacent_parent_shard_id}) {
    if (parent->empty()) continue;
    const auto it = shards_.find(*parent);
    if (it == shards_.end() || !it->second.listed) continue;  // expired, or never seen
    const Shard& p = it->second;
    if (p.phase == Phase::kFinished) continue;
    // Read by another instance: its progress cannot be seen, only its end.
    if (!p.owned && p.info.closed()) continue;
    return false;
  }
  return true;
}

void KinesisFetcher::ReleaseWaiting() {
  for (auto& [id, s] : shards_) {
    if (s.owned && s.phase == Phase::kWaiting && ParentsDone(s)) s.phase = Phase::kNeedIterator;
  }
}

KinesisFetcher::Shard* KinesisFetcher::NextDue(int64_t* due) {
  Shard* best = nullptr;
  *due = INT64_MAX;
  for (auto& [id, s] : shards_) {
    if (!s.owned || (s.phase != Phase::kNeedIterator && s.phase != Phase::kReading)) continue;
    int64_t when = s.next_call;
    if (s.phase == Phase::kReading && s.calls.size() >= kCallsPerSecond) {
      when = std::max(when, s.calls.front() + kRateWindowMs);
    }
    if (when < *due) {
      *due = when;
      best = &s;
    }
  }
  return best;
}

void KinesisFetcher::AcquireIterator(Shard* s) {
  const KinesisIteratorSpec spec =
      s->fetched_seq.empty() ? s->start : KinesisIteratorSpec::AfterSequenceNumber(s->fetched_seq);
  absl::StatusOr<std::string> it =
      client_->GetShardIterator(options_.stream, s->info.shard_id, spec);
  if (!it.ok() && !s->fetched_seq.empty() &&
      KinesisErrorOf(it.status()) == KinesisErrorKind::kInvalidArgument) {
    // The position to resume from (a checkpoint's) does not exist in this
    // shard: retrying cannot help, and starting elsewhere would lose or
    // repeat records. Stop with a clear error.
    absl::MutexLock lock(&shared_->mu);
    shared_->fatal = absl::FailedPreconditionError(StrCat(
        "shard ", s->info.shard_id, " refuses the position to resume from (sequence number ",
        s->fetched_seq, "): ", std::string(it.status().message()),
        "; was the stream deleted and created again? Resume from another checkpoint directory"));
    s->phase = Phase::kFinished;
    shared_->data_cv.SignalAll();
    return;
  }
  if (!it.ok()) {
    Failed(s, it.status());
    return;
  }
  shared_->connected = true;
  s->iterator = std::move(*it);
  s->phase = Phase::kReading;
  s->failures = 0;
  s->next_call = 0;
}

void KinesisFetcher::Read(Shard* s) {
  const int64_t started = SteadyMs();
  {
    absl::MutexLock lock(&shared_->mu);
    ++shared_->stats.get_records_calls;
  }
  absl::StatusOr<KinesisRecords> r =
      client_->GetRecords(s->iterator, options_.max_records_per_call);
  // The call reached the server at the latest when its answer came back:
  // counting the window from then keeps any 5 arrivals a second apart, however
  // long each request took on the way.
  s->calls.push_back(SteadyMs());
  while (s->calls.size() > kCallsPerSecond) s->calls.pop_front();
  if (!r.ok()) {
    Failed(s, r.status());
    return;
  }
  shared_->connected = true;
  s->failures = 0;
  const bool end = r->next_shard_iterator.empty();
  const bool full = static_cast<int>(r->records.size()) >= options_.max_records_per_call;
  const bool behind = r->millis_behind_latest > 0;
  const bool empty = r->records.empty();
  s->iterator = std::move(r->next_shard_iterator);
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->inputs[s->input].lag = r->millis_behind_latest;
    shared_->inputs[s->input].caught_up = empty && !behind;
  }
  if (!empty || end) Queue(s, std::move(*r), end);
  if (end) {
    s->phase = Phase::kFinished;
    ReleaseWaiting();
    absl::MutexLock lock(&shared_->mu);
    shared_->needs_listing = true;  // its children, if not yet listed
    return;
  }
  // While behind, read again at once (the rate limit still applies).
  s->next_call = full || behind ? started : started + options_.poll_interval;
}

void KinesisFetcher::Queue(Shard* s, KinesisRecords records, bool shard_end) {
  // A record at or before the last one queued (a server replaying after an
  // iterator was replaced) is dropped: delivery stays exactly once.
  auto& recs = records.records;
  if (!s->fetched_seq.empty()) {
    auto first_new = std::find_if(recs.begin(), recs.end(), [&](const KinesisRecords::Entry& e) {
      return CompareSequenceNumbers(e.sequence_number, s->fetched_seq) > 0;
    });
    recs.erase(recs.begin(), first_new);
  }
  if (!recs.empty()) s->fetched_seq = recs.back().sequence_number;
  auto batch = std::make_unique<KinesisBatch>();
  batch->input = s->input;
  batch->shard_end = shard_end;
  const size_t n = recs.size();
  batch->records = std::move(records);
  absl::MutexLock lock(&shared_->mu);
  shared_->queued_records += n;
  shared_->queue.push_back(std::move(batch));
  shared_->data_cv.SignalAll();
}

void KinesisFetcher::Failed(Shard* s, const absl::Status& status) {
  NoteError(status);
  const KinesisErrorKind kind = KinesisErrorOf(status);
  const int64_t now = SteadyMs();
  if (IsRetryableKinesisError(kind)) {
    s->next_call = now + Backoff(&s->failures);
    return;
  }
  // Expired, unknown or rejected iterator (a restarted server, a trimmed
  // position): start again after the last record fetched.
  if (s->phase == Phase::kReading) {
    absl::MutexLock lock(&shared_->mu);
    ++shared_->stats.expired_iterators;
  }
  s->phase = Phase::kNeedIterator;
  s->iterator.clear();
  s->next_call = kind == KinesisErrorKind::kExpiredIterator ? now : now + Backoff(&s->failures);
  if (kind == KinesisErrorKind::kResourceNotFound) next_listing_ = now;
}

int64_t KinesisFetcher::Backoff(int* failures) {
  *failures = std::min(*failures + 1, 30);
  const int64_t cap =
      std::min<int64_t>(options_.backoff_max, options_.backoff_base << std::min(*failures - 1, 20));
  return std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(cap, 1))(rng_);
}

void KinesisFetcher::NoteError(const absl::Status& status) {
  const KinesisErrorKind kind = KinesisErrorOf(status);
  if (kind == KinesisErrorKind::kServer || kind == KinesisErrorKind::kTransport ||
      kind == KinesisErrorKind::kAccessDenied) {
    shared_->connected = false;
  }
  absl::MutexLock lock(&shared_->mu);
  if (IsRetryableKinesisError(kind)) ++shared_->stats.retries;
  shared_->last_error = std::string(status.message());
}

}  // namespace vigil::internal
