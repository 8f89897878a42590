#include "operators/generator/generator.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/generator/generator_random.h"
#include "operators/generator/generator_writer.h"
#include "tests/operators/generator/generator_test_util.h"

namespace vigil {
namespace {

using namespace generator_test;  // NOLINT(google-build-using-namespace)
using ::testing::HasSubstr;

// --- Determinism and framing ----------------------------------------------

TEST(GeneratorTest, SameSeedGivesTheSameBytesAndAnotherSeedDoesNot) {
  GeneratorOptions options;
  options.seed = 42;
  options.incidents.push_back(*ParseIncident("bedrock_open@5s+20s"));
  const std::string a = Generate(options, 20000);
  const std::string b = Generate(options, 20000);
  EXPECT_EQ(a, b);
  options.seed = 43;
  EXPECT_NE(a, Generate(options, 20000));
}

// The output of a seed is pinned: the generator uses no std:: distribution or
// libm function, so these bytes must come out of every compiler, standard
// library and machine. A deliberate change to the traffic model updates it.
TEST(GeneratorTest, OutputOfASeedIsPinned) {
  GeneratorOptions options;
  options.seed = 2026;
  options.start = kStart;
  options.incidents.push_back(*ParseIncident("latency_spike@3s+3s"));
  const std::string out = Generate(options, 20000);
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : out) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  EXPECT_EQ(out.size(), 7004573u);
  EXPECT_EQ(hash, 7840732080385698653u);
  // The turns' text (user_message, response, the last two fields of a
  // message) is picked from the turn, not from the model's random stream:
  // without it, the output is byte for byte what it was before it existed.
  std::string without;
  size_t line = 0;
  while (line < out.size()) {
    const size_t end = out.find('\n', line);
    std::string_view l(out.data() + line, end - line);
    const size_t text = l.find(",\"user_message\":");
    if (text != std::string_view::npos) {
      without.append(l.substr(0, text)).append("}");
    } else {
      without.append(l);
    }
    without.push_back('\n');
    line = end + 1;
  }
  hash = 0xcbf29ce484222325ULL;
  for (char c : without) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  EXPECT_EQ(without.size(), 5378281u);
  EXPECT_EQ(hash, 1023124633657043986u);
}

// A turn's text fits its intent and topic, and the bot's answer to a failed
// or refused turn is the apology or the refusal.
TEST(GeneratorTest, TurnsCarryTextOfTheirIntentAndTopic) {
  GeneratorOptions options;
  options.seed = 7;
  options.start = kStart;
  options.incidents.push_back(*ParseIncident("bedrock_open@5s+5s"));
  const std::string out = Generate(options, 5000);
  simdjson::dom::parser parser;
  size_t faq = 0, failed = 0, answered = 0;
  for (std::string_view l : StrSplit(out, '\n')) {
    if (l.empty()) continue;
    element e = parser.parse(l).value();
    if (std::string_view(e["type"].get_string().value()) != "message") continue;
    const std::string_view intent = e["intent"].get_string().value();
    const std::string_view user = e["user_message"].get_string().value();
    const std::string_view response = e["response"].get_string().value();
    EXPECT_FALSE(user.empty() || response.empty()) << l;
    if (intent == "faq" && e["topic"].is_string()) {
      ++faq;
      EXPECT_NE(user.find(e["topic"].get_string().value()), std::string_view::npos) << l;
    }
    if (!e["error_service"].is_null() || e["llm_timeout"].get_bool().value()) {
      ++failed;
      EXPECT_EQ(response, "Sorry, something went wrong on our side. Please try again in a moment.");
    } else {
      ++answered;
    }
  }
  EXPECT_GT(faq, 10u);
  EXPECT_GT(failed, 10u);
  EXPECT_GT(answered, 100u);
}

// The fields of each event type beside ts and type (DESIGN.md §2), as
// name:kind with kinds s (string), s? (string or null), i (integer),
// b (boolean) and n (number).
const std::map<std::string_view, std::string_view> kSchema = {
    {"message",
     "session_id:s user_id:s turn_id:s intent:s latency_ms:i cache_hit:b "
     "guardrail_triggered:b llm_timeout:b llm_calls:i error_service:s? variant:s topic:s? "
     "user_message:s response:s"},
    {"feedback", "session_id:s turn_id:s rating:i comment:s intent:s topic:s? variant:s"},
    {"product_click", "session_id:s turn_id:s asin:s"},
    {"add_to_cart", "session_id:s user_id:s asin:s price:n"},
    {"escalation", "session_id:s intent:s reason:s"},
    {"ws_disconnect", "session_id:s"},
    {"circuit_breaker", "service:s state:s"},
    {"intent_label", "turn_id:s predicted:s actual:s"},
};

void ExpectSchema(element e, std::string_view fields) {
  size_t count = 0;
  for (size_t pos = 0; pos < fields.size(); ++count) {
    size_t end = fields.find(' ', pos);
    if (end == std::string_view::npos) end = fields.size();
    const std::string_view spec = fields.substr(pos, end - pos);
    pos = end + 1;
    const std::string field(spec.substr(0, spec.find(':')));
    const std::string_view kind = spec.substr(spec.find(':') + 1);
    const element_type t = TypeOf(e, field.c_str());
    bool ok = t == element_type::STRING || (kind == "s?" && t == element_type::NULL_VALUE);
    if (kind == "i") ok = t == element_type::INT64;
    if (kind == "b") ok = t == element_type::BOOL;
    if (kind == "n") ok = t == element_type::INT64 || t == element_type::DOUBLE;
    EXPECT_TRUE(ok) << field << " is not " << kind << " in " << e;
  }
  EXPECT_EQ(e.get_object().value().size(), count + 2) << "no other fields in " << e;
}

void ExpectValues(element e, std::string_view type) {
  if (type == "message") {
    EXPECT_NE(std::find(std::begin(kIntents), std::end(kIntents), Str(e, "intent")),
              std::end(kIntents))
        << e;
    EXPECT_GE(e["llm_calls"].get_int64().value(), 1);
    EXPECT_LE(e["llm_calls"].get_int64().value(), 3);
    EXPECT_GT(e["latency_ms"].get_int64().value(), 0);
    EXPECT_THAT(Str(e, "turn_id"), HasSubstr(Str(e, "session_id")));
  } else if (type == "feedback") {
    EXPECT_EQ(std::abs(e["rating"].get_int64().value()), 1);
  } else if (type == "product_click" || type == "add_to_cart") {
    EXPECT_EQ(Str(e, "asin").size(), 10u);
    EXPECT_EQ(Str(e, "asin").substr(0, 2), "B0");
  }
}

TEST(GeneratorTest, EveryLineIsAnEventWithTheFieldsOfItsType) {
  for (bool epoch_millis : {false, true}) {
    GeneratorOptions options;
    options.start = kStart;
    options.rate = 50;
    options.duration = 40 * kMinute;
    options.epoch_millis = epoch_millis;
    options.incidents.push_back(*ParseIncident("bedrock_open@10m+5m"));
    std::map<std::string_view, int> seen;
    ForEachGenerated(options, [&](element e) {
      EXPECT_EQ(TypeOf(e, "ts"), epoch_millis ? element_type::INT64 : element_type::STRING);
      Ts(e);
      const auto it = kSchema.find(Str(e, "type"));
      ASSERT_NE(it, kSchema.end()) << e;
      ++seen[it->first];
      ExpectSchema(e, it->second);
      ExpectValues(e, it->first);
    });
    EXPECT_EQ(seen.size(), kSchema.size()) << "every event type appears";
  }
}

TEST(GeneratorTest, TimestampsLagTheNominalTimeByAtMostTheJitter) {
  for (DurationMs jitter : {DurationMs{0}, DurationMs{250}, DurationMs{2000}}) {
    GeneratorOptions options;
    options.start = kStart;
    options.max_jitter = jitter;
    options.epoch_millis = true;
    options.incidents.push_back(*ParseIncident("bedrock_open@10s+2m"));
    EventGenerator gen(options);
    std::string line;
    TimeMs max_ts = kStart - 10 * kMinute;
    bool lagged = false;
    simdjson::dom::parser parser;
    for (int i = 0; i < 200000; ++i) {
      const TimeMs nominal = gen.nominal_time();
      EXPECT_EQ(nominal, kStart + i);  // 1000 events/s
      line.clear();
      ASSERT_TRUE(gen.Next(&line));
      const TimeMs ts = parser.parse(line)["ts"].get_int64().value();
      ASSERT_LE(ts, nominal);
      ASSERT_GE(ts, nominal - jitter);
      ASSERT_GE(ts, max_ts - jitter) << "event " << i;
      lagged |= ts < nominal;
      max_ts = std::max(max_ts, ts);
    }
    EXPECT_EQ(lagged, jitter > 0);
    EXPECT_EQ(gen.emitted(), 200000u);
  }
}

// The jitter delays arrival; it does not reorder what happened: a rating,
// click or label is never stamped before its turn, nor an escalation before
// the session's turn it follows, so the reference joins (`after` their
// turn) see every one.
TEST(GeneratorTest, AFollowUpIsNeverStampedBeforeItsTurn) {
  GeneratorOptions options;
  options.start = kStart;
  options.max_jitter = 2000;
  options.epoch_millis = true;
  options.incidents.push_back(*ParseIncident("escalation_surge@10s+1m"));
  EventGenerator gen(options);
  simdjson::dom::parser parser;
  std::unordered_map<std::string, TimeMs> turn_ts, session_turn_ts;
  int follow_ups = 0, escalations = 0;
  std::string line;
  for (int i = 0; i < 200000; ++i) {
    line.clear();
    ASSERT_TRUE(gen.Next(&line));
    simdjson::dom::element e = parser.parse(line);
    const std::string_view type = e["type"].get_string().value();
    const TimeMs ts = e["ts"].get_int64().value();
    std::string_view turn, session;
    if (e["turn_id"].get(turn) != simdjson::SUCCESS) turn = "";
    if (e["session_id"].get(session) != simdjson::SUCCESS) session = "";
    if (type == "message") {
      turn_ts[std::string(turn)] = ts;
      session_turn_ts[std::string(session)] = ts;
    } else if (!turn.empty() && turn_ts.contains(std::string(turn))) {
      ASSERT_GE(ts, turn_ts[std::string(turn)]) << line;
      ++follow_ups;
    } else if (type == "escalation" && session_turn_ts.contains(std::string(session))) {
      ASSERT_GE(ts, session_turn_ts[std::string(session)]) << line;
      ++escalations;
    }
  }
  EXPECT_GT(follow_ups, 10000);
  EXPECT_GT(escalations, 100);
}

TEST(GeneratorTest, DurationEndsTheStreamAtTheNominalCount) {
  struct Case {
    double rate;
    DurationMs duration;
    uint64_t events;
  };
  for (const Case& c : {Case{1000, 10000, 10000}, Case{3, 1000, 3}, Case{7.5, 2000, 15},
                        Case{0.5, 5000, 3}, Case{333.3, 3000, 1000}, Case{1e6, 100, 100000}}) {
    GeneratorOptions options;
    options.rate = c.rate;
    options.duration = c.duration;
    EventGenerator gen(options);
    std::string out;
    while (gen.Next(&out)) {
    }
    EXPECT_EQ(gen.emitted(), c.events) << c.rate << " events/s for " << c.duration << " ms";
    EXPECT_EQ(static_cast<uint64_t>(std::count(out.begin(), out.end(), '\n')), c.events);
    const size_t size = out.size();
    EXPECT_FALSE(gen.Next(&out));
    EXPECT_EQ(out.size(), size);
    EXPECT_GE(gen.nominal_time(), c.duration);
  }
}

// --- Normal traffic --------------------------------------------------------

TEST(GeneratorTest, IntentMixFollowsTheSeedMix) {
  GeneratorOptions options;
  options.seed = 9;
  TrafficStats stats;
  EventGenerator gen(options);
  std::string out;
  out.reserve(1 << 20);
  while (stats.messages < 200000) {
    out.clear();
    for (int i = 0; i < 1000; ++i) gen.Next(&out);
    ForEachEvent(out, [&](element e) {
      if (stats.messages < 200000) stats.Add(e);
    });
  }
  constexpr double kSeedMix[] = {0.10, 0.15, 0.25, 0.20, 0.05, 0.15, 0.10, 0.05};
  for (size_t i = 0; i < std::size(kIntents); ++i) {
    EXPECT_NEAR(stats.Share(stats.intents[i]), kSeedMix[i], 0.015) << kIntents[i];
  }
}

// Thirty minutes at 300 events/s, checked as the reference rules would in
// one-minute windows: no P1 or P2 threshold is crossed in any of them.
TEST(GeneratorTest, NormalTrafficStaysInsideEveryAlertThreshold) {
  GeneratorOptions options;
  options.start = kStart;
  options.rate = 300;
  options.duration = 30 * kMinute;
  std::map<int64_t, TrafficStats> minutes;
  TrafficStats all;
  std::unordered_map<std::string, int> session_turns;
  std::set<std::string> escalated_sessions;
  ForEachGenerated(options, [&](element e) {
    minutes[FloorDiv(Ts(e), kMinute)].Add(e);
    all.Add(e);
    if (Str(e, "type") == "message") ++session_turns[std::string(Str(e, "session_id"))];
    if (Str(e, "type") == "escalation") {
      escalated_sessions.insert(std::string(Str(e, "session_id")));
    }
  });
  const double median = Quantile(all.latencies, 0.5);
  EXPECT_NEAR(median, 700, 70);
  EXPECT_LT(Quantile(all.latencies, 0.95), 2500);
  EXPECT_LT(Quantile(all.latencies, 0.99), 5000);
  EXPECT_NEAR(all.Share(all.cache_hits), 0.70, 0.02);
  EXPECT_NEAR(all.Share(all.guardrails), 0.01, 0.003);
  EXPECT_NEAR(all.Share(all.timeouts), 0.005, 0.002);
  EXPECT_LT(all.Share(all.errors), 0.025);
  EXPECT_LT(static_cast<double>(all.thumbs_down) / static_cast<double>(all.feedback), 0.12);
  EXPECT_NEAR(static_cast<double>(all.feedback) / static_cast<double>(all.messages), 0.15, 0.01);
  EXPECT_NEAR(static_cast<double>(all.labels_agreeing) / static_cast<double>(all.labels), 0.95,
              0.02);
  EXPECT_EQ(all.bedrock_opens, 0);
  EXPECT_LT(
      static_cast<double>(escalated_sessions.size()) / static_cast<double>(session_turns.size()),
      0.09);
  for (const auto& [minute, m] : minutes) {
    if (m.messages < 10000) continue;  // the partial minutes at either end
    SCOPED_TRACE(FormatTimestamp(minute * kMinute));
    EXPECT_LT(Quantile(m.latencies, 0.99), 10000);
    EXPECT_LT(Quantile(m.latencies, 0.95), 3000);
    EXPECT_LT(m.Share(m.errors), 0.05);
    EXPECT_LT(m.Share(m.escalations), 0.10);
    EXPECT_LT(m.Share(m.escalation_intents), 0.08);
    EXPECT_LT(m.Share(m.guardrails), 0.05);
    EXPECT_GT(m.Share(m.cache_hits), 0.50);
  }
}

TEST(GeneratorTest, SessionsHaveThreeToSevenTurnsAndUsersReturn) {
  GeneratorOptions options;
  options.rate = 100;
  options.duration = 30 * kMinute;
  std::unordered_map<std::string, std::pair<int, std::string>> sessions;  // turns, user
  ForEachGenerated(options, [&](element e) {
    if (Str(e, "type") != "message") return;
    auto& [turns, user] = sessions[std::string(Str(e, "session_id"))];
    ++turns;
    EXPECT_EQ(Str(e, "turn_id").back(), '0' + turns) << "turns arrive in order";
    user = Str(e, "user_id");
  });
  std::map<int, int> lengths;
  std::unordered_map<std::string, int> sessions_per_user;
  for (const auto& [id, s] : sessions) {
    ++lengths[s.first];
    ++sessions_per_user[s.second];
  }
  EXPECT_EQ(lengths.rbegin()->first, 7);
  for (int turns = 3; turns <= 7; ++turns) EXPECT_GT(lengths[turns], 1000) << turns;
  const auto returning = std::count_if(sessions_per_user.begin(), sessions_per_user.end(),
                                       [](const auto& u) { return u.second > 1; });
  EXPECT_GT(returning, static_cast<ptrdiff_t>(sessions_per_user.size() / 10));
}

TEST(GeneratorTest, OtherBreakersFlapRarelyAndHarmlessly) {
  GeneratorOptions options;
  options.rate = 5;
  options.duration = 24 * 60 * kMinute;
  std::vector<std::pair<std::string, std::string>> transitions;
  TrafficStats stats;
  ForEachGenerated(options, [&](element e) {
    stats.Add(e);
    if (Str(e, "type") == "circuit_breaker") {
      transitions.emplace_back(Str(e, "service"), Str(e, "state"));
    }
  });
  ASSERT_GE(transitions.size(), 3u * 10);  // a flap every 45 min on average
  ASSERT_LE(transitions.size(), 3u * 60);
  constexpr const char* kCycle[] = {"open", "half_open", "closed"};
  for (size_t i = 0; i < transitions.size(); ++i) {
    EXPECT_NE(transitions[i].first, "bedrock");
    EXPECT_EQ(transitions[i].second, kCycle[i % 3]);
  }
  EXPECT_LT(stats.Share(stats.errors), 0.025);
}

TEST(GeneratorTest, ValidatesOptions) {
  EXPECT_TRUE(ValidateGeneratorOptions(GeneratorOptions{}).ok());
  const auto invalid = [](auto mutate) {
    GeneratorOptions options;
    mutate(options);
    return !ValidateGeneratorOptions(options).ok();
  };
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.rate = 0; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.rate = -5; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.rate = std::nan(""); }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.duration = -1; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) { o.max_jitter = -1; }));
  EXPECT_TRUE(invalid([](GeneratorOptions& o) {
    o.incidents.push_back({IncidentKind::kErrorBurst, 0, 0, {}});
  }));
}

