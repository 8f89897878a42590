// operators/generator/generator_traffic.h
//
// TrafficModel decides what happens in the generator's synthetic traffic; it
// writes nothing. Each call to `Next` yields the facts of one event (a bot
// turn, or one of the events a turn causes, or a circuit breaker transition),
// which EventGenerator then formats as JSON. Keeping the two apart keeps the
// traffic's statistics readable in one place, free of formatting concerns.
//
// The model keeps a fixed pool of active sessions, sized so that a session
// sees a turn about every 20 s of event time. A turn goes to a random session
// of the pool; a session that has had its 3-7 turns is replaced at once by a
// new one, so the pool never grows and concurrency stays stable. Users return:
// 30% of new sessions reuse an earlier user.
//
// Escalation is concentrated in sessions whose user wants a human: after one
// ordinary turn, every further turn has the escalation intent, and 70% of
// those sessions end in an `escalation` event (the rest are resolved by the
// bot). That keeps the escalation intent at 5% of turns while fewer than 10%
// of sessions escalate.
//
// With month profiles (GeneratorOptions::months, generator_months.h) the
// month of each turn's ts picks a plan, and quotas instead of draws decide
// which sessions ask for a human and escalate, which ratings are thumbs-up
// and which sessions with a recommendation add to cart.
//
// Example:
//   TrafficModel model(options);
//   GeneratedEvent event;
//   model.Next(nominal_time, ts, &event);
//   if (event.type == EventType::kMessage) Use(event.turn->latency_ms);
#ifndef VIGIL_OPERATORS_GENERATOR_GENERATOR_TRAFFIC_H_
#define VIGIL_OPERATORS_GENERATOR_GENERATOR_TRAFFIC_H_

#include <cstdint>
#include <iterator>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "operators/generator/generator.h"
#include "operators/generator/generator_random.h"

namespace vigil::generator_internal {

enum class EventType : uint8_t {
  kMessage,
  kFeedback,
  kProductClick,
  kAddToCart,
  kEscalation,
  kWsDisconnect,
  kCircuitBreaker,
  kIntentLabel,
};

// The vocabularies below are indexes into the name tables, so that an event
// carries bytes, not strings, until it is formatted.
enum Intent : uint8_t {
  kProductDiscovery,
  kProductQuestion,
  kFaq,
  kOrderTracking,
  kReturnRequest,
  kRecommendation,
  kChitchat,
  kEscalationIntent,
  kIntentCount,
};
inline constexpr std::string_view kIntentNames[kIntentCount] = {
    "product_discovery", "product_question", "faq",      "order_tracking",
    "return_request",    "recommendation",   "chitchat", "escalation"};

// kNoTopic is written as null.
enum Topic : uint8_t {
  kNoTopic,
  kShipping,
  kReturns,
  kPayments,
  kWarranty,
  kSizing,
  kElectronics,
  kHome,
  kFashion,
  kBeauty,
  kToys,
  kSports,
  kDelivery,
  kTopicCount,
};
inline constexpr std::string_view kTopicNames[kTopicCount] = {
    "",     "shipping", "returns", "payments", "warranty", "sizing",  "electronics",
    "home", "fashion",  "beauty",  "toys",     "sports",   "delivery"};

// kNoService is written as null.
enum Service : uint8_t { kNoService, kBedrock, kCatalog, kOrders, kSearch, kServiceCount };
inline constexpr std::string_view kServiceNames[kServiceCount] = {"", "bedrock", "catalog",
                                                                  "orders", "search"};

enum Reason : uint8_t {
  kUserRequested,
  kLowConfidence,
  kRepeatedFailure,
  kNegativeSentiment,
  kPolicySensitive,
  kReasonCount,
};
inline constexpr std::string_view kReasonNames[kReasonCount] = {
    "user_requested", "low_confidence", "repeated_failure", "negative_sentiment",
    "policy_sensitive"};

enum BreakerState : uint8_t { kOpen, kHalfOpen, kClosed, kBreakerStateCount };
inline constexpr std::string_view kBreakerStateNames[kBreakerStateCount] = {"open", "half_open",
                                                                            "closed"};

// Feedback comments; the first kPositiveComments go with a thumbs-up. Some
// carry quotes and a backslash, as real comments do, so that consumers' JSON
// unescaping is exercised.
inline constexpr int kPositiveComments = 6;
inline constexpr std::string_view kComments[] = {
    "",
    "Thanks!",
    "Very helpful",
    "Found exactly what I needed",
    "Quick answer, great",
    "Loved the \"you may also like\" picks",
    "",
    "Not helpful",
    "That's not what I asked",
    "Tracking page showed \\n instead of a date",
    "Wrong size info",
    "Too slow",
    "Something went wrong: \"please try again later\"",
};
inline constexpr uint8_t kSlowComment = 11;
inline constexpr uint8_t kErrorComment = 12;

// A session of the pool. Its ids are formatted and JSON-quoted once, when it
// starts, and copied into every event of the session.
struct SessionState {
  char id_json[18];    // "<16 lowercase hex digits>", quotes included
  char user_json[26];  // "u<decimal>", quotes included
  uint8_t user_json_size;
  uint8_t turns;    // planned, 3-7
  uint8_t done;     // turns so far
  uint8_t variant;  // 0 = "A", 1 = "B"
  bool wants_human;
  bool had_error;
  bool conversion_drawn;  // a month's conversion quota has seen the session
};

struct TurnFacts {
  uint8_t number;  // 1-based within the session
  Intent intent;
  Topic topic;
  Service error_service;
  bool cache_hit;
  bool guardrail;
  bool timeout;
  uint8_t llm_calls;
  int32_t latency_ms;
  bool treatment;  // the session's user is in the experiment's arm B
};

struct Product {
  char asin_json[12];  // "B0XXXXXXXX", quotes included
  int64_t price_cents;
};

// The facts of one event. `session` and `turn` point into the model and stay
// valid until the next call to Next; they describe the turn that caused the
// event (unset for circuit breaker events).
struct GeneratedEvent {
  EventType type;
  const SessionState* session;
  const TurnFacts* turn;
  const Product* product;  // product_click, add_to_cart
  int8_t rating;           // feedback
  uint8_t comment;         // feedback: index into kComments
  Reason reason;           // escalation
  Intent actual;           // intent_label: the human label
  Service service;         // circuit_breaker
  BreakerState state;      // circuit_breaker
  // circuit_breaker: when the transition happened. It is written as the ts
  // (not jittered, never later than the nominal time), so that an incident's
  // `open` and `closed` mark its interval exactly.
  TimeMs transition_time;
};

class TrafficModel {
 public:
  explicit TrafficModel(const GeneratorOptions& options);

