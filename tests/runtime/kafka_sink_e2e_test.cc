// The Kafka outputs' message keys, read back with kcat from the
// development broker: one key per series, whatever its label values hold.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

// Two series whose label values, joined without escaping, read alike
// (x="1,y=2",y="3" and x="1",y="2,y=3"), and an alert over each.
TEST(KafkaSinkE2eTest, LabelValuesThatReadAlikeJoinedGiveEachSeriesItsOwnKey) {
  ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
  absl::StatusOr<std::unique_ptr<DevBroker>> broker =
      DevBroker::Start(1, {{"windows", 1}, {"alerts", 1}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string bootstrap = (*broker)->bootstrap();
  const std::string events = TempPath("kafka_sink_", "events.ndjson");
  const std::string rules = TempPath("kafka_sink_", "rules.yaml");
  std::ofstream(events) << R"({"ts":"2026-01-01T00:00:10Z","type":"message","x":"1,y=2","y":"3"}
{"ts":"2026-01-01T00:00:20Z","type":"message","x":"1","y":"2,y=3"}
{"ts":"2026-01-01T00:00:30Z","type":"message","x":"a|b\\c","y":""}
{"ts":"2026-01-01T00:01:30Z","type":"message","x":"z","y":"z"}
)";
  std::ofstream(rules) << R"(metrics:
  - metric: n
    window: tumbling 1m
    by: [x, y]
    value: count()
alerts:
  - alert: Seen
    expr: n >= 1
    severity: P4
)";
  Result r =
      Sh(kVigil + " replay --no-progress --rules " + rules + " --results kafka://" + bootstrap +
         "/windows --alerts kafka://" + bootstrap + "/alerts " + events + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto keys = [&](const std::string& topic) {
    return Lines(Sh("kcat -b " + bootstrap + " -C -t " + topic + " -e -q -f '%k\\n'").out);
  };
  EXPECT_EQ(keys("windows"), (std::vector<std::string>{
                                 R"(n|x=1,y=2\,y=3|2026-01-01T00:01:00.000Z)",
                                 R"(n|x=1\,y=2,y=3|2026-01-01T00:01:00.000Z)",
                                 R"(n|x=a\|b\\c,y=|2026-01-01T00:01:00.000Z)",
                                 // Partial, at the end of the input: no alert.
                                 R"(n|x=z,y=z|2026-01-01T00:02:00.000Z)",
                             }));
  EXPECT_EQ(keys("alerts"), (std::vector<std::string>{
                                R"(Seen|severity=P4,x=1,y=2\,y=3)",
                                R"(Seen|severity=P4,x=1\,y=2,y=3)",
                                R"(Seen|severity=P4,x=a\|b\\c,y=)",
                            }));
}

}  // namespace
}  // namespace vigil
