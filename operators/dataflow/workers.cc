#include "operators/dataflow/workers.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/hash.h"
#include "base/host.h"

namespace vigil {

namespace {

// Copies of the strings of a batch's events: a parser's buffer holds only
// the last record it parsed. Blocks are kept from batch to batch.
class StringArena {
 public:
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > kBlock / 4) {  // a long string gets a block of its own
      big_.push_back(std::make_unique<char[]>(s.size()));
      std::memcpy(big_.back().get(), s.data(), s.size());
      return {big_.back().get(), s.size()};
    }
    if (used_ + s.size() > kBlock) {
      if (++current_ == blocks_.size()) blocks_.push_back(std::make_unique<char[]>(kBlock));
      used_ = 0;
    }
    char* at = blocks_[current_].get() + used_;
    std::memcpy(at, s.data(), s.size());
    used_ += s.size();
    return {at, s.size()};
  }
  // Before the first Copy of each batch.
  void Reset() {
    big_.clear();
    current_ = 0;
    used_ = 0;
    if (blocks_.empty()) blocks_.push_back(std::make_unique<char[]>(kBlock));
  }

 private:
  static constexpr size_t kBlock = 256 << 10;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::unique_ptr<char[]>> big_;
  size_t current_ = 0;
  size_t used_ = 0;
};

}  // namespace

struct Workers::Worker {
  Worker(const RuleSet& rules, size_t max_bytes)
      : flow(std::make_unique<Dataflow>(rules)),
        parser(std::make_unique<EventParser>(rules.fields, max_bytes)) {}
  std::unique_ptr<Dataflow> flow;
  std::unique_ptr<EventParser> parser;
  StringArena strings;
  std::string key;  // scratch: a key's text
  // CloseSessionsInOrder: the records of each stream this worker closed,
  // in its order, their strings in `closed_strings`.
  std::vector<std::vector<Event>> closed;
  StringArena closed_strings;
};

Workers::Workers(const RuleSet& rules, const Dataflow& main, const Options& options)
    : options_(options) {
  const int n = std::clamp(options_.workers, 1, 255);
  for (int w = 0; w < n; ++w) {
    workers_.push_back(std::make_unique<Worker>(rules, options_.max_record_bytes));
  }
  Configure(rules, main);
  spin_ = n <= UsableCores();
  for (int w = 1; w < n; ++w) threads_.emplace_back([this, w] { ThreadMain(w); });
}

Workers::~Workers() {
  quit_ = true;
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Workers::Configure(const RuleSet& rules, const Dataflow& main) {
  rules_ = &rules;
  main_ = &main;
  key_slot_ = rules.fields.Find(options_.key).value_or(-1);
  stream_metrics_ = main.stream_metrics();
  stride_ = 1 + workers_[0]->flow->stream_count();
  fresh_count_ = main.metric_ops().size();
  fresh_ = std::make_unique<PaneStore::FreshGroups[]>(fresh_count_);
  fresh_all_.store(0);
  for (auto& w : workers_) w->flow->SetWhole(main, fresh_.get(), &fresh_all_);
}

namespace {

// How long a thread waiting for the next task, or for the others to finish
// one, checks before it sleeps: about the gap between two tasks (reading a
// batch), so that a busy job never sleeps while an idle one does at once.
// With more workers than cores a spinning thread would hold a core another
// one needs: then they sleep at once.
constexpr std::chrono::microseconds kWorkerSpin{500};
constexpr std::chrono::microseconds kMainSpin{100};

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits until `a` no longer holds `old`, spinning for up to `spin` first;
// returns the new value.
template <typename T>
T WaitChange(const std::atomic<T>& a, T old, std::chrono::microseconds spin) {
  const auto until = std::chrono::steady_clock::now() + spin;
  for (int i = 0;; ++i) {
    const T v = a.load(std::memory_order_acquire);
    if (v != old) return v;
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) break;
    CpuRelax();
  }
  for (;;) {
    a.wait(old, std::memory_order_acquire);
    const T v = a.load(std::memory_order_acquire);
    if (v != old) return v;
  }
}

}  // namespace