  // Fills `event` with the next event. `nominal` is the event's nominal time
  // and decides when scheduled breaker transitions are due; `ts` is the time
  // it is written with and decides which incidents it falls in.
  void Next(TimeMs nominal, TimeMs ts, GeneratedEvent* event);

 private:
  struct Transition {
    TimeMs time;
    Service service;
    BreakerState state;
  };
  // Incident effects in force at one ts.
  struct Conditions {
    uint32_t active = 0;  // bit per IncidentKind
    Service burst_service = kNoService;
    uint32_t kb_gap_topics = 0;  // bit per Topic
    bool Has(IncidentKind kind) const { return active & (1u << static_cast<int>(kind)); }
  };
  enum FollowUp : uint8_t { kClick, kCart, kFeedback, kLabel, kDisconnect, kEscalate };
  struct Pending {
    FollowUp kind;
    uint8_t detail;  // comment, reason or actual intent
    int8_t rating;
    int32_t product;
  };

  void BuildCatalog();
  void ScheduleIncidentTransitions(const GeneratorOptions& options);
  bool NextTransition(TimeMs nominal, Transition* out);
  Conditions ConditionsAt(TimeMs ts) const;
  const MonthPlan* PlanAt(TimeMs ts);
  void StartSession(SessionState* s);
  void Turn(TimeMs ts, GeneratedEvent* event);
  void DrawTurnOutcome(const Conditions& c, TurnFacts* t);
  void DrawLatency(const Conditions& c, TurnFacts* t);
  void QueueFollowUps(const Conditions& c, bool ends, bool escalates_now, bool draw_conversion);
  void QueueFeedback(const Conditions& c);
  void QueueEscalation(bool escalates_now);
  bool PlannedEscalation(Reason* reason);
  void WriteFollowUp(const Pending& p, GeneratedEvent* event);
  int32_t PickProduct();
  Intent PickIntent();
  Topic PickTopic(Intent intent);

  Rng rng_;
  uint64_t id_salt_;
  std::vector<SessionState> sessions_;
  std::vector<Product> products_;
  uint64_t sessions_started_ = 0;
  uint64_t users_ = 0;

  struct Window {
    IncidentKind kind;
    TimeMs begin;
    TimeMs end;
    Service service;  // error_burst: the failing dependency
    Topic topic;      // kb_gap: the FAQ topic
  };
  std::vector<Window> windows_;

  // Month-by-month figures (GeneratorOptions::months): the plan of the
  // month of the current turn, or null, and the quotas that meet it.
  TimeMs origin_;
  std::vector<MonthPlan> plans_;
  const MonthPlan* plan_ = nullptr;
  int plan_index_ = 0;
  TimeMs plan_begin_ = 0;
  TimeMs plan_end_ = 0;
  MonthQuota asks_;
  MonthQuota escalates_asked_;
  MonthQuota escalates_never_;
  MonthQuota thumbs_up_;
  MonthQuota conversion_;
  std::vector<Transition> transitions_;  // incident transitions, by time
  size_t next_transition_ = 0;
  // A rare harmless flap of a non-LLM breaker: open, half_open 30 s later,
  // closed a second after that, then quiet for an exponential while.
  TimeMs next_flap_;
  int flap_stage_ = 0;
  Service flap_service_ = kCatalog;

  // The last turn, copied so that its follow-ups survive the replacement of
  // its session in the pool.
  SessionState turn_session_{};
  TurnFacts turn_{};
  Pending pending_[8];
  int pending_size_ = 0;
  int pending_next_ = 0;
};

}  // namespace vigil::generator_internal

#endif  // VIGIL_OPERATORS_GENERATOR_GENERATOR_TRAFFIC_H_
