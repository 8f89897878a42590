#include "operators/generator/generator.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <optional>

#include "absl/strings/str_cat.h"
#include "operators/generator/generator_random.h"
#include "operators/generator/generator_text.h"
#include "operators/generator/generator_traffic.h"
#include "operators/generator/generator_writer.h"

namespace vigil {
namespace {

using generator_internal::EventType;
using generator_internal::EventWriter;
using generator_internal::GeneratedEvent;
using generator_internal::JsonString;
using generator_internal::kBreakerStateNames;
using generator_internal::kComments;
using generator_internal::kIntentNames;
using generator_internal::kReasonNames;
using generator_internal::kServiceNames;
using generator_internal::kTopicNames;
using generator_internal::SessionState;

constexpr IncidentKind kIncidentKinds[] = {
    IncidentKind::kLatencySpike,   IncidentKind::kEscalationSurge, IncidentKind::kBedrockOpen,
    IncidentKind::kGuardrailStorm, IncidentKind::kCacheMissStorm,  IncidentKind::kErrorBurst,
    IncidentKind::kKbGap,          IncidentKind::kPromptRegression};

// The topics of FAQ turns: shipping .. sizing (TrafficModel::PickTopic).
std::vector<std::string_view> FaqTopicNames() {
  namespace gi = generator_internal;
  return {gi::kTopicNames + gi::kShipping, gi::kTopicNames + gi::kSizing + 1};
}

constexpr DurationMs kMaxJitter = 7 * 86400000LL;
constexpr DurationMs kMaxIncidentOffset = 100 * 366 * 86400000LL;

// The Abseil of Debian 12 has its own string_view, which StrCat does not
// take from a std::string_view.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part);
  return out;
}

std::string ValidKinds() {
  std::string out;
  for (IncidentKind kind : kIncidentKinds) {
    if (!out.empty()) out += ", ";
    out.append(IncidentName(kind));
  }
  return out;
}

template <size_t N>
void QuoteAll(const std::string_view (&names)[N], std::string* out, bool empty_is_null) {
  for (size_t i = 0; i < N; ++i) {
    out[i] = empty_is_null && names[i].empty() ? "null" : JsonString(names[i]);
  }
}

}  // namespace

std::string_view IncidentName(IncidentKind kind) {
  switch (kind) {
    case IncidentKind::kLatencySpike:
      return "latency_spike";
    case IncidentKind::kEscalationSurge:
      return "escalation_surge";
    case IncidentKind::kBedrockOpen:
      return "bedrock_open";
    case IncidentKind::kGuardrailStorm:
      return "guardrail_storm";
    case IncidentKind::kCacheMissStorm:
      return "cache_miss_storm";
    case IncidentKind::kErrorBurst:
      return "error_burst";
    case IncidentKind::kKbGap:
      return "kb_gap";
    case IncidentKind::kPromptRegression:
      return "prompt_regression";
  }
  return "unknown";
}

absl::StatusOr<Incident> ParseIncident(std::string_view spec) {
  const size_t at = spec.find('@');
  const size_t plus = at == std::string_view::npos ? at : spec.find('+', at);
  if (plus == std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat({"incident '", spec, "': expected <kind>@<start>+<length>, e.g. ",
             "latency_spike@10m+7m; valid kinds: ", ValidKinds()}));
  }
  std::string_view name = spec.substr(0, at);
  Incident incident{};
  if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
    incident.topic = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
  }
  bool known = false;
  for (IncidentKind kind : kIncidentKinds) {
    if (IncidentName(kind) == name) {
      incident.kind = kind;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError(
        Cat({"incident '", spec, "': unknown kind '", name, "'; valid kinds: ", ValidKinds()}));
  }
  if (incident.kind == IncidentKind::kKbGap) {
    const std::vector<std::string_view> topics = FaqTopicNames();
    if (std::find(topics.begin(), topics.end(), incident.topic) == topics.end()) {
      std::string valid;
      for (std::string_view t : topics) valid = Cat({valid, valid.empty() ? "" : ", ", t});
      return absl::InvalidArgumentError(
          Cat({"incident '", spec, "': kb_gap needs an FAQ topic, e.g. kb_gap:returns@7d+14d; ",
               "FAQ topics: ", valid}));
    }
  } else if (!incident.topic.empty()) {
    return absl::InvalidArgumentError(
        Cat({"incident '", spec, "': only kb_gap takes a topic (kind:topic)"}));
  }
  const std::string_view start = spec.substr(at + 1, plus - at - 1);
  const std::string_view length = spec.substr(plus + 1);
  const std::optional<DurationMs> start_ms = ParseDuration(start);
  if (!start_ms) {
    return absl::InvalidArgumentError(Cat({"incident '", spec, "': bad start '", start,
                                           "'; expected a duration such as 10m or 1h30m"}));
  }
  const std::optional<DurationMs> length_ms = ParseDuration(length);
  if (!length_ms || *length_ms <= 0) {
    return absl::InvalidArgumentError(Cat({"incident '", spec, "': bad length '", length,
                                           "'; expected a positive duration such as 7m"}));
  }
  incident.start = *start_ms;
  incident.length = *length_ms;
  return incident;
}