void Workers::RunAll(const std::function<void(int)>& fn) {
  if (threads_.empty()) {
    fn(0);
    return;
  }
  task_ = &fn;
  running_.store(static_cast<int>(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  fn(0);
  for (int left = running_.load(std::memory_order_acquire); left > 0;) {
    left = WaitChange(running_, left, spin_ ? kMainSpin : std::chrono::microseconds(0));
  }
  task_ = nullptr;
}

void Workers::ThreadMain(int w) {
  uint64_t seen = 0;
  for (;;) {
    seen = WaitChange(generation_, seen, spin_ ? kWorkerSpin : std::chrono::microseconds(0));
    if (quit_) return;
    (*task_)(w);
    if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1) running_.notify_one();
  }
}

uint8_t Workers::RouteText(std::string_view text) const {
  return static_cast<uint8_t>(HashBytes(text) % workers_.size());
}

void Workers::Parse(const std::vector<Record>& batch) {
  if (!accepted_.empty()) Aggregate();  // the last batch's events are not lost
  batch_ = &batch;
  if (parsed_.size() < batch.size()) parsed_.resize(batch.size());
  // The batch may be refilled before its events are aggregated.
  inputs_.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) inputs_[i] = batch[i].input;
  route_.resize(batch.size() * stride_);
  const size_t n = workers_.size();
  const size_t per = (batch.size() + n - 1) / n;
  RunAll([&](int w) {
    const size_t begin = std::min(batch.size(), per * static_cast<size_t>(w));
    ParseRun(w, begin, std::min(batch.size(), begin + per));
  });
  position_ += batch.size();
}

void Workers::ParseRun(int w, size_t begin, size_t end) {
  Worker& wk = *workers_[static_cast<size_t>(w)];
  wk.strings.Reset();
  const std::vector<Record>& batch = *batch_;
  const size_t n = workers_.size();
  const Dataflow& flow = *wk.flow;
  for (size_t i = begin; i < end; ++i) {
    Parsed& p = parsed_[i];
    p.ok = false;
    if (batch[i].oversized) continue;
    p.ok = wk.parser->Parse(batch[i].data, &p.ev, &p.err);
    if (!p.ok) continue;
    for (Value& v : p.ev.slots) {
      if (v.is_string()) v.str = wk.strings.Copy(v.str);
    }
    uint8_t* row = &route_[i * stride_];
    const bool keyed = key_slot_ >= 0 && !p.ev.slots[static_cast<size_t>(key_slot_)].is_nullish();
    if (keyed) {
      wk.key.clear();
      AppendValueText(p.ev.slots[static_cast<size_t>(key_slot_)], &wk.key);
      row[0] = RouteText(wk.key);
    } else {
      row[0] = static_cast<uint8_t>((position_ + i) % n);
    }
    for (size_t s = 0; s + 1 < stride_; ++s) {
      const KeyedOperator& op = flow.stream(s);
      if (keyed && op.key_slot() == key_slot_) {
        row[1 + s] = row[0];
      } else {
        row[1 + s] = op.KeyText(p.ev, &wk.key) ? RouteText(wk.key) : kNowhere;
      }
    }
  }
}

