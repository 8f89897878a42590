// An instance killed in the middle of a publication, over the Kafka
// protocol on loopback: the development broker (librdkafka's mock cluster)
// shows the messages of aborted transactions to read_committed readers, as
// a broker without transaction markers would. The merge stage must count
// the aborted panes nowhere and the complete publication that follows once:
// its windows equal one `vigil run` over the same events. Panes whose
// publication never completes are reported at the end.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "operators/net/kafka_writer.h"
#include "operators/scale_out/partials.h"
#include "runtime/dev_broker.h"
#include "tests/operators/dataflow/operator_harness.h"
#include "tests/operators/scale_out/scale_out_rules.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::vector<std::string> Sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(MergePublicationE2eTest, PanesOfAPublicationAKillCutShortCountNowhere) {
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(1, {{"partials", 2}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const KafkaUrl url{(*broker)->bootstrap(), "partials"};
  const std::string dir = TempPath("merge_publication_", "");
  const std::string rules = dir + "rules.yaml", events = dir + "events.ndjson";
  std::ofstream(rules) << kScaleOutRules;
  ASSERT_EQ(Sh(kVigil + " gen --duration 20m --rate 5 --seed 3 --out " + events).exit_code, 0);

  // The instance: every event aggregated, its panes drained into messages.
  OperatorHarness instance(kScaleOutRules);
  TimeMs last = kMinTime;
  for (const std::string& line : Lines(ReadFile(events))) {
    const Event ev = instance.Parse(line);
    last = std::max(last, ev.ts);
    instance.flow->Add(ev);
  }
  PartialMessages messages;
  DrainPanes(instance.flow.get(), "a", 0,
             [&](std::string_view k, std::string_view v) { messages.emplace_back(k, v); });
  ASSERT_GE(messages.size(), 10u);  // turns: one per intent; p95; users

  // Killed after sending `n` of them: the transaction is aborted (a real
  // broker would hide its messages; this one does not).
  auto aborted = [&](const std::string& instance, size_t n) {
    absl::StatusOr<std::unique_ptr<KafkaWriter>> w =
        KafkaWriter::Create(url.brokers, {}, "vigil-partials-" + instance);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->BeginTransaction().ok());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(
          (*w)->Produce(url.topic, messages[i].first, WithPublication(messages[i].second, 1234))
              .ok());
    }
    ASSERT_TRUE((*w)->Flush(std::chrono::seconds(30)).ok());
    ASSERT_TRUE((*w)->AbortTransaction(std::chrono::seconds(30)).ok());
  };
  aborted("a", messages.size() / 2);
  // Restarted, it publishes the same aggregates again, whole, and stops.
  absl::StatusOr<std::unique_ptr<PartialsPublisher>> pub = PartialsPublisher::Open(url, {}, "a");
  ASSERT_TRUE(pub.ok()) << pub.status();
  PartialHeartbeat hb;
  hb.instance = "a";
  hb.watermark = last;
  hb.leaving = true;
  hb.inputs = {{"events/0", last, false}};
  hb.all_inputs = {"events/0"};
  hb.last_ts = last;
  ASSERT_TRUE((*pub)->PublishMessages(messages, hb, nullptr, nullptr).ok());
  // Another instance killed in its first publication, never restarted.
  aborted("b", 3);

  const std::string common = " --rules " + rules + " --output json --http off --no-progress";
  Result merge = Sh(kVigil + " run --merge kafka://" + url.brokers + "/partials --exit-at-end" +
                    " --results " + dir + "merged.ndjson" + common + " 2>&1");
  ASSERT_EQ(merge.exit_code, 0) << merge.out;
  EXPECT_NE(merge.out.find("vigil: 3 panes message(s) still wait for their publication's "
                           "heartbeat (an instance stopped mid-publication): not merged\n"),
            std::string::npos)
      << merge.out;
  Result single =
      Sh(kVigil + " run --input " + events + " --results " + dir + "single.ndjson" + common);
  ASSERT_EQ(single.exit_code, 0) << single.out;
  const std::vector<std::string> want = Sorted(Lines(ReadFile(dir + "single.ndjson")));
  ASSERT_GT(want.size(), 60u);
  EXPECT_EQ(Sorted(Lines(ReadFile(dir + "merged.ndjson"))), want);
}

}  // namespace
}  // namespace vigil
