#include "runtime/job_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/host.h"
#include "base/strings.h"
#include "runtime/job.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kSource = VIGIL_SOURCE_DIR;

TEST(JobConfigTest, TheShippedJobFilesLoad) {
  absl::StatusOr<JobConfig> basic = LoadJobConfig(kSource + "/deploy/job.yaml", DefaultJobConfig());
  ASSERT_TRUE(basic.ok()) << basic.status();
  EXPECT_EQ(basic->source.kind, SourceKind::kFile);
  EXPECT_EQ(basic->outputs.records_dir, "records");

  absl::StatusOr<JobConfig> c =
      LoadJobConfig(kSource + "/deploy/job-kafka.yaml", DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->source.kind, SourceKind::kKafka);
  EXPECT_EQ(c->source.kafka.brokers, "kafka-0.kafka:9092,kafka-1.kafka:9092");
  EXPECT_EQ(c->source.kafka.topics, std::vector<std::string>{"chatbot-events"});
  EXPECT_EQ(c->source.kafka.properties, (KafkaProperties{{"session.timeout.ms", "30000"}}));
  EXPECT_EQ(c->checkpoint.dir, "/var/lib/vigil/checkpoints");
  EXPECT_EQ(c->checkpoint.interval, 10000);
  EXPECT_EQ(c->outputs.kafka.results_topic, "vigil-windows");
  EXPECT_EQ(c->outputs.kafka.transactional_id, "vigil-0");
  ASSERT_EQ(c->notify.receivers.size(), 6u);
  EXPECT_EQ(c->notify.routes[1], (std::vector<std::string>{"alertmanager", "pagerduty"}));
  EXPECT_EQ(c->notify.receivers[5].kind, NotifyReceiver::Kind::kJira);
  EXPECT_EQ(c->notify.alert_routes.at("FaqTopicNegativeFeedback"),
            std::vector<std::string>{"content-team"});
  EXPECT_EQ(c->notify.labels.at("instance"), "vigil-0");
  EXPECT_EQ(c->event_time.max_future, 3600000);
}

std::string Load(const std::string& yaml) {
  const std::string path = TempPath("jobcfg_", "job.yaml");
  std::ofstream(path) << yaml;
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  if (c.ok()) return "ok";
  std::string msg(c.status().message());
  return msg.substr(msg.find(':') + 1);  // drop the path
}

TEST(JobConfigTest, TheScaleOutJobFilesLoad) {
  absl::StatusOr<JobConfig> inst =
      LoadJobConfig(kSource + "/deploy/job-scale-out.yaml", DefaultJobConfig());
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->scale_out.partials,
            "kafka://kafka-0.kafka:9092,kafka-1.kafka:9092/vigil-partials");
  EXPECT_FALSE(inst->scale_out.merge);
  absl::StatusOr<JobConfig> merge =
      LoadJobConfig(kSource + "/deploy/job-merge.yaml", DefaultJobConfig());
  ASSERT_TRUE(merge.ok()) << merge.status();
  EXPECT_TRUE(merge->scale_out.merge);
  EXPECT_EQ(merge->source.kafka.topics, std::vector<std::string>{"vigil-partials"});
  EXPECT_EQ(merge->source.kafka.group_id, "vigil-merge");
  EXPECT_EQ(Load("scale_out: {partials: kafka://b:1/p, merge: true}\n"),
            "1:12: an instance publishes partials or merges them, not both");
  EXPECT_EQ(Load("scale_out: {partials: b:1/p}\n"), "1:23: partials must be kafka://BROKERS/TOPIC");
}

TEST(JobConfigTest, MaxFutureIsADurationAndZeroTurnsItOff) {
  const std::string path = TempPath("jobcfg_", "future.yaml");
  std::ofstream(path) << "event_time: {max_future: 0s}\n";
  absl::StatusOr<JobConfig> off = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->event_time.max_future, 0);
  EXPECT_EQ(DefaultJobConfig().event_time.max_future, 3600000);
  std::ofstream(path) << "event_time: {max_future: 2h}\n";
  absl::StatusOr<JobConfig> two = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->event_time.max_future, 7200000);
}