// --- Internals -------------------------------------------------------------

TEST(GeneratorRandomTest, OwnExpAndLogMatchLibm) {
  using generator_internal::DeterministicExp;
  using generator_internal::DeterministicLog;
  for (double x = -30; x <= 30; x += 0.0137) {
    EXPECT_NEAR(DeterministicExp(x) / std::exp(x), 1, 1e-14) << x;
  }
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    EXPECT_NEAR(DeterministicLog(x), std::log(x), 1e-12 * std::max(1.0, std::abs(std::log(x))))
        << x;
  }
}

TEST(GeneratorRandomTest, DistributionsHaveTheirMoments) {
  generator_internal::Rng rng(3);
  constexpr int kDraws = 400000;
  double sum = 0, sum_sq = 0;
  int below = 0, chance = 0;
  std::vector<int64_t> lognormal;
  for (int i = 0; i < kDraws; ++i) {
    const double z = rng.Normal();
    sum += z;
    sum_sq += z * z;
    const uint64_t b = rng.Below(10);
    ASSERT_LT(b, 10u);
    below += b == 0;
    chance += rng.Chance(0.25);
    lognormal.push_back(static_cast<int64_t>(rng.LogNormal(700, 0.62)));
  }
  EXPECT_NEAR(sum / kDraws, 0, 0.01);
  EXPECT_NEAR(sum_sq / kDraws, 1, 0.01);
  EXPECT_NEAR(below / double{kDraws}, 0.1, 0.003);
  EXPECT_NEAR(chance / double{kDraws}, 0.25, 0.003);
  EXPECT_NEAR(Quantile(lognormal, 0.5), 700, 10);
}

TEST(GeneratorWriterTest, EscapesStringsThatJsonParsersReadBack) {
  const std::string nasty = std::string("quote \" backslash \\ tab \t nl \n bell \x07 nul ") +
                            std::string(1, '\0') + " utf8 \xc3\xa9";
  std::string json = "{\"s\":";
  generator_internal::AppendJsonString(nasty, &json);
  json += "}";
  simdjson::dom::parser parser;
  std::string_view back;
  ASSERT_EQ(parser.parse(json)["s"].get(back), simdjson::SUCCESS) << json;
  EXPECT_EQ(back, nasty);
  generator_internal::EventWriter w;
  w.String(nasty);
  EXPECT_EQ(w.view(), generator_internal::JsonString(nasty));
}

}  // namespace
}  // namespace vigil
