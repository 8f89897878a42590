// Flags of `vigil run` meant for another source or output than the job
// has: one line each, naming the flag and why it does nothing.
#include "runtime/cli_flag_effects.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

JobConfig WithSource(SourceKind kind) {
  JobConfig c = DefaultJobConfig();
  c.source.kind = kind;
  return c;
}

TEST(FlagEffectsTest, GivenFlagsAreTheNamesWithOrWithoutAValue) {
  const char* argv[] = {"vigil", "run", "--rate=5", "--input", "f.ndjson", "--http", "off", "x"};
  EXPECT_EQ(GivenFlags(8, const_cast<char**>(argv), 2),
            (std::vector<std::string>{"--rate", "--input", "--http"}));
}

TEST(FlagEffectsTest, GeneratorFlagsWithAnotherSource) {
  EXPECT_EQ(FlagsWithoutEffect({"--rate", "--incident", "--incident", "--speed"},
                               WithSource(SourceKind::kFile)),
            (std::vector<std::string>{
                "--rate does nothing here: it sets the generator, and the job reads files",
                "--incident does nothing here: it sets the generator, and the job reads files",
                "--speed does nothing here: it sets the generator, and the job reads files"}));
  EXPECT_TRUE(FlagsWithoutEffect({"--rate", "--seed"}, WithSource(SourceKind::kGenerator)).empty());
}

TEST(FlagEffectsTest, ConsumerFlagsWithoutKafkaOrKinesis) {
  EXPECT_EQ(
      FlagsWithoutEffect({"--start-at", "--group", "--exit-at-end", "--instance"},
                         WithSource(SourceKind::kStdin)),
      (std::vector<std::string>{
          "--start-at does nothing here: it sets the Kafka or Kinesis consumer, and the job "
          "reads stdin",
          "--group does nothing here: it sets the Kafka consumer group, and the job reads "
          "stdin",
          "--exit-at-end does nothing here: it sets the Kafka or Kinesis consumer, and the "
          "job reads stdin",
          "--instance does nothing here: it splits Kinesis shards, and the job reads stdin"}));
  EXPECT_EQ(
      FlagsWithoutEffect({"--start-at", "--group", "--instance"}, WithSource(SourceKind::kKinesis)),
      (std::vector<std::string>{"--group does nothing here: it sets the Kafka consumer "
                                "group, and the job reads Kinesis"}));
  EXPECT_EQ(FlagsWithoutEffect({"--group", "--exit-at-end", "--instance"},
                               WithSource(SourceKind::kKafka)),
            (std::vector<std::string>{"--instance does nothing here: it splits Kinesis shards, "
                                      "and the job reads Kafka"}));
}

TEST(FlagEffectsTest, ArchiveAndWebSettingsWithoutTheirOutput) {
  JobConfig c = WithSource(SourceKind::kGenerator);
  c.http_listen = "";
  EXPECT_EQ(
      FlagsWithoutEffect({"--archive-format", "--web.config.file"}, c),
      (std::vector<std::string>{
          "--archive-format does nothing here: it sets the archive, and there is no "
          "--archive",
          "--web.config.file does nothing here: it sets the HTTP server, and --http is off"}));
  c.http_listen = "127.0.0.1:9464";
  c.outputs.archive.location = "/tmp/archive";
  EXPECT_TRUE(FlagsWithoutEffect({"--archive-format", "--web.config.file"}, c).empty());
}

}  // namespace
}  // namespace vigil