// An empty job file, or one that is not a mapping, says so and where to
// read what it holds, not "0:0: 'the job file' must be a mapping".
TEST(JobConfigTest, AnEmptyOrNonMappingJobFileSaysWhatItIs) {
  const std::string path = TempPath("jobcfg_", "empty.yaml");
  std::ofstream(path) << "# nothing yet\n";
  absl::StatusOr<JobConfig> empty = LoadJobConfig(path, DefaultJobConfig());
  EXPECT_EQ(empty.status().message(),
            StrCat(path,
                   ": the job file is empty; it is a mapping of source, rules, outputs, "
                   "... (docs/operations.md)"));
  std::ofstream(path) << "\n- source\n";
  absl::StatusOr<JobConfig> list = LoadJobConfig(path, DefaultJobConfig());
  EXPECT_EQ(list.status().message(),
            StrCat(path,
                   ":2:1: the job file must be a mapping of source, rules, outputs, ... "
                   "(docs/operations.md)"));
}

TEST(JobConfigTest, RecordOutputsGoToADirectoryAWebhookOrBoth) {
  const std::string path = TempPath("jobcfg_", "records.yaml");
  std::ofstream(path)
      << "outputs:\n  records: {webhook: http://labeling:8080/records, webhook_batch: 100}\n";
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->outputs.records_dir, "");
  EXPECT_EQ(c->outputs.records_webhook, "http://labeling:8080/records");
  EXPECT_EQ(c->outputs.records_webhook_batch, 100u);
  EXPECT_EQ(Load("outputs:\n  records: {}\n"),
            "2:12: outputs.records needs a 'dir' (where each output's files go) or a 'webhook' "
            "(a URL to POST them to)");
  EXPECT_EQ(Load("outputs:\n  records: {webhook: ftp://x/r}\n"),
            "2:22: outputs.records.webhook must be an http:// or https:// URL");
  EXPECT_EQ(Load("outputs:\n  records: {webhook: http://x/r, webhook_batch: 0}\n"),
            "2:49: outputs.records.webhook_batch must be 1..100000 records");
}

TEST(JobConfigTest, ResultsGoToAFileADatabaseOrBoth) {
  const std::string path = TempPath("jobcfg_", "resultsdb.yaml");
  std::ofstream(path) << "outputs:\n  results:\n    path: r.ndjson\n"
                         "    database: postgresql://vigil@db:5432/metrics?sslmode=require\n"
                         "    table: metrics.windows\n    dialect: redshift\n"
                         "    retention: 90d\n";
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->outputs.results_path, "r.ndjson");
  EXPECT_EQ(c->outputs.results_database,
            "postgresql://vigil@db:5432/metrics?sslmode=require&table=metrics.windows"
            "&dialect=redshift&retention=90d");
  EXPECT_EQ(Load("outputs:\n  results: {database: mysql://db/m}\n"),
            "2:23: outputs.results.database must be a postgresql:// URL");
  EXPECT_EQ(Load("outputs:\n  results: {path: r.ndjson, retention: 90d}\n"),
            "2:40: outputs.results.retention needs database:");
  EXPECT_EQ(Load("outputs:\n  results: {database: 'postgresql://db/m', retention: soon}\n"),
            "2:55: outputs.results.retention: results URL: retention=soon is not a duration such "
            "as 90d (0: keep everything)");
}

