// The generator's incidents: each pushes the metric of the reference rule
// it is meant to trip past its threshold while it lasts, and only then;
// incident specs parse, and bad ones are refused naming the bad part.
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "operators/generator/generator.h"
#include "tests/operators/generator/generator_test_util.h"

namespace vigil {
namespace {

using namespace generator_test;  // NOLINT(google-build-using-namespace)
using ::testing::HasSubstr;

// --- Incidents -------------------------------------------------------------

struct IncidentRun {
  TrafficStats inside, outside;
  std::vector<std::pair<TimeMs, std::string>> bedrock;  // ts, state
};

// Thirty minutes at 100 events/s with the incident from minute 10 to 20; an
// event is inside when its ts is.
IncidentRun RunIncident(std::string_view kind) {
  GeneratorOptions options;
  options.seed = 5;
  options.start = kStart;
  options.rate = 100;
  options.duration = 30 * kMinute;
  options.incidents.push_back(*ParseIncident(std::string(kind) + "@10m+10m"));
  IncidentRun run;
  ForEachGenerated(options, [&](element e) {
    const TimeMs ts = Ts(e);
    const bool inside = ts >= kStart + 10 * kMinute && ts < kStart + 20 * kMinute;
    (inside ? run.inside : run.outside).Add(e);
    if (Str(e, "type") == "circuit_breaker" && Str(e, "service") == "bedrock") {
      run.bedrock.emplace_back(ts, Str(e, "state"));
    }
  });
  return run;
}

TEST(GeneratorIncidentTest, LatencySpikePushesP99PastTenSeconds) {
  const IncidentRun run = RunIncident("latency_spike");
  EXPECT_GT(Quantile(run.inside.latencies, 0.99), 15000);
  EXPECT_GT(Quantile(run.inside.latencies, 0.95), 3000);
  EXPECT_GT(run.inside.Share(run.inside.over_10s), 0.05);
  EXPECT_LT(Quantile(run.outside.latencies, 0.99), 5000);
  EXPECT_LT(run.outside.Share(run.outside.over_10s), 0.001);
}

TEST(GeneratorIncidentTest, EscalationSurgePushesEscalationsPastTwentyPercent) {
  const IncidentRun run = RunIncident("escalation_surge");
  EXPECT_GT(run.inside.Share(run.inside.escalation_intents), 0.30);
  EXPECT_GT(run.inside.Share(run.inside.escalations), 0.20);
  EXPECT_LT(run.outside.Share(run.outside.escalation_intents), 0.07);
  EXPECT_LT(run.outside.Share(run.outside.escalations), 0.05);
}

TEST(GeneratorIncidentTest, BedrockOpenOpensTheBreakerAndFailsMostTurns) {
  const IncidentRun run = RunIncident("bedrock_open");
  ASSERT_GE(run.bedrock.size(), 2u);
  EXPECT_EQ(run.bedrock.front(), std::make_pair(kStart + 10 * kMinute, std::string("open")));
  EXPECT_EQ(run.bedrock.back(), std::make_pair(kStart + 20 * kMinute, std::string("closed")));
  for (size_t i = 1; i + 1 < run.bedrock.size(); ++i) {
    EXPECT_NE(run.bedrock[i].second, "closed") << "probes fail while the incident lasts";
  }
  EXPECT_GT(run.inside.Share(run.inside.errors), 0.8);
  EXPECT_LT(run.outside.Share(run.outside.errors), 0.03);
}

TEST(GeneratorIncidentTest, GuardrailStormPushesTriggerRatePastFivePercent) {
  const IncidentRun run = RunIncident("guardrail_storm");
  EXPECT_GT(run.inside.Share(run.inside.guardrails), 0.08);
  EXPECT_LT(run.outside.Share(run.outside.guardrails), 0.02);
}

TEST(GeneratorIncidentTest, CacheMissStormPushesHitRateBelowThirtyPercent) {
  const IncidentRun run = RunIncident("cache_miss_storm");
  EXPECT_LT(run.inside.Share(run.inside.cache_hits), 0.25);
  EXPECT_GT(run.outside.Share(run.outside.cache_hits), 0.65);
}

TEST(GeneratorIncidentTest, ErrorBurstPushesErrorRatePastFivePercent) {
  const IncidentRun run = RunIncident("error_burst");
  EXPECT_GT(run.inside.Share(run.inside.errors), 0.10);
  EXPECT_LT(run.outside.Share(run.outside.errors), 0.025);
  EXPECT_TRUE(run.bedrock.empty());
}

// Arm B of the prompt experiment, inside the incident: its median latency
// 1.6 times arm A's and a quarter of its ratings down; outside, the arms
// alike.
TEST(GeneratorIncidentTest, PromptRegressionSlowsArmBAndGetsItRatedDown) {
  GeneratorOptions options;
  options.seed = 5;
  options.start = kStart;
  options.rate = 100;
  options.duration = 30 * kMinute;
  options.incidents.push_back(*ParseIncident("prompt_regression@10m+10m"));
  std::vector<int64_t> latency[2][2];  // [inside][arm B]
  int64_t ratings[2][2] = {}, down[2][2] = {};
  ForEachGenerated(options, [&](element e) {
    const TimeMs ts = Ts(e);
    const int in = ts >= kStart + 10 * kMinute && ts < kStart + 20 * kMinute;
    const std::string_view type = Str(e, "type");
    if (type != "message" && type != "feedback") return;
    const int b = Str(e, "variant") == "B";
    if (type == "message") {
      latency[in][b].push_back(e["latency_ms"].get_int64().value());
    } else {
      ++ratings[in][b];
      down[in][b] += e["rating"].get_int64().value() < 0;
    }
  });
  const double inside_ratio = Quantile(latency[1][1], 0.5) / Quantile(latency[1][0], 0.5);
  EXPECT_GT(inside_ratio, 1.45);
  EXPECT_LT(inside_ratio, 1.75);
  const double outside_ratio = Quantile(latency[0][1], 0.5) / Quantile(latency[0][0], 0.5);
  EXPECT_GT(outside_ratio, 0.9);
  EXPECT_LT(outside_ratio, 1.1);
  EXPECT_GT(static_cast<double>(down[1][1]) / static_cast<double>(ratings[1][1]), 0.22);
  EXPECT_LT(static_cast<double>(down[1][0]) / static_cast<double>(ratings[1][0]), 0.15);
  EXPECT_LT(static_cast<double>(down[0][1]) / static_cast<double>(ratings[0][1]), 0.15);
}

TEST(GeneratorIncidentTest, ParsesKindStartAndLength) {
  const absl::StatusOr<Incident> spike = ParseIncident("latency_spike@10m+7m");
  ASSERT_TRUE(spike.ok()) << spike.status();
  EXPECT_EQ(spike->kind, IncidentKind::kLatencySpike);
  EXPECT_EQ(spike->start, 10 * kMinute);
  EXPECT_EQ(spike->length, 7 * kMinute);
  const absl::StatusOr<Incident> burst = ParseIncident("error_burst@0+1h30m");
  ASSERT_TRUE(burst.ok()) << burst.status();
  EXPECT_EQ(burst->start, 0);
  EXPECT_EQ(burst->length, 90 * kMinute);
  for (IncidentKind kind :
       {IncidentKind::kLatencySpike, IncidentKind::kEscalationSurge, IncidentKind::kBedrockOpen,
        IncidentKind::kGuardrailStorm, IncidentKind::kCacheMissStorm, IncidentKind::kErrorBurst,
        IncidentKind::kPromptRegression}) {
    const std::string spec = std::string(IncidentName(kind)) + "@1s+250ms";
    const absl::StatusOr<Incident> parsed = ParseIncident(spec);
    ASSERT_TRUE(parsed.ok()) << spec;
    EXPECT_EQ(parsed->kind, kind);
    EXPECT_EQ(parsed->length, 250);
  }
}

TEST(GeneratorIncidentTest, KbGapTakesAnFaqTopic) {
  const absl::StatusOr<Incident> gap = ParseIncident("kb_gap:returns@7d+14d");
  ASSERT_TRUE(gap.ok()) << gap.status();
  EXPECT_EQ(gap->kind, IncidentKind::kKbGap);
  EXPECT_EQ(gap->topic, "returns");
  EXPECT_EQ(gap->start, 7 * 24 * 60 * kMinute);
  EXPECT_EQ(ParseIncident("kb_gap@1m+1m").status().message(),
            "incident 'kb_gap@1m+1m': kb_gap needs an FAQ topic, e.g. kb_gap:returns@7d+14d; "
            "FAQ topics: shipping, returns, payments, warranty, sizing");
  EXPECT_EQ(ParseIncident("kb_gap:toys@1m+1m").status().message(),
            "incident 'kb_gap:toys@1m+1m': kb_gap needs an FAQ topic, e.g. "
            "kb_gap:returns@7d+14d; FAQ topics: shipping, returns, payments, warranty, sizing");
  EXPECT_EQ(ParseIncident("latency_spike:returns@1m+1m").status().message(),
            "incident 'latency_spike:returns@1m+1m': only kb_gap takes a topic (kind:topic)");
}

// Inside the gap, FAQ answers on its topic get thumbs-down 60% of the time;
// outside it (and on other topics) at the usual rates.
TEST(GeneratorIncidentTest, KbGapRaisesThumbsDownOnItsTopicOnly) {
  GeneratorOptions options;
  options.seed = 9;
  options.start = kStart;
  options.rate = 200;
  options.duration = 60 * kMinute;
  options.incidents.push_back(*ParseIncident("kb_gap:returns@20m+20m"));
  int64_t in_down = 0, in_all = 0, out_down = 0, out_all = 0, other_down = 0, other_all = 0;
  ForEachGenerated(options, [&](element e) {
    if (Str(e, "type") != "feedback" || Str(e, "intent") != "faq") return;
    const TimeMs ts = Ts(e);
    const bool down = e["rating"].get_int64().value() < 0;
    const bool inside = ts >= kStart + 20 * kMinute + 5000 && ts < kStart + 40 * kMinute;
    if (Str(e, "topic") != "returns") {
      if (inside) {
        other_down += down;
        ++other_all;
      }
    } else if (inside) {
      in_down += down;
      ++in_all;
    } else if (ts < kStart + 20 * kMinute || ts >= kStart + 40 * kMinute + 60000) {
      out_down += down;
      ++out_all;
    }
  });
  ASSERT_GT(in_all, 200);
  ASSERT_GT(out_all, 200);
  EXPECT_GT(static_cast<double>(in_down) / in_all, 0.5);
  EXPECT_LT(static_cast<double>(out_down) / out_all, 0.15);
  EXPECT_LT(static_cast<double>(other_down) / other_all, 0.2);
}

TEST(GeneratorIncidentTest, RejectsBadSpecsNamingTheBadPart) {
  const auto message = [](std::string_view spec) {
    const absl::StatusOr<Incident> parsed = ParseIncident(spec);
    EXPECT_FALSE(parsed.ok()) << spec;
    return std::string(parsed.status().message());
  };
  EXPECT_THAT(message("latency_spike"), HasSubstr("expected <kind>@<start>+<length>"));
  EXPECT_THAT(message("latency_spike@10m"), HasSubstr("expected <kind>@<start>+<length>"));
  EXPECT_THAT(message("latency+spike@1m"), HasSubstr("expected <kind>@<start>+<length>"));
  const std::string unknown = message("slow@1m+1m");
  EXPECT_THAT(unknown, HasSubstr("unknown kind 'slow'"));
  EXPECT_THAT(unknown, HasSubstr("latency_spike, escalation_surge, bedrock_open, "
                                 "guardrail_storm, cache_miss_storm, error_burst, kb_gap"));
  EXPECT_THAT(message("bedrock_open@ten+1m"), HasSubstr("bad start 'ten'"));
  EXPECT_THAT(message("bedrock_open@-1m+1m"), HasSubstr("bad start '-1m'"));
  EXPECT_THAT(message("bedrock_open@1m+0"), HasSubstr("bad length '0'"));
  EXPECT_THAT(message("bedrock_open@1m+"), HasSubstr("bad length ''"));
  EXPECT_THAT(message("bedrock_open@1m+5x"), HasSubstr("bad length '5x'"));
}

}  // namespace
}  // namespace vigil
