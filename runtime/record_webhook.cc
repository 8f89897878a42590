#include "runtime/record_webhook.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "base/codec.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/notify/notify_target.h"

namespace vigil {

namespace {

constexpr uint8_t kStateFormat = 1;
constexpr DurationMs kLogEvery = 30000;

TimeMs WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordWebhook>> RecordWebhook::Create(Options options) {
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(options.url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        StrCat("records webhook: ", std::string(url.status().message())));
  }
  std::unique_ptr<RecordWebhook> w(new RecordWebhook(std::move(options)));
  w->target_ = url->target;
  w->shown_url_ = url->Redacted();
  w->secrets_ = url->Secrets();
  HttpClient::Options client_options;
  client_options.timeout = std::chrono::milliseconds(w->options_.timeout);
  w->client_ = std::make_unique<HttpClient>(*url, client_options);
  if (w->options_.restored) {
    Decoder dec(*w->options_.restored);
    if (dec.GetByte() != kStateFormat) {
      return absl::DataLossError("records webhook: unreadable state in the checkpoint");
    }
    absl::MutexLock lock(&w->mu_);
    for (uint64_t n = dec.GetVarint(); n > 0 && dec.ok(); --n) {
      w->queue_.emplace_back(dec.GetString());
    }
    if (!dec.ok() || !dec.done()) {
      return absl::DataLossError("records webhook: unreadable state in the checkpoint");
    }
  }
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

RecordWebhook::~RecordWebhook() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void RecordWebhook::Enqueue(std::string_view output, std::string_view record) {
  std::string line = "{\"output\":";
  AppendJsonString(output, &line);
  StrAppend(&line, ",\"record\":", record, "}");
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(line));
  size_t over = queue_.size() > options_.max_queued ? queue_.size() - options_.max_queued : 0;
  // Never the lines of the POST in flight: they leave only once answered.
  over = std::min(over, queue_.size() - in_flight_);
  if (over > 0) {
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_),
                 queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_ + over));
    dropped_ += over;
    const TimeMs now = WallMs();
    if (now - last_drop_log_ >= 60000) {
      last_drop_log_ = now;
      Log(StrCat("records webhook ", shown_url_, ": more than ", options_.max_queued,
                 " records waiting; dropped the oldest (", dropped_.load(), " so far)"));
    }
  }
  cv_.SignalAll();
}

void RecordWebhook::Flush() {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(options_.timeout);
  absl::MutexLock lock(&mu_);
  while (!queue_.empty() && !cv_.WaitWithDeadline(&mu_, deadline)) {
  }
}

absl::Status RecordWebhook::Prepare(uint64_t, CheckpointData* data) {
  Encoder enc;
  enc.PutByte(kStateFormat);
  {
    absl::MutexLock lock(&mu_);
    enc.PutVarint(queue_.size());
    for (const std::string& line : queue_) enc.PutString(line);
  }
  data->panes.emplace_back(std::string(kStateKey), enc.Release());
  return absl::OkStatus();
}

RecordWebhook::Stats RecordWebhook::stats() const {
  Stats s;
  s.sent = sent_.load();
  s.failed = failed_.load();
  s.dropped = dropped_.load();
  s.retried = retried_.load();
  absl::MutexLock lock(&mu_);
  s.queued = queue_.size();
  return s;
}

void RecordWebhook::Run() {
  std::string body;
  while (true) {
    size_t lines = 0;
    {
      absl::MutexLock lock(&mu_);
      while (!stop_ && queue_.empty()) cv_.Wait(&mu_);
      if (stop_) return;
      lines = std::min(queue_.size(), options_.batch);
      body.clear();
      for (size_t i = 0; i < lines; ++i) StrAppend(&body, queue_[i], "\n");
      in_flight_ = lines;
    }
    const std::optional<bool> accepted = Deliver(body, lines);
    absl::MutexLock lock(&mu_);
    in_flight_ = 0;
    if (!accepted) return;  // stopping: the lines stay queued
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(lines));
    (*accepted ? sent_ : failed_) += lines;
    cv_.SignalAll();  // Flush
  }
}

std::optional<bool> RecordWebhook::Deliver(const std::string& body, size_t lines) {
  const HttpHeaders headers = {{"Content-Type", "application/x-ndjson"}};
  std::mt19937_64 rng(std::random_device{}());
  TimeMs last_log = 0;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<HttpClientResponse> r = client_->Send("POST", target_, body, headers);
    std::string problem;
    DurationMs retry_after = 0;
    if (r.ok()) {
      if (r->status / 100 == 2) return true;
      problem = StrCat("HTTP ", r->status, ": ",
                       internal::ReplySnippet(RedactSecrets(r->body, secrets_)));
      if (r->status < 500 && r->status != 429 && r->status != 408) {
        Log(StrCat("records webhook ", shown_url_, ": rejected ", lines,
                   " record(s), not retrying: ", problem));
        return false;
      }
      retry_after = internal::ParseRetryAfter(r->Header("Retry-After"));
    } else {
      problem = std::string(r.status().message());
    }
    ++retried_;
    DurationMs cap = options_.retry_initial;
    for (int i = 0; i < attempt && cap < options_.retry_max; ++i) cap *= 2;
    cap = std::min(cap, options_.retry_max);
    std::uniform_int_distribution<DurationMs> jitter(options_.retry_initial,
                                                     std::max(options_.retry_initial, cap));
    const DurationMs delay = std::max(jitter(rng), std::min(retry_after, options_.retry_max));
    const TimeMs now = WallMs();
    if (now - last_log >= kLogEvery) {
      last_log = now;
      Log(StrCat("records webhook ", shown_url_, ": ", problem, "; retrying in ",
                 FormatDuration(delay)));
    }
    absl::MutexLock lock(&mu_);
    const absl::Time until = absl::Now() + absl::Milliseconds(delay);
    while (!stop_ && !cv_.WaitWithDeadline(&mu_, until)) {
    }
    if (stop_) return std::nullopt;
  }
}

}  // namespace vigil
