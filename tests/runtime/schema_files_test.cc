// The JSON Schemas editors validate and complete vigil's files with
// (deploy/schema/): every shipped rule, job and rule-test file validates
// with ajv (draft 2020-12), a misspelt key does not, and every list of keys
// a loader checks a mapping against is exactly the properties of one object
// of the schema, so a key added to a loader and not to the schema fails;
// deploy/job.yaml shows every key.
#include <simdjson.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "rules/yaml_keys.h"
#include "runtime/job_config.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kSource = VIGIL_SOURCE_DIR;
const std::string kSchemas = kSource + "/deploy/schema/";

Result Validate(const std::string& schema, const std::vector<std::string>& files) {
  std::string cmd = "node " + kSource + "/tests/schema/validate.js " + kSchemas + schema;
  for (const std::string& f : files) cmd += " '" + f + "'";
  return Sh(cmd + " 2>&1");
}

TEST(SchemaFilesTest, EveryShippedFileValidates) {
  const std::string d = kSource + "/deploy/";
  const std::string cm = d + "kubernetes/configmap.yaml#data.";
  std::vector<std::string> rules = {d + "rules/chatbot.yaml", d + "rules/slos.yaml",
                                    d + "rules/events.yaml",  cm + "chatbot.yaml",
                                    cm + "slos.yaml",         cm + "events.yaml"};
  std::vector<std::string> jobs = {d + "job.yaml", d + "job-kafka.yaml", d + "job-merge.yaml",
                                   d + "job-scale-out.yaml", cm + "job.yaml"};
  std::vector<std::string> tests;
  for (const std::string& t : Lines(Sh("ls " + d + "rules/tests/*.yaml").out)) tests.push_back(t);
  ASSERT_GE(tests.size(), 9u);
  for (const auto& [schema, files] :
       {std::pair("rules.schema.json", rules), std::pair("job.schema.json", jobs),
        std::pair("rule-test.schema.json", tests)}) {
    const Result r = Validate(schema, files);
    EXPECT_EQ(r.exit_code, 0) << schema << ":\n" << r.out;
    EXPECT_EQ(Lines(r.out).size(), files.size()) << r.out;
  }
}

// deploy/job.yaml shows every key of a job file with its default: set, or
// commented out ready to uncomment (tests/schema/job_file.js), and with
// every key uncommented it is a job file vigil loads.
TEST(SchemaFilesTest, TheExampleJobFileShowsEveryKeyWithItsDefault) {
  const std::string all = TempPath("schema_", "job_all.yaml");
  const Result r = Sh("node " + kSource + "/tests/schema/job_file.js " + kSchemas +
                      "job.schema.json " + kSource + "/deploy/job.yaml " + all + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "ok\n");
  absl::StatusOr<JobConfig> c = LoadJobConfig(all, DefaultJobConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  // The uncommented sections really are there.
  EXPECT_EQ(c->source.kafka.brokers, "localhost:9092");
  EXPECT_EQ(c->notify.receivers.size(), 6u);
  EXPECT_EQ(c->checkpoint.dir, "/var/lib/vigil/checkpoints");
}

TEST(SchemaFilesTest, AMisspeltKeyIsInvalid) {
  const std::string rules = TempPath("schema_", "bad_rules.yaml");
  std::ofstream(rules) << "metrics:\n  - {metric: x, windw: tumbling 1m, value: count()}\n";
  const Result r = Validate("rules.schema.json", {rules});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("must NOT have additional properties 'windw'"), std::string::npos) << r.out;
  const std::string job = TempPath("schema_", "bad_job.yaml");
  std::ofstream(job) << "sourcee: {kind: generator}\n";
  const Result j = Validate("job.schema.json", {job});
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_NE(j.out.find("'sourcee'"), std::string::npos) << j.out;
}

// The property-name sets of every object of a JSON Schema, sorted.
void PropertySets(simdjson::dom::element e, std::set<std::vector<std::string>>* out) {
  simdjson::dom::object o;
  simdjson::dom::array a;
  if (e.get(a) == simdjson::SUCCESS) {
    for (simdjson::dom::element x : a) PropertySets(x, out);
    return;
  }
  if (e.get(o) != simdjson::SUCCESS) return;
  simdjson::dom::object props;
  if (o["properties"].get(props) == simdjson::SUCCESS) {
    std::vector<std::string> keys;
    for (auto [k, v] : props) keys.emplace_back(k);
    std::sort(keys.begin(), keys.end());
    out->insert(keys);
  }
  for (auto [k, v] : o) PropertySets(v, out);
}