TEST(JobConfigTest, SourceAndOutputErrorsPointAtTheLine) {
  EXPECT_EQ(Load("source:\n  kind: kafka\n"),
            "2:3: a kafka source needs a 'kafka' section (brokers, topics)");
  EXPECT_EQ(Load("source:\n  kind: kafka\n  kafka:\n    topics: [e]\n"),
            "4:5: a Kafka source needs 'brokers'");
  EXPECT_EQ(Load("source:\n  kind: kafka\n  kafka: {brokers: b:1, topics: e, start: yesterday}\n"),
            "3:43: start must be earliest, latest or an RFC 3339 time");
  EXPECT_EQ(Load("source:\n  kind: kinesis\n  kinesis: {stream: s, instance_index: 2, "
                 "instance_count: 2}\n"),
            "3:12: instance_index 2 is not below instance_count 2");
  EXPECT_EQ(Load("source:\n  kind: kinesis\n  kinesis: {stream: s, start: soon}\n"),
            "3:31: start must be trim_horizon, latest or an RFC 3339 time");
  EXPECT_EQ(Load("source: {kind: queue}\n"),
            "1:16: source.kind must be generator, file, stdin, kafka or kinesis");
  EXPECT_EQ(Load("outputs:\n  kafka: {brokers: b:1}\n"),
            "2:10: Kafka outputs need results_topic, alerts_topic or records_topic_prefix");
  EXPECT_EQ(Load("checkpoint: {dir: /tmp/x, every: 5s}\n"),
            "1:27: unknown key 'every' in checkpoint (allowed: dir, interval, allow_fresh_start)");
  EXPECT_EQ(Load("checkpoint: {dir: /tmp/x, interval: 0s}\n"), "1:37: interval must be positive");
  // A misspelt key names the one meant; a key like none lists them all.
  EXPECT_EQ(Load("event_time: {max_futur: 1h}\n"),
            "1:14: unknown key 'max_futur' in event_time; did you mean 'max_future'?");
  EXPECT_EQ(Load("outputs:\n  results: {path: /tmp/x, format: json}\n"),
            "2:27: unknown key 'format' in outputs.results (allowed: path, database, table, "
            "alerts_table, dialect, retention)");
  EXPECT_EQ(Load("source:\n  kind: kafka\n  kafka: {brokers: b:1, topic: e}\n"),
            "3:25: unknown key 'topic' in source.kafka; did you mean 'topics'?");
  EXPECT_EQ(Load("checkpoint: {dir: /tmp/x}\nsource: {kind: stdin}\ncheckpoint: {dir: /tmp/y}\n"),
            "3:1: duplicate key 'checkpoint': it is also at line 1, column 1; the keys of a "
            "mapping must be unique: merge the two");
  // Keys that used to be taken loosely: path beside paths (it was dropped), an empty
  // rules list (it ran the built-in rules), booleans that were anything,
  // and a listen address that was only checked when the job opened it.
  {
    const std::string path = TempPath("jobcfg_", "both.yaml");
    std::ofstream(path) << "source: {kind: file, paths: [b.ndjson, c.ndjson], path: a.ndjson}\n";
    absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->source.paths, (std::vector<std::string>{"a.ndjson", "b.ndjson", "c.ndjson"}));
  }
  EXPECT_EQ(Load("source: {kind: file, path: [a.ndjson]}\n"),
            "1:28: 'path' must be one file name; use 'paths' for a list");
  EXPECT_EQ(Load("source: {kind: file, paths: a.ndjson}\n"),
            "1:29: 'paths' must be a list of file names, e.g. paths: [a.ndjson, b.ndjson]");
  EXPECT_EQ(Load("rules: []\n"),
            "1:8: 'rules' must name rule files (leave the key out for the built-in rules)");
  EXPECT_EQ(Load("progress: 0\n"), "1:11: progress must be true or false");
  EXPECT_EQ(Load("outputs: {console: maybe}\n"), "1:20: outputs.console must be true or false");
  EXPECT_EQ(Load("event_time: {close_partial_windows: [x]}\n"),
            "1:37: close_partial_windows must be true or false");
  EXPECT_EQ(Load("outputs:\n  console: {pending: maybe}\n"),
            "2:22: outputs.console.pending must be true or false");
  EXPECT_EQ(Load("http: {listen: \"9464\"}\n"),
            "1:16: http.listen: invalid listen address \"9464\": expected host:port (or off)");
  EXPECT_EQ(Load("http: {listen: \"::1:0\"}\n"),
            "1:16: http.listen: invalid listen address \"::1:0\": an IPv6 address must be "
            "written in brackets, e.g. [::1]:9090 (or off)");
  EXPECT_EQ(Load("http: {listen: \"http://127.0.0.1:9464\"}\n"),
            "1:16: http.listen: invalid listen address \"http://127.0.0.1:9464\": expected "
            "host:port, not a URL (e.g. 127.0.0.1:9464) (or off)");
  for (const char* off : {"off", "\"\"", "~"}) {
    const std::string path = TempPath("jobcfg_", "listen.yaml");
    std::ofstream(path) << "http: {listen: " << off << "}\n";
    absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
    ASSERT_TRUE(c.ok()) << off << c.status();
    EXPECT_EQ(c->http_listen, "") << off;
  }
  // notify: errors come from its own parser, with their positions.
  EXPECT_NE(Load("notify:\n  receivers: [{name: a, kind: pager}]\n").find("2:"), std::string::npos);
}