absl::Status ValidateGeneratorOptions(const GeneratorOptions& options) {
  if (!std::isfinite(options.rate) || options.rate <= 0 || options.rate > 1e9) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate ", options.rate, ": expected events per second in (0, 1e9]"));
  }
  if (options.duration < 0) {
    return absl::InvalidArgumentError("duration must not be negative (0 means unbounded)");
  }
  if (options.max_jitter < 0 || options.max_jitter > kMaxJitter) {
    return absl::InvalidArgumentError(
        Cat({"max jitter ", FormatDuration(options.max_jitter), ": expected 0 to 7d"}));
  }
  for (const Incident& incident : options.incidents) {
    if (incident.start < 0 || incident.length <= 0 || incident.start > kMaxIncidentOffset ||
        incident.length > kMaxIncidentOffset) {
      return absl::InvalidArgumentError(Cat(
          {"incident ", IncidentName(incident.kind), "@", FormatDuration(incident.start), "+",
           FormatDuration(incident.length), ": start must be 0 to 100 years and length positive"}));
    }
  }
  return absl::OkStatus();
}

// Formats the model's events. Every name that can appear in an event is
// quoted and escaped once, here, so that writing an event is a sequence of
// copies and a few integer conversions.
class EventGenerator::Impl {
 public:
  explicit Impl(const GeneratorOptions& options)
      : rate_(options.rate),
        start_(options.start),
        duration_(options.duration),
        max_jitter_(options.max_jitter),
        jitter_rng_(generator_internal::Mix64(options.seed ^ 0x717e)),
        model_(options),
        timestamps_(options.epoch_millis) {
    QuoteAll(kIntentNames, intents_, false);
    QuoteAll(kTopicNames, topics_, true);
    QuoteAll(kServiceNames, services_, true);
    QuoteAll(kReasonNames, reasons_, false);
    QuoteAll(kBreakerStateNames, states_, false);
    QuoteAll(kComments, comments_, false);
    variants_[0] = JsonString("A");
    variants_[1] = JsonString("B");
  }

  TimeMs NominalTime(uint64_t i) const {
    return start_ + static_cast<TimeMs>(static_cast<double>(i) * 1000.0 / rate_);
  }

  bool Next(std::string* out);
  uint64_t emitted() const { return emitted_; }

 private:
  void Head(TimeMs ts, std::string_view type_field);
  void SessionId(const SessionState& s);
  void UserId(const SessionState& s);
  void TurnId(const GeneratedEvent& e);
  void Message(const GeneratedEvent& e);
  void Feedback(const GeneratedEvent& e);
  void Cart(const GeneratedEvent& e);
  void Write(TimeMs ts, TimeMs nominal, const GeneratedEvent& e);

  double rate_;
  TimeMs start_;
  DurationMs duration_;
  DurationMs max_jitter_;
  uint64_t emitted_ = 0;
  TimeMs turn_nominal_ = kMinTime, turn_ts_ = kMinTime;  // of the latest turn
  generator_internal::Rng jitter_rng_;
  generator_internal::TrafficModel model_;
  generator_internal::TimestampFormatter timestamps_;
  EventWriter w_;