std::set<std::vector<std::string>> SchemaObjects(const std::string& schema) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.load(kSchemas + schema).get(root), simdjson::SUCCESS) << schema;
  std::set<std::vector<std::string>> out;
  PropertySets(root, &out);
  return out;
}

void ExpectDescribed(const std::vector<std::vector<std::string>>& lists,
                     const std::string& schema) {
  const std::set<std::vector<std::string>> objects = SchemaObjects(schema);
  ASSERT_FALSE(objects.empty());
  for (std::vector<std::string> keys : lists) {
    std::sort(keys.begin(), keys.end());
    std::string text;
    for (const std::string& k : keys) text += k + " ";
    EXPECT_TRUE(objects.contains(keys))
        << schema << " has no object with exactly the keys the loader accepts: " << text;
  }
}

TEST(SchemaFilesTest, EveryKeyListOfTheLoadersIsAnObjectOfTheSchema) {
  const std::string d = kSource + "/deploy/";
  std::vector<std::vector<std::string>> lists;
  RecordKeyLists(&lists);
  // Every section and form of a rule file: the reference rules have all but
  // an inhibition with `equal:` and a bounded, typed field.
  RuleLoadResult r = LoadRuleSources({{"chatbot.yaml", ReadFile(d + "rules/chatbot.yaml")},
                                      {"slos.yaml", ReadFile(d + "rules/slos.yaml")},
                                      {"events.yaml", ReadFile(d + "rules/events.yaml")},
                                      {"more.yaml", R"(schema:
  price: {type: number, min: 0}
alerts:
  - alert: Outage
    severity: P1
    expr: error_rate > 0.9
    labels: {service: chat}
  - alert: Inhibited
    severity: P3
    expr: error_rate > 0.5
    labels: {service: chat}
    inhibited_by: [{alert: Outage, equal: [service]}]
)"}});
  RecordKeyLists(nullptr);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_GE(lists.size(), 15u);
  ExpectDescribed(lists, "rules.schema.json");

  // Every job file, and the sources and outputs they do not use.
  lists.clear();
  RecordKeyLists(&lists);
  for (const char* job : {"job.yaml", "job-kafka.yaml", "job-merge.yaml", "job-scale-out.yaml"}) {
    absl::StatusOr<JobConfig> c = LoadJobConfig(d + job, DefaultJobConfig());
    EXPECT_TRUE(c.ok()) << job << ": " << c.status();
  }
  const std::string extra = TempPath("schema_", "job.yaml");
  std::ofstream(extra) << R"(source:
  kind: kinesis
  kinesis: {stream: events, region: eu-west-1, start: latest}
outputs:
  console: {format: json, pending: false}
  records: {dir: /tmp/records}
  archive: {dir: /tmp/archive}
  results: {path: results.ndjson}
readiness: {max_watermark_stall: 5m}
notify:
  spool: {dir: /tmp/spool}
  retry: {initial: 1s, max: 1m}
  receivers:
    - {name: jira, kind: jira, url: "https://jira.example", project: OPS, email_env: E, token_env: T,
       priorities: {P1: Highest}}
  routes: {P3: [jira]}
)";
  absl::StatusOr<JobConfig> c = LoadJobConfig(extra, DefaultJobConfig());
  EXPECT_TRUE(c.ok()) << c.status();
  const std::string gen = TempPath("schema_", "gen.yaml");
  std::ofstream(gen) << "source:\n  kind: generator\n  generator: {seed: 3, rate: 10}\n";
  c = LoadJobConfig(gen, DefaultJobConfig());
  EXPECT_TRUE(c.ok()) << c.status();
  RecordKeyLists(nullptr);
  EXPECT_GE(lists.size(), 20u);
  ExpectDescribed(lists, "job.schema.json");
}

}  // namespace
}  // namespace vigil