TEST(JobConfigTest, GeneratorMonthsAreAListOfTrackerFigures) {
  const std::string path = TempPath("jobcfg_", "months.yaml");
  std::ofstream(path) << "source:\n  kind: generator\n  generator:\n    months:\n"
                         "      - escalation=12%,resolution=71%\n      - thumbs_up=0.67\n";
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<MonthProfile>& months = c->source.generator.generator.months;
  ASSERT_EQ(months.size(), 2u);
  EXPECT_DOUBLE_EQ(months[0].escalation, 0.12);
  EXPECT_DOUBLE_EQ(months[0].resolution, 0.71);
  EXPECT_LT(months[0].thumbs_up, 0);
  EXPECT_DOUBLE_EQ(months[1].thumbs_up, 0.67);
  EXPECT_EQ(Load("source:\n  kind: generator\n  generator:\n    months: [thumbs_up=62%, "
                 "conversion=6 pct]\n"),
            "4:29: month 'conversion=6 pct': conversion '6 pct' is not a share such as 12% or "
            "0.12");
  EXPECT_EQ(Load("source:\n  kind: generator\n  generator: {months: thumbs_up=62%}\n"),
            "3:23: months must be a list of escalation=..,resolution=..,... figures");
}

TEST(JobConfigTest, ParallelismIsANumberOfWorkersAndTheKeyAFieldName) {
  const std::string path = TempPath("jobcfg_", "workers.yaml");
  std::ofstream(path) << "parallelism: 4\nworker_key: user_id\n";
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, 4);
  EXPECT_EQ(c->worker_key, "user_id");
  EXPECT_EQ(DefaultJobConfig().workers, 0);  // the cores the process may use
  EXPECT_EQ(DefaultJobConfig().worker_key, "session_id");
  for (const char* bad : {"0", "65", "two", "-1", "1.5"}) {
    EXPECT_EQ(Load(StrCat("parallelism: ", bad, "\n")),
              "1:14: parallelism: expected a number of workers from 1 to 64")
        << bad;
  }
  EXPECT_EQ(Load("worker_key: ''\n"), "1:13: worker_key: expected a field name such as session_id");
  EXPECT_EQ(EffectiveWorkers(3), 3);
  EXPECT_GE(EffectiveWorkers(0), 1);
  EXPECT_LE(EffectiveWorkers(0), 64);
  EXPECT_EQ(ParseWorkers("64"), 64);
  EXPECT_EQ(ParseWorkers("007"), std::nullopt);
}

TEST(JobConfigTest, InstanceIndexIsANumberOrTheHostOrdinal) {
  EXPECT_EQ(ParseInstanceIndex("3"), 3);
  EXPECT_EQ(ParseInstanceIndex("x"), std::nullopt);
  EXPECT_EQ(ParseInstanceIndex("-1"), std::nullopt);
}

// Kinesis instances of one stream on one machine get distinct names, or
// the merge would take one's publications for the other's repeats.
TEST(JobConfigTest, KinesisInstancesDefaultToTheHostAndTheirIndex) {
  JobConfig c = DefaultJobConfig();
  EXPECT_EQ(InstanceId(c), HostName());
  c.source.kind = SourceKind::kKinesis;
  EXPECT_EQ(InstanceId(c), HostName());  // one instance: the host
  c.source.kinesis.instance_index = 1;
  c.source.kinesis.instance_count = 3;
  EXPECT_EQ(InstanceId(c), HostName() + "/1");
  c.scale_out.instance_id = "vigil-1";
  EXPECT_EQ(InstanceId(c), "vigil-1");
}

}  // namespace
}  // namespace vigil
