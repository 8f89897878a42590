#include "runtime/cli_flag_effects.h"

#include <set>
#include <string_view>

#include "base/strings.h"

namespace vigil {
namespace {

const char* SourceWords(SourceKind kind) {
  switch (kind) {
    case SourceKind::kGenerator:
      return "runs the generator";
    case SourceKind::kFile:
      return "reads files";
    case SourceKind::kStdin:
      return "reads stdin";
    case SourceKind::kKafka:
      return "reads Kafka";
    case SourceKind::kKinesis:
      return "reads Kinesis";
  }
  return "reads another source";
}

}  // namespace

std::vector<std::string> GivenFlags(int argc, char** argv, int first) {
  std::vector<std::string> out;
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with("--")) continue;
    out.emplace_back(arg.substr(0, arg.find('=')));
  }
  return out;
}

std::vector<std::string> FlagsWithoutEffect(const std::vector<std::string>& given,
                                            const JobConfig& config) {
  static const std::set<std::string_view> kGenerator = {
      "--rate", "--seed", "--start", "--duration", "--jitter", "--incident", "--month", "--speed"};
  static const std::set<std::string_view> kConsumer = {"--start-at", "--exit-at-end",
                                                       "--instance-id"};
  static const std::set<std::string_view> kArchive = {"--archive-format", "--archive-partitioning"};
  static const std::set<std::string_view> kWeb = {"--web.config.file", "--web.enable-lifecycle",
                                                  "--web.max-connections"};
  const SourceKind kind = config.source.kind;
  const bool stream = kind == SourceKind::kKafka || kind == SourceKind::kKinesis;
  std::vector<std::string> out;
  std::set<std::string> said;
  for (const std::string& flag : given) {
    if (said.contains(flag)) continue;
    std::string why;
    if (kGenerator.contains(flag) && kind != SourceKind::kGenerator) {
      why = StrCat("it sets the generator, and the job ", SourceWords(kind));
    } else if (kConsumer.contains(flag) && !stream) {
      why = StrCat("it sets the Kafka or Kinesis consumer, and the job ", SourceWords(kind));
    } else if ((flag == "--group" || flag == "--no-static-membership") &&
               kind != SourceKind::kKafka) {
      why = StrCat("it sets the Kafka consumer group, and the job ", SourceWords(kind));
    } else if (flag == "--instance" && kind != SourceKind::kKinesis) {
      why = StrCat("it splits Kinesis shards, and the job ", SourceWords(kind));
    } else if (kArchive.contains(flag) && config.outputs.archive.location.empty()) {
      why = "it sets the archive, and there is no --archive";
    } else if (kWeb.contains(flag) && config.http_listen.empty()) {
      why = "it sets the HTTP server, and --http is off";
    }
    if (why.empty()) continue;
    said.insert(flag);
    out.push_back(StrCat(flag, " does nothing here: ", why));
  }
  return out;
}

}  // namespace vigil
