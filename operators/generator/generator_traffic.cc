#include "operators/generator/generator_traffic.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

#include "operators/generator/generator_writer.h"

namespace vigil::generator_internal {
namespace {

// Escalation turns come only from sessions that want a human, so the other
// seven intents are drawn in the seed mix's proportions (out of 95).
constexpr int kOrdinaryIntentWeights[] = {10, 15, 25, 20, 5, 15, 10};
constexpr WeightedChoice<7> kOrdinaryIntent(kOrdinaryIntentWeights);
// A session that wants a human has one ordinary turn, then only escalation
// turns: with 3-7 turns (5 on average) that is 4/5 of its turns, and
// 0.0625 * 4/5 = 5% of all turns.
constexpr double kWantsHuman = 0.0625;
constexpr double kWantsHumanEscalates = 0.7;
constexpr double kOtherEscalates = 0.02;
constexpr double kEscalatesAfterError = 0.15;
// Share of thumbs-down on FAQ answers of a topic with a kb_gap incident.
constexpr double kKbGapThumbsDown = 0.6;

constexpr int kFaqTopicWeights[] = {30, 25, 20, 10, 15};  // shipping .. sizing
constexpr WeightedChoice<5> kFaqTopic(kFaqTopicWeights);
constexpr int kLlmCallWeights[] = {30, 50, 20};  // 1, 2, 3 calls on a cache miss
constexpr WeightedChoice<3> kLlmCallsOnMiss(kLlmCallWeights);

// Log-normal latency: median 700 ms and sigma 0.62 put p95 near 2 s and p99
// near 3.5 s once the LLM timeouts (8-9.5 s) join the tail: at the Day-1
// targets (2 s, 5 s) and well inside the alert thresholds (3 s, 10 s). During
// a spike the median is 4.2 s: p95 about 15 s and p99 about 24 s.
constexpr double kLatencyMedianMs = 700;
constexpr double kLatencySigma = 0.62;
constexpr double kSpikeMedianMs = 4200;
constexpr double kSpikeSigma = 0.7;
constexpr double kFastFailMedianMs = 180;  // an open breaker rejects at once
constexpr int32_t kLlmTimeoutMs = 8000;
constexpr double kMinLatencyMs = 40;
constexpr double kMaxLatencyMs = 60000;  // the client gives up
// A prompt regression (arm B of the prompt experiment): answers 60% slower
// and rated down 25% of the time instead of 7%.
constexpr double kPromptRegressionSlowdown = 1.6;
constexpr double kPromptRegressionThumbsDown = 0.25;

// A session sees a turn about every 20 s; messages are ~3/4 of the events.
constexpr double kPoolPerEventRate = 15;
constexpr size_t kMinPool = 8;
constexpr size_t kMaxPool = 1 << 16;
constexpr int kProducts = 4000;
constexpr uint64_t kReturningUserWindow = 1 << 20;

constexpr double kFlapMeanGapMs = 45 * 60 * 1000;
constexpr DurationMs kProbeEvery = 60000;

void FormatHex(uint64_t v, char* out16) {
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out16[i] = kHex[v & 0xf];
}

// Quotes an id through the JSON escaper into `out` and returns the quoted
// size. Ids are drawn from [0-9A-Za-z] and never grow when escaped, so `out`
// needs room for the id and two quotes only.
template <size_t N>
uint8_t QuoteId(std::string_view id, char (&out)[N]) {
  char buf[6 * 24 + 2];
  assert(id.size() <= 24);
  const auto size = static_cast<size_t>(WriteJsonString(id, buf) - buf);
  assert(size <= N);
  std::memcpy(out, buf, std::min(size, N));
  return static_cast<uint8_t>(size);
}

bool IsProductTurn(Intent intent) {
  return intent == kProductDiscovery || intent == kRecommendation;
}

// The dependency a turn of this intent fails on when something goes wrong.
Service ServiceFor(Intent intent, Rng& rng) {
  switch (intent) {
    case kOrderTracking:
    case kReturnRequest:
      return kOrders;
    case kProductDiscovery:
    case kRecommendation:
      return rng.Chance(0.5) ? kSearch : kCatalog;
    case kProductQuestion:
      return kCatalog;
    default:
      return kBedrock;
  }
}

}  // namespace

TrafficModel::TrafficModel(const GeneratorOptions& options)
    : rng_(options.seed), id_salt_(Mix64(options.seed ^ 0x5e551011)), origin_(options.start) {
  for (const MonthProfile& month : options.months) plans_.push_back(PlanMonth(month));
  plan_ = PlanAt(options.start);
  const double pool = std::clamp(options.rate * kPoolPerEventRate, static_cast<double>(kMinPool),
                                 static_cast<double>(kMaxPool));
  BuildCatalog();
  ScheduleIncidentTransitions(options);
  next_flap_ = options.start + static_cast<TimeMs>(rng_.Exponential(kFlapMeanGapMs)) + 1;
  flap_service_ = static_cast<Service>(kCatalog + rng_.Below(3));
  sessions_.resize(static_cast<size_t>(pool));
  for (SessionState& s : sessions_) StartSession(&s);
}

void TrafficModel::BuildCatalog() {
  constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  products_.resize(kProducts);
  for (Product& p : products_) {
    char asin[10] = {'B', '0'};
    for (int i = 2; i < 10; ++i) asin[i] = kAlphabet[rng_.Below(36)];
    QuoteId(std::string_view(asin, sizeof asin), p.asin_json);
    const double dollars = std::clamp(rng_.LogNormal(25, 0.9), 2.0, 2000.0);
    p.price_cents = static_cast<int64_t>(dollars) * 100 - 1;  // x.99
  }
}

// An open breaker is probed every minute (half_open, then open again when the
// probe fails) until the last probe succeeds a second before the end.
void TrafficModel::ScheduleIncidentTransitions(const GeneratorOptions& options) {
  for (const Incident& incident : options.incidents) {
    Window w{incident.kind, options.start + incident.start,
             options.start + incident.start + incident.length, kNoService, kNoTopic};
    for (uint8_t t = 0; t < kTopicCount; ++t) {
      if (!incident.topic.empty() && kTopicNames[t] == incident.topic)
        w.topic = static_cast<Topic>(t);
    }
    if (w.kind == IncidentKind::kErrorBurst) {
      w.service = static_cast<Service>(kCatalog + rng_.Below(3));
    }
    windows_.push_back(w);
    if (w.kind != IncidentKind::kBedrockOpen) continue;
    transitions_.push_back({w.begin, kBedrock, kOpen});
    for (TimeMs t = w.begin + kProbeEvery; t + 1000 < w.end - 1000; t += kProbeEvery) {
      transitions_.push_back({t, kBedrock, kHalfOpen});
      transitions_.push_back({t + 1000, kBedrock, kOpen});
    }
    if (w.end - 1000 > w.begin) transitions_.push_back({w.end - 1000, kBedrock, kHalfOpen});
    transitions_.push_back({w.end, kBedrock, kClosed});
  }
  std::stable_sort(transitions_.begin(), transitions_.end(),
                   [](const Transition& a, const Transition& b) { return a.time < b.time; });
}

bool TrafficModel::NextTransition(TimeMs nominal, Transition* out) {
  const bool incident_due =
      next_transition_ < transitions_.size() && transitions_[next_transition_].time <= nominal;
  const bool flap_due = next_flap_ <= nominal;
  if (incident_due && (!flap_due || transitions_[next_transition_].time <= next_flap_)) {
    *out = transitions_[next_transition_++];
    return true;
  }
  if (!flap_due) return false;
  *out = {next_flap_, flap_service_, static_cast<BreakerState>(flap_stage_)};
  switch (flap_stage_) {
    case kOpen:
      next_flap_ += 30000;
      break;
    case kHalfOpen:
      next_flap_ += 1000;
      break;
    default:
      next_flap_ += static_cast<TimeMs>(rng_.Exponential(kFlapMeanGapMs)) + 1;
      flap_service_ = static_cast<Service>(kCatalog + rng_.Below(3));
  }
  flap_stage_ = (flap_stage_ + 1) % kBreakerStateCount;
  return true;
}

TrafficModel::Conditions TrafficModel::ConditionsAt(TimeMs ts) const {
  Conditions c;
  for (const Window& w : windows_) {
    if (ts < w.begin || ts >= w.end) continue;
    c.active |= 1u << static_cast<int>(w.kind);
    if (w.kind == IncidentKind::kErrorBurst && c.burst_service == kNoService) {
      c.burst_service = w.service;
    }
    if (w.kind == IncidentKind::kKbGap) c.kb_gap_topics |= 1u << w.topic;
  }
  return c;
}

// The plan of the calendar month of `ts`, or null without month profiles;
// before the first month, the first plan.
const MonthPlan* TrafficModel::PlanAt(TimeMs ts) {
  if (plans_.empty()) return nullptr;
  if (ts < plan_begin_ || ts >= plan_end_) {
    const MonthOf month = MonthAt(origin_, ts);
    plan_index_ = std::clamp(month.index, 0, static_cast<int>(plans_.size()) - 1);
    plan_begin_ = month.begin;
    plan_end_ = month.end;
  }
  return &plans_[static_cast<size_t>(plan_index_)];
}

void TrafficModel::StartSession(SessionState* s) {
  char id[16];
  FormatHex(Mix64(sessions_started_++ ^ id_salt_), id);
  QuoteId(std::string_view(id, sizeof id), s->id_json);
  uint64_t user;
  if (users_ > 0 && rng_.Chance(0.3)) {
    user = users_ - 1 - rng_.Below(std::min(users_, kReturningUserWindow));
  } else {
    user = users_++;
  }
  char name[24] = {'u'};
  const char* end = std::to_chars(name + 1, name + sizeof name, 100000 + user).ptr;
  s->user_json_size =
      QuoteId(std::string_view(name, static_cast<size_t>(end - name)), s->user_json);
  // Experiment arms are assigned per user, as a prompt experiment would.
  s->variant = static_cast<uint8_t>(Mix64(user) & 1);
  s->turns = static_cast<uint8_t>(3 + rng_.Below(5));
  s->done = 0;
  s->wants_human = plan_ && plan_->asks >= 0 ? asks_.Take(plan_->asks) : rng_.Chance(kWantsHuman);
  s->had_error = false;
  s->conversion_drawn = false;
}

void TrafficModel::Next(TimeMs nominal, TimeMs ts, GeneratedEvent* event) {
  Transition transition;
  if (NextTransition(nominal, &transition)) {
    event->type = EventType::kCircuitBreaker;
    event->session = nullptr;
    event->turn = nullptr;
    event->service = transition.service;
    event->state = transition.state;
    event->transition_time = transition.time;
    return;
  }
  if (pending_next_ < pending_size_) {
    WriteFollowUp(pending_[pending_next_++], event);
    return;
  }
  Turn(ts, event);
}

void TrafficModel::Turn(TimeMs ts, GeneratedEvent* event) {
  const Conditions c = ConditionsAt(ts);
  plan_ = PlanAt(ts);
  SessionState& s = sessions_[rng_.Below(sessions_.size())];
  TurnFacts& t = turn_;
  t.number = ++s.done;
  t.treatment = s.variant == 1;
  bool escalates_now = false;
  if (c.Has(IncidentKind::kEscalationSurge) && rng_.Chance(0.4)) {
    t.intent = kEscalationIntent;
    escalates_now = true;
  } else if (s.wants_human && t.number > 1) {
    t.intent = kEscalationIntent;
  } else {
    t.intent = PickIntent();
  }
  t.topic = PickTopic(t.intent);
  DrawTurnOutcome(c, &t);
  if (t.error_service != kNoService) s.had_error = true;
  // A month's conversion quota decides at a session's first recommendation.
  const bool draw_conversion =
      plan_ && plan_->conversion >= 0 && t.intent == kRecommendation && !s.conversion_drawn;
  if (draw_conversion) s.conversion_drawn = true;
  turn_session_ = s;
  const bool ends = escalates_now || s.done >= s.turns;
  QueueFollowUps(c, ends, escalates_now, draw_conversion);
  if (ends) StartSession(&s);
  event->type = EventType::kMessage;
  event->session = &turn_session_;
  event->turn = &turn_;
}

Intent TrafficModel::PickIntent() { return static_cast<Intent>(kOrdinaryIntent.Pick(rng_)); }

Topic TrafficModel::PickTopic(Intent intent) {
  switch (intent) {
    case kFaq:
      return static_cast<Topic>(kShipping + kFaqTopic.Pick(rng_));
    case kProductDiscovery:
    case kProductQuestion:
    case kRecommendation:
      return static_cast<Topic>(kElectronics + rng_.Below(6));
    case kOrderTracking:
      return kDelivery;
    case kReturnRequest:
      return kReturns;
    default:
      return kNoTopic;
  }
}

void TrafficModel::DrawTurnOutcome(const Conditions& c, TurnFacts* t) {
  t->cache_hit = rng_.Chance(c.Has(IncidentKind::kCacheMissStorm) ? 0.2 : 0.7);
  t->guardrail = rng_.Chance(c.Has(IncidentKind::kGuardrailStorm) ? 0.12 : 0.01);
  t->timeout = rng_.Chance(c.Has(IncidentKind::kLatencySpike) ? 0.02 : 0.005);
  t->error_service = t->timeout ? kBedrock : kNoService;
  if (!t->timeout) {
    if (c.Has(IncidentKind::kBedrockOpen) && rng_.Chance(0.9)) {
      // Calls in flight when the breaker tripped, and failed probes, time
      // out; the rest are rejected at once.
      t->error_service = kBedrock;
      t->timeout = rng_.Chance(0.25);
    } else if (c.burst_service != kNoService && rng_.Chance(0.15)) {
      t->error_service = c.burst_service;
    } else if (rng_.Chance(0.01)) {
      t->error_service = ServiceFor(t->intent, rng_);
    }
  }
  t->llm_calls = t->cache_hit ? 1 : static_cast<uint8_t>(1 + kLlmCallsOnMiss.Pick(rng_));
  DrawLatency(c, t);
}

void TrafficModel::DrawLatency(const Conditions& c, TurnFacts* t) {
  const bool spike = c.Has(IncidentKind::kLatencySpike);
  if (t->timeout) {
    // The bot answers with a fallback once its last LLM call times out; in a
    // spike it has retried first.
    t->llm_calls = spike ? static_cast<uint8_t>(2 + rng_.Below(2)) : 1;
    t->latency_ms = kLlmTimeoutMs * t->llm_calls + static_cast<int32_t>(rng_.Below(1500));
    return;
  }
  double ms;
  if (t->error_service == kBedrock && c.Has(IncidentKind::kBedrockOpen)) {
    ms = rng_.LogNormal(kFastFailMedianMs, 0.4);
  } else if (spike) {
    ms = rng_.LogNormal(kSpikeMedianMs, kSpikeSigma);
  } else {
    ms = rng_.LogNormal(kLatencyMedianMs, kLatencySigma);
  }
  // A prompt regression slows arm B's answers (no draw more: the rest of
  // the traffic stays what it was).
  if (t->treatment && c.Has(IncidentKind::kPromptRegression)) ms *= kPromptRegressionSlowdown;
  // Positive after the clamp, where + 0.5 rounds; kept so that a seed's
  // events stay what they were.
  // NOLINTNEXTLINE(bugprone-incorrect-roundings)
  t->latency_ms = static_cast<int32_t>(std::clamp(ms, kMinLatencyMs, kMaxLatencyMs) + 0.5);
}

int32_t TrafficModel::PickProduct() {
  // The minimum of two uniform draws favours the head of the catalog, as
  // popular products draw more clicks.
  return static_cast<int32_t>(std::min(rng_.Below(kProducts), rng_.Below(kProducts)));
}

void TrafficModel::QueueFollowUps(const Conditions& c, bool ends, bool escalates_now,
                                  bool draw_conversion) {
  pending_size_ = 0;
  pending_next_ = 0;
  const TurnFacts& t = turn_;
  // With a conversion quota, carts come from the quota alone.
  const bool planned_carts = plan_ && plan_->conversion >= 0;
  if (IsProductTurn(t.intent) && t.error_service == kNoService && rng_.Chance(0.55)) {
    const int clicks = rng_.Chance(0.3) ? 2 : 1;
    for (int i = 0; i < clicks; ++i) {
      const int32_t product = PickProduct();
      pending_[pending_size_++] = {kClick, 0, 0, product};
      if (!planned_carts && rng_.Chance(0.15)) pending_[pending_size_++] = {kCart, 0, 0, product};
    }
  }
  if (draw_conversion && conversion_.Take(plan_->conversion)) {
    const int32_t product = PickProduct();
    pending_[pending_size_++] = {kClick, 0, 0, product};
    pending_[pending_size_++] = {kCart, 0, 0, product};
  }
  if (rng_.Chance(0.15)) QueueFeedback(c);
  if (rng_.Chance(0.02)) {
    // Human labels agree with the classifier 95% of the time.
    uint8_t actual = t.intent;
    if (!rng_.Chance(0.95)) {
      actual = static_cast<uint8_t>(rng_.Below(kIntentCount - 1));
      if (actual >= t.intent) ++actual;
    }
    pending_[pending_size_++] = {kLabel, actual, 0, 0};
  }
  const bool degraded = c.Has(IncidentKind::kLatencySpike) || c.Has(IncidentKind::kBedrockOpen);
  if (rng_.Chance(degraded ? 0.03 : 0.004)) pending_[pending_size_++] = {kDisconnect, 0, 0, 0};
  if (ends) QueueEscalation(escalates_now);
}

void TrafficModel::QueueFeedback(const Conditions& c) {
  const TurnFacts& t = turn_;
  const bool failed = t.error_service != kNoService;
  const bool slow = t.latency_ms > 5000;
  double negative = 0.07;
  if (failed) {
    negative = 0.6;
  } else if (slow) {
    negative = 0.35;
  } else if (t.guardrail) {
    negative = 0.3;
  } else if (t.intent == kFaq && (c.kb_gap_topics & (1u << t.topic)) != 0) {
    negative = kKbGapThumbsDown;
  } else if (t.topic == kWarranty) {
    negative = 0.25;  // a knowledge-base gap for the FAQ-topic report to find
  }
  if (t.treatment && c.Has(IncidentKind::kPromptRegression)) {
    negative = std::max(negative, kPromptRegressionThumbsDown);
  }
  int8_t rating;
  if (plan_ && plan_->thumbs_up >= 0) {
    rating = thumbs_up_.Take(plan_->thumbs_up) ? 1 : -1;
  } else {
    rating = rng_.Chance(negative) ? -1 : 1;
  }
  uint8_t comment;
  if (rating > 0) {
    comment = static_cast<uint8_t>(rng_.Below(kPositiveComments));
  } else if (failed) {
    comment = kErrorComment;
  } else if (slow) {
    comment = kSlowComment;
  } else {
    comment = static_cast<uint8_t>(kPositiveComments + rng_.Below(5));
  }
  pending_[pending_size_++] = {kFeedback, comment, rating, 0};
}

void TrafficModel::QueueEscalation(bool escalates_now) {
  const SessionState& s = turn_session_;
  Reason reason;
  if (escalates_now) {
    reason = kUserRequested;
  } else if (plan_ && plan_->asks >= 0) {
    if (!PlannedEscalation(&reason)) return;
  } else if (s.wants_human) {
    if (!rng_.Chance(kWantsHumanEscalates)) return;
    reason = kUserRequested;
  } else if (s.had_error) {
    if (!rng_.Chance(kEscalatesAfterError)) return;
    reason = kRepeatedFailure;
  } else {
    if (!rng_.Chance(kOtherEscalates)) return;
    reason = turn_.guardrail ? kPolicySensitive
                             : (rng_.Chance(0.5) ? kLowConfidence : kNegativeSentiment);
  }
  pending_[pending_size_++] = {kEscalate, reason, 0, 0};
}

// A month's escalation quotas: one for the sessions whose user asked for a
// human, one for the others, whose reason is what went wrong in them.
bool TrafficModel::PlannedEscalation(Reason* reason) {
  const SessionState& s = turn_session_;
  if (s.wants_human) {
    *reason = kUserRequested;
    return escalates_asked_.Take(plan_->escalates_asked);
  }
  if (!escalates_never_.Take(plan_->escalates_never)) return false;
  if (s.had_error) {
    *reason = kRepeatedFailure;
  } else if (turn_.guardrail) {
    *reason = kPolicySensitive;
  } else {
    *reason = rng_.Chance(0.5) ? kLowConfidence : kNegativeSentiment;
  }
  return true;
}

void TrafficModel::WriteFollowUp(const Pending& p, GeneratedEvent* event) {
  event->session = &turn_session_;
  event->turn = &turn_;
  switch (p.kind) {
    case kClick:
    case kCart:
      event->type = p.kind == kClick ? EventType::kProductClick : EventType::kAddToCart;
      event->product = &products_[static_cast<size_t>(p.product)];
      break;
    case kFeedback:
      event->type = EventType::kFeedback;
      event->rating = p.rating;
      event->comment = p.detail;
      break;
    case kLabel:
      event->type = EventType::kIntentLabel;
      event->actual = static_cast<Intent>(p.detail);
      break;
    case kDisconnect:
      event->type = EventType::kWsDisconnect;
      break;
    case kEscalate:
      event->type = EventType::kEscalation;
      event->reason = static_cast<Reason>(p.detail);
      break;
  }
}

}  // namespace vigil::generator_internal
