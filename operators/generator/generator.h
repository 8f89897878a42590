// operators/generator/generator.h
//
// EventGenerator produces synthetic traffic of the reference shopping
// assistant (DESIGN.md §2) as NDJSON: interleaved sessions of 3-7 bot turns
// with the seed intent mix, followed by the clicks, carts, feedback,
// escalations, intent labels and disconnections they cause, and the circuit
// breaker transitions of the LLM dependency. It backs `vigil gen`, the
// in-process generator source, the benchmarks and the end-to-end tests.
//
// Output is a pure function of the options. The generator draws from its own
// PRNG and distributions (the standard library does not fix its
// distributions' algorithms), so a seed gives the same bytes on every machine.
//
// Normal traffic stays inside every P1 and P2 threshold of the reference rules
// (DESIGN.md §4). An incident pushes its metric clearly past the threshold for
// the events whose `ts` falls in [start + incident.start, start +
// incident.start + incident.length): the rules see the incident exactly where
// event time says it is, whatever order the events arrive in.
//
// Event i has the nominal time start + i * 1000 / rate ms (every event counts,
// not only messages); the `ts` written lags it by a uniform jitter in [0,
// max_jitter]. The stream is therefore out of order by at most max_jitter, and
// a watermark with that out-of-orderness never sees a late event.
//
// Example:
//   GeneratorOptions options;
//   options.seed = 7;
//   options.start = 1795518000000;  // 2026-11-24T11:00:00Z
//   options.duration = 60'000;
//   options.incidents.push_back(*ParseIncident("latency_spike@20s+30s"));
//   EventGenerator gen(options);
//   std::string batch;
//   while (gen.Next(&batch)) {
//     if (batch.size() > (1 << 20)) Flush(&batch);
//   }
//   gen.emitted();   // 60'000: one minute at the default 1000 events/s
//   // Each line: {"ts":"2026-11-24T11:00:00.412Z","type":"message",...}
#ifndef VIGIL_OPERATORS_GENERATOR_GENERATOR_H_
#define VIGIL_OPERATORS_GENERATOR_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/generator/generator_months.h"

namespace vigil {

// What goes wrong during an incident, and which reference rule it trips.
enum class IncidentKind {
  kLatencySpike,     // p99 latency far above 10 s, p95 above 3 s (P1, P2)
  kEscalationSurge,  // escalation share above 20% (P1)
  kBedrockOpen,      // the Bedrock circuit breaker opens; most turns fail (P1)
  kGuardrailStorm,   // guardrail trigger rate above 5% (P2)
  kCacheMissStorm,   // cache hit rate below 30% (P2)
  kErrorBurst,       // one dependency fails: error rate above 5% (P1)
  kKbGap,            // FAQ answers on one topic miss: 60% of their ratings are thumbs-down (P3)
  // Arm B of the prompt experiment answers 60% slower and is rated down
  // 25% of the time (the experiment's guardrail and thumbs-up comparison).
  kPromptRegression,
};

struct Incident {
  IncidentKind kind;
  DurationMs start;   // offset from GeneratorOptions::start
  DurationMs length;  // > 0
  std::string topic;  // kb_gap: the FAQ topic ("returns"); "" otherwise
};

// Parses "<kind>@<start>+<length>", durations as in rule files:
// "latency_spike@10m+7m" starts 10 minutes after the generator's start and
// lasts 7 minutes. kb_gap names its FAQ topic: "kb_gap:returns@7d+14d". An
// error names the bad part and lists the valid kinds (or topics).
absl::StatusOr<Incident> ParseIncident(std::string_view spec);

// The name ParseIncident accepts: "latency_spike", "escalation_surge",
// "bedrock_open", "guardrail_storm", "cache_miss_storm", "error_burst", "kb_gap",
// "prompt_regression".
std::string_view IncidentName(IncidentKind kind);

struct GeneratorOptions {
  uint64_t seed = 1;
  double rate = 1000;            // events per second of event time
  TimeMs start = 0;              // event-time origin
  DurationMs duration = 0;       // 0 = unbounded
  DurationMs max_jitter = 2000;  // emitted ts may lag the nominal time by up to this
  bool epoch_millis = false;     // ts as integer epoch ms instead of RFC 3339
  std::vector<Incident> incidents;
  // Month-by-month tracker figures the traffic meets (generator_months.h):
  // months[i] holds in the i-th calendar month from start's, the last one
  // from then on. Empty: the model's own traffic.
  std::vector<MonthProfile> months;
};

// Checks what a user can get wrong on the command line: a rate that is not a
// positive finite number of at most 1e9, a negative duration or jitter, an
// incident with a negative start or a non-positive length. EventGenerator
// requires options that pass.
absl::Status ValidateGeneratorOptions(const GeneratorOptions& options);

// Not thread-safe; give each thread its own generator (with its own seed).
class EventGenerator {
 public:
  explicit EventGenerator(const GeneratorOptions& options);
  ~EventGenerator();
  EventGenerator(EventGenerator&&) noexcept;
  EventGenerator& operator=(EventGenerator&&) noexcept;

  // Appends the next event as one JSON object followed by '\n'. Returns
  // false, appending nothing, once `duration` is exhausted. Allocates nothing
  // beyond the growth of `out`.
  bool Next(std::string* out);

  // Nominal event time of the next event, for pacing a live run against the
  // wall clock.
  TimeMs nominal_time() const;

  // Events appended so far.
  uint64_t emitted() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_GENERATOR_GENERATOR_H_