  // JSON values, quoted and escaped (null for an empty topic or service).
  std::string intents_[std::size(kIntentNames)];
  std::string topics_[std::size(kTopicNames)];
  std::string services_[std::size(kServiceNames)];
  std::string reasons_[std::size(kReasonNames)];
  std::string states_[std::size(kBreakerStateNames)];
  std::string comments_[std::size(kComments)];
  std::string variants_[2];
  generator_internal::TurnText text_;
};

bool EventGenerator::Impl::Next(std::string* out) {
  const TimeMs nominal = NominalTime(emitted_);
  if (duration_ > 0 && nominal - start_ >= duration_) return false;
  TimeMs ts =
      nominal - static_cast<TimeMs>(jitter_rng_.Below(static_cast<uint64_t>(max_jitter_) + 1));
  GeneratedEvent event{};
  model_.Next(nominal, ts, &event);
  // The jitter is how late an event arrives, not a reordering of what
  // happened: a turn's follow-ups (its rating, click, label, the session's
  // escalation or disconnect), written right after it, happen after it, as
  // far after as their nominal times are. Still never later than nominal.
  if (event.type == generator_internal::EventType::kMessage) {
    turn_nominal_ = nominal;
    turn_ts_ = ts;
  } else if (event.type != generator_internal::EventType::kCircuitBreaker &&
             turn_nominal_ != kMinTime) {
    ts = std::max(ts, turn_ts_ + (nominal - turn_nominal_));
  }
  w_.Reset();
  Write(ts, nominal, event);
  out->append(w_.view());
  ++emitted_;
  return true;
}

void EventGenerator::Impl::Write(TimeMs ts, TimeMs nominal, const GeneratedEvent& e) {
  switch (e.type) {
    case EventType::kMessage:
      Head(ts, ",\"type\":\"message\"");
      Message(e);
      break;
    case EventType::kFeedback:
      Head(ts, ",\"type\":\"feedback\"");
      Feedback(e);
      break;
    case EventType::kProductClick:
      Head(ts, ",\"type\":\"product_click\"");
      SessionId(*e.session);
      TurnId(e);
      w_.Literal(",\"asin\":");
      w_.Raw(std::string_view(e.product->asin_json, sizeof e.product->asin_json));
      break;
    case EventType::kAddToCart:
      Head(ts, ",\"type\":\"add_to_cart\"");
      Cart(e);
      break;
    case EventType::kEscalation:
      Head(ts, ",\"type\":\"escalation\"");
      SessionId(*e.session);
      w_.Literal(",\"intent\":");
      w_.Raw(intents_[e.turn->intent]);
      w_.Literal(",\"reason\":");
      w_.Raw(reasons_[e.reason]);
      break;
    case EventType::kWsDisconnect:
      Head(ts, ",\"type\":\"ws_disconnect\"");
      SessionId(*e.session);
      break;
    case EventType::kCircuitBreaker:
      // Never later than the nominal time and never earlier than the jitter
      // allows, so the out-of-order bound holds for these too.
      Head(std::max(e.transition_time, nominal - max_jitter_), ",\"type\":\"circuit_breaker\"");
      w_.Literal(",\"service\":");
      w_.Raw(services_[e.service]);
      w_.Literal(",\"state\":");
      w_.Raw(states_[e.state]);
      break;
    case EventType::kIntentLabel:
      Head(ts, ",\"type\":\"intent_label\"");
      TurnId(e);
      w_.Literal(",\"predicted\":");
      w_.Raw(intents_[e.turn->intent]);
      w_.Literal(",\"actual\":");
      w_.Raw(intents_[e.actual]);
      break;
  }
  w_.Literal("}\n");
}

void EventGenerator::Impl::Head(TimeMs ts, std::string_view type_field) {
  w_.Literal("{\"ts\":");
  timestamps_.Write(ts, w_);
  w_.Raw(type_field);
}

void EventGenerator::Impl::SessionId(const SessionState& s) {
  w_.Literal(",\"session_id\":");
  w_.Raw(std::string_view(s.id_json, sizeof s.id_json));
}

void EventGenerator::Impl::UserId(const SessionState& s) {
  w_.Literal(",\"user_id\":");
  w_.Raw(std::string_view(s.user_json, s.user_json_size));
}

