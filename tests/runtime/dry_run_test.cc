// ApplyDryRun (runtime/dry_run.h): everything that leaves the process is
// turned off and named; a scale-out instance is refused.
#include "runtime/dry_run.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

JobConfig Production() {
  JobConfig c = DefaultJobConfig();
  c.source.kind = SourceKind::kKafka;
  c.source.kafka.brokers = "kafka:9092";
  c.source.kafka.group_id = "vigil";
  c.checkpoint.dir = "/var/lib/vigil/ckpt";
  c.outputs.console = false;
  c.outputs.results_path = "/data/results.ndjson";
  c.outputs.dead_letter_path = "/data/dead.ndjson";
  c.outputs.records_dir = "/data/records";
  c.outputs.records_webhook = "https://hooks.example/records";
  c.outputs.kafka.brokers = "kafka:9092";
  c.outputs.kafka.alerts_topic = "vigil-alerts";
  c.outputs.archive.location = "/data/archive";
  c.http_listen = "0.0.0.0:9464";
  NotifyReceiver pd;
  pd.name = "pagerduty";
  NotifyReceiver team;
  team.name = "team";
  c.notify.receivers = {pd, team};
  c.notify.routes[1] = {"pagerduty"};
  c.notify.alert_routes["LatencyP99Critical"] = {"team"};
  c.notify.labels = {{"env", "prod"}};
  c.notify.external_url = "https://vigil.example:9464";
  return c;
}

TEST(DryRunTest, NothingLeavesTheProcess) {
  JobConfig c = Production();
  absl::StatusOr<std::vector<std::string>> off = ApplyDryRun(&c);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_TRUE(c.notify.receivers.empty());
  EXPECT_TRUE(c.notify.routes[1].empty());
  EXPECT_TRUE(c.notify.alert_routes.empty());
  // What annotations render from ($externalLabels, $externalURL) stays.
  EXPECT_EQ(c.notify.labels, (Labels{{"env", "prod"}}));
  EXPECT_EQ(c.notify.external_url, "https://vigil.example:9464");
  EXPECT_EQ(c.checkpoint.dir, "");
  EXPECT_EQ(c.source.kafka.group_id.rfind("vigil-dry-run-", 0), 0u) << c.source.kafka.group_id;
  EXPECT_FALSE(c.source.kafka.commit_offsets);
  EXPECT_EQ(c.outputs.kafka.brokers, "");
  EXPECT_EQ(c.outputs.results_path, "");
  EXPECT_EQ(c.outputs.dead_letter_path, "");
  EXPECT_EQ(c.outputs.records_dir, "");
  EXPECT_EQ(c.outputs.records_webhook, "");
  EXPECT_EQ(c.outputs.archive.location, "");
  EXPECT_TRUE(c.outputs.console);
  EXPECT_EQ(c.http_listen, "127.0.0.1:0");
  // The source and the rules are untouched.
  EXPECT_EQ(c.source.kafka.brokers, "kafka:9092");
  ASSERT_EQ(off->size(), 5u);
  EXPECT_EQ((*off)[0], "no notification is sent (receivers pagerduty and team); alerts print here");
  EXPECT_EQ((*off)[1], "no checkpoint is read or written (/var/lib/vigil/ckpt)");
  EXPECT_NE((*off)[2].find("without committing offsets (the vigil group is left alone)"),
            std::string::npos)
      << (*off)[2];
  EXPECT_EQ((*off)[3],
            "nothing is written to the Kafka outputs, /data/results.ndjson, /data/dead.ndjson, "
            "/data/records, the record webhook and the archive (/data/archive)");
  EXPECT_EQ((*off)[4], "the HTTP endpoint is on 127.0.0.1, a free port, not 0.0.0.0:9464");
}

TEST(DryRunTest, ResultsOnStdoutStayAndAQuietJobSaysSo) {
  JobConfig c = DefaultJobConfig();
  c.outputs.results_path = "-";
  c.http_listen = "";
  absl::StatusOr<std::vector<std::string>> off = ApplyDryRun(&c);
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->empty());
  EXPECT_EQ(c.outputs.results_path, "-");
  EXPECT_EQ(c.http_listen, "");  // off stays off
}

TEST(DryRunTest, AScaleOutInstanceCannotRunDry) {
  JobConfig c = Production();
  c.scale_out.partials = "kafka://kafka:9092/vigil-partials";
  absl::StatusOr<std::vector<std::string>> off = ApplyDryRun(&c);
  ASSERT_FALSE(off.ok());
  EXPECT_NE(off.status().message().find("run the merge stage dry instead"), std::string::npos);
}

}  // namespace
}  // namespace vigil
