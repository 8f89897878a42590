// tests/runtime/kafka_e2e_fixture.h
//
// What the Kafka end-to-end tests share: the development broker with a
// four-partition topic "events", started per test, kcat to produce, and
// per-test paths (kafka_e2e_test.cc, kafka_kill_e2e_test.cc).
//
// Example:
//   TEST_F(KafkaE2eTest, X) {
//     Produce(events);   // an NDJSON file, spread over the partitions
//     Sh(kVigil + " run --input " + Url() + " --exit-at-end" + kGroupProps);
//   }
#ifndef VIGIL_TESTS_RUNTIME_KAFKA_E2E_FIXTURE_H_
#define VIGIL_TESTS_RUNTIME_KAFKA_E2E_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/test_util.h"

namespace vigil::kafka_e2e_test {

inline const std::string kVigil = VIGIL_BINARY;
// Group rebalances in the mock cluster wait session.timeout.ms - 1 s.
inline const std::string kGroupProps = " -X session.timeout.ms=6000 -X heartbeat.interval.ms=500";

class KafkaE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
    absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 4}});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  // Unique per test, also when several run in one process.
  std::string Path(const std::string& name) {
    return TempPath(std::string("kafka_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  std::string Url() { return "kafka://" + broker_->bootstrap() + "/events"; }
  // Produces the lines of `file` with kcat (no keys: spread over partitions,
  // or all to `partition`).
  void Produce(const std::string& file, int partition = -1) {
    const std::string p = partition >= 0 ? " -p " + std::to_string(partition) : "";
    // Keyless messages, each to a random partition.
    Result r =
        Sh("kcat -b " + broker_->bootstrap() +
           " -P -t events -z lz4 -X sticky.partitioning.linger.ms=0" + p + " -l " + file + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  std::unique_ptr<DevBroker> broker_;
};

}  // namespace vigil::kafka_e2e_test

#endif  // VIGIL_TESTS_RUNTIME_KAFKA_E2E_FIXTURE_H_