void Workers::Aggregate(TimeMs close_sessions) {
  if (accepted_.empty()) {
    if (close_sessions != kMinTime) CloseSessions(close_sessions);
    return;
  }
  const bool serial = workers_.size() > 1 && LimitsMayBind(accepted_.size());
  // Whether a limit could drop a record is known once the events are in.
  const bool close_apart = close_sessions != kMinTime && workers_.size() > 1 && stream_metrics_;
  RunAll([this, close_sessions, serial, close_apart](int w) {
    Dataflow& flow = *workers_[static_cast<size_t>(w)]->flow;
    const uint8_t self = static_cast<uint8_t>(w);
    // The worker that takes record i in `lane`.
    const auto owner = [&](uint32_t i, size_t lane) -> uint8_t {
      return lane == 0 && serial ? 0 : route_[i * stride_ + lane];
    };
    // One lane at a time (0: the metrics over events, 1 + s: stream s), so
    // that one operator's code and state stay in cache over the batch; the
    // lanes share nothing until the sessions close. Each lane is hinted the
    // events it is about to take, kPrefetchDistance ahead of taking them
    // (MetricOperator::Prefetch, KeyedOperator::Prefetch).
    const size_t count = accepted_.size();
    for (size_t lane = 0; lane < stride_; ++lane) {
      size_t ahead = 0, hinted = 0;
      for (size_t k = 0; k < count; ++k) {
        const uint32_t i = accepted_[k];
        if (owner(i, lane) != self) continue;
        if (ahead <= k) {
          ahead = k + 1;
          hinted = 0;
        }
        while (hinted < Dataflow::kPrefetchDistance && ahead < count) {
          const uint32_t j = accepted_[ahead++];
          if (owner(j, lane) != self) continue;
          if (lane == 0) {
            flow.PrefetchMetrics(parsed_[j].ev);
          } else {
            flow.PrefetchStream(lane - 1, parsed_[j].ev);
          }
          ++hinted;
        }
        if (hinted > 0) --hinted;
        const Event& ev = parsed_[i].ev;
        if (lane == 0) {
          flow.SetMetricsFrontier(frontiers_[k]);
          flow.AddToMetrics(ev);
          continue;
        }
        flow.SetMetricsFrontier(frontiers_[k]);  // for the stream's records' metrics
        flow.mutable_stream(lane - 1).SetFrontier(frontiers_[k]);
        flow.AddToStream(lane - 1, ev);
        if (flow.tracks_origins()) flow.NoteOrigin(lane - 1, inputs_[i], ev);
      }
    }
    if (close_sessions != kMinTime && !close_apart) flow.CloseSessions(close_sessions);
  });
  accepted_.clear();
  frontiers_.clear();
  if (close_apart) CloseSessions(close_sessions);
}

bool Workers::LimitsMayBind(size_t events) const {
  // Each event is at most one new group of each grouped metric; an
  // ungrouped one has one group at most. The groups the parts took since
  // the last merge (fresh_groups(), over every metric: an upper bound of
  // each one's) are not in the job's stores yet, and count too.
  const size_t fresh = fresh_groups();
  size_t most_new = 0;
  for (const auto& op : main_->metric_ops()) {
    if (op->from_stream()) continue;
    if (!op->grouped()) {
      ++most_new;
      continue;
    }
    if (op->store().LimitMayBind(events + fresh)) return true;
    most_new += events;
  }
  return main_->series() + fresh + most_new >= main_->limits().max_series;
}

bool Workers::StreamLimitsMayBind(TimeMs frontier) const {
  if (!stream_metrics_) return false;
  std::vector<size_t> records(workers_[0]->flow->stream_count(), 0);
  for (const auto& w : workers_) {
    for (size_t s = 0; s < records.size(); ++s) {
      records[s] += w->flow->stream(s).MostRecordsBy(frontier);
    }
  }
  size_t most_new = 0;
  for (const auto& op : main_->metric_ops()) {
    if (!op->from_stream()) continue;
    const size_t mine = records[static_cast<size_t>(op->members()[0].def->from)];
    if (!op->grouped()) {
      most_new += mine > 0 ? 1 : 0;
      continue;
    }
    if (op->store().LimitMayBind(mine)) return true;
    most_new += mine;
  }
  return main_->series() + fresh_groups() + most_new >= main_->limits().max_series;
}

void Workers::CloseSessions(TimeMs frontier) {
  if (workers_.size() > 1 && StreamLimitsMayBind(frontier)) {
    CloseSessionsInOrder(frontier);
    return;
  }
  RunAll([&](int w) { workers_[static_cast<size_t>(w)]->flow->CloseSessions(frontier); });
}