// "<session id>-<turn number>": unique across sessions, so that an
// intent_label, which carries no session, still names one turn. It is the
// quoted session id with "-N" spliced in before the closing quote; neither
// character needs escaping.
void EventGenerator::Impl::TurnId(const GeneratedEvent& e) {
  w_.Literal(",\"turn_id\":");
  w_.Raw(std::string_view(e.session->id_json, sizeof e.session->id_json - 1));
  w_.Char('-');
  w_.Char(static_cast<char>('0' + e.turn->number));
  w_.Char('"');
}

void EventGenerator::Impl::Message(const GeneratedEvent& e) {
  const generator_internal::TurnFacts& t = *e.turn;
  SessionId(*e.session);
  UserId(*e.session);
  TurnId(e);
  w_.Literal(",\"intent\":");
  w_.Raw(intents_[t.intent]);
  w_.Literal(",\"latency_ms\":");
  w_.Int(t.latency_ms);
  w_.Literal(",\"cache_hit\":");
  w_.Bool(t.cache_hit);
  w_.Literal(",\"guardrail_triggered\":");
  w_.Bool(t.guardrail);
  w_.Literal(",\"llm_timeout\":");
  w_.Bool(t.timeout);
  w_.Literal(",\"llm_calls\":");
  w_.Int(t.llm_calls);
  w_.Literal(",\"error_service\":");
  w_.Raw(services_[t.error_service]);
  w_.Literal(",\"variant\":");
  w_.Raw(variants_[e.session->variant]);
  w_.Literal(",\"topic\":");
  w_.Raw(topics_[t.topic]);
  const std::string_view id(e.session->id_json, sizeof e.session->id_json);
  const unsigned pick = generator_internal::TurnText::Pick(id, t.number);
  w_.Literal(",\"user_message\":");
  w_.Raw(text_.UserMessage(t.intent, t.topic, pick));
  w_.Literal(",\"response\":");
  const auto outcome = t.error_service != generator_internal::kNoService || t.timeout
                           ? generator_internal::TurnText::kFailed
                       : t.guardrail ? generator_internal::TurnText::kRefused
                                     : generator_internal::TurnText::kAnswered;
  w_.Raw(text_.Response(t.intent, t.topic, outcome, pick));
}

void EventGenerator::Impl::Feedback(const GeneratedEvent& e) {
  SessionId(*e.session);
  TurnId(e);
  w_.Literal(",\"rating\":");
  w_.Int(e.rating);
  w_.Literal(",\"comment\":");
  w_.Raw(comments_[e.comment]);
  w_.Literal(",\"intent\":");
  w_.Raw(intents_[e.turn->intent]);
  w_.Literal(",\"topic\":");
  w_.Raw(topics_[e.turn->topic]);
  w_.Literal(",\"variant\":");
  w_.Raw(variants_[e.session->variant]);
}

void EventGenerator::Impl::Cart(const GeneratedEvent& e) {
  SessionId(*e.session);
  UserId(*e.session);
  w_.Literal(",\"asin\":");
  w_.Raw(std::string_view(e.product->asin_json, sizeof e.product->asin_json));
  w_.Literal(",\"price\":");
  // Prices are whole cents; writing them as integer and fraction keeps
  // floating-point formatting out of the output.
  w_.Int(e.product->price_cents / 100);
  const auto cents = static_cast<int>(e.product->price_cents % 100);
  w_.Char('.');
  w_.Char(static_cast<char>('0' + cents / 10));
  w_.Char(static_cast<char>('0' + cents % 10));
}

EventGenerator::EventGenerator(const GeneratorOptions& options) {
  assert(ValidateGeneratorOptions(options).ok());
  impl_ = std::make_unique<Impl>(options);
}
EventGenerator::~EventGenerator() = default;
EventGenerator::EventGenerator(EventGenerator&&) noexcept = default;
EventGenerator& EventGenerator::operator=(EventGenerator&&) noexcept = default;

bool EventGenerator::Next(std::string* out) { return impl_->Next(out); }
TimeMs EventGenerator::nominal_time() const { return impl_->NominalTime(impl_->emitted()); }
uint64_t EventGenerator::emitted() const { return impl_->emitted(); }

}  // namespace vigil