void Workers::CloseSessionsInOrder(TimeMs frontier) {
  const size_t streams = workers_[0]->flow->stream_count();
  RunAll([&](int w) {
    Worker& wk = *workers_[static_cast<size_t>(w)];
    wk.closed.resize(streams);
    for (auto& records : wk.closed) records.clear();
    wk.closed_strings.Reset();
    wk.flow->CloseSessions(frontier, [&wk](size_t s, const Event& record) {
      Event& copy = wk.closed[s].emplace_back(record);
      for (Value& v : copy.slots) {
        if (v.is_string()) v.str = wk.closed_strings.Copy(v.str);
      }
    });
  });
  // One key's records are all on one worker, in its operator's order, so
  // merging by event time, then key, gives one operator's order.
  const auto before = [](const Event& a, const Event& b) {
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.slots[kStreamKeySlot].str < b.slots[kStreamKeySlot].str;
  };
  Dataflow& first = *workers_[0]->flow;
  std::vector<size_t> next(workers_.size());
  for (size_t s = 0; s < streams; ++s) {
    std::fill(next.begin(), next.end(), 0);
    for (;;) {
      const Event* pick = nullptr;
      size_t from = 0;
      for (size_t w = 0; w < workers_.size(); ++w) {
        const std::vector<Event>& records = workers_[w]->closed[s];
        if (next[w] == records.size()) continue;
        if (pick == nullptr || before(records[next[w]], *pick)) {
          pick = &records[next[w]];
          from = w;
        }
      }
      if (pick == nullptr) break;
      first.FeedStream(s, *pick);
      ++next[from];
    }
  }
}

uint64_t Workers::MergePanesInto(Dataflow* into) {
  uint64_t late = 0;
  for (auto& w : workers_) late += into->MergePanesFrom(*w->flow);
  // Every group of the workers is the job's now.
  for (size_t i = 0; i < fresh_count_; ++i) fresh_[i].Clear();
  fresh_all_.store(0, std::memory_order_relaxed);
  return late;
}

std::vector<std::pair<std::string, std::string>> Workers::EncodeState(const Dataflow& main) const {
  std::vector<std::pair<std::string, std::string>> out = main.EncodeState();
  for (size_t s = 0; s < main.stream_count(); ++s) {
    const std::string& key = main.stream(s).state_key();
    std::vector<const KeyedOperator*> parts = {&main.stream(s)};
    for (const auto& w : workers_) parts.push_back(&w->flow->stream(s));
    Encoder enc;
    main.stream(s).EncodeStates(parts, &enc);
    for (auto& [k, bytes] : out) {
      if (k == key) bytes = enc.Release();
    }
  }
  return out;
}

void Workers::TakeRestored(Dataflow* main) {
  for (auto& w : workers_) w->flow->SetWhole(*main, fresh_.get(), &fresh_all_);
  for (size_t s = 0; s < main->stream_count(); ++s) {
    KeyedOperator& from = main->mutable_stream(s);
    std::vector<const KeyedOperator*> parts = {&from};
    for (const auto& w : workers_) parts.push_back(&w->flow->stream(s));
    Encoder enc;
    from.EncodeStates(parts, &enc);
    const std::string bytes = enc.Release();
    KeyOrigins& origins = main->origins(s);
    for (size_t w = 0; w < workers_.size(); ++w) {
      Decoder dec(bytes);
      const uint8_t self = static_cast<uint8_t>(w);
      Dataflow& flow = *workers_[w]->flow;
      flow.mutable_stream(s).DecodeState(&dec, [&](std::string_view key) {
        if (RouteText(key) != self) return false;
        // The keys' origins go with them (handover.h).
        if (const int input = origins.Of(key); input != KeyOrigins::kUnknown) {
          flow.origins(s).Set(key, input);
        }
        return true;
      });
    }
    origins = KeyOrigins();
    Encoder none;
    from.EncodeStates({}, &none);
    const std::string empty = none.Release();
    Decoder dec(empty);
    from.DecodeState(&dec);
  }
}

void Workers::SetOrigin(size_t s, std::string_view key, int input) {
  workers_[RouteText(key)]->flow->origins(s).Set(key, input);
}

void Workers::Reload(const RuleSet& rules, const Dataflow& main) {
  for (auto& w : workers_) {
    auto flow = std::make_unique<Dataflow>(rules);
    flow->FollowOutputs(main);  // the joins' packing, before the state moves
    flow->AdoptState(*w->flow);
    w->flow = std::move(flow);
    w->parser = std::make_unique<EventParser>(rules.fields, options_.max_record_bytes);
  }
  Configure(rules, main);
}

std::vector<Dataflow*> Workers::flows() {
  std::vector<Dataflow*> out;
  for (auto& w : workers_) out.push_back(w->flow.get());
  return out;
}

size_t Workers::open_sessions(size_t s) const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->flow->stream(s).open_sessions();
  return n;
}

uint64_t Workers::emitted(size_t s) const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->flow->stream(s).emitted();
  return n;
}

}  // namespace vigil
