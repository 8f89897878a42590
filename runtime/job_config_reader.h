// runtime/job_config_reader.h
//
// Internal to the job file's loader (job_config.cc): JobConfigReader reads
// one parsed job file into a JobConfig, section by section, every error as
// "file:line:col: message". The sections live by concern: the source
// (job_config_source.cc), the outputs and the HTTP endpoint
// (job_config_outputs.cc), the rest and the top level (job_config.cc).
//
// Example:
//   JobConfigReader reader("job.yaml");
//   absl::Status s = reader.Read(YAML::Load(text), &config);
#ifndef VIGIL_RUNTIME_JOB_CONFIG_READER_H_
#define VIGIL_RUNTIME_JOB_CONFIG_READER_H_

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/strings.h"
#include "base/time.h"
#include "rules/yaml_keys.h"
#include "runtime/job_config.h"

namespace vigil::job_config_internal {

class JobConfigReader {
 public:
  explicit JobConfigReader(std::string file) : file_(std::move(file)) {}

  absl::Status Error(const YAML::Node& n, std::string_view msg) const {
    YAML::Mark m = n.Mark();
    return absl::InvalidArgumentError(StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", msg));
  }
  absl::Status CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                         std::string_view where) const {
    if (auto e = FindKeyError(map, allowed, where)) return Error(e->at, e->message);
    return absl::OkStatus();
  }
  // A boolean key: true or false (YAML's yes/no too), else "`name` must be
  // true or false" at its position.
  absl::Status Bool(const YAML::Node& n, std::string_view name, bool* out) const {
    if (n.IsScalar() && YAML::convert<bool>::decode(n, *out)) return absl::OkStatus();
    return Error(n, StrCat(name, " must be true or false"));
  }
  absl::Status Duration(const YAML::Node& n, DurationMs* out) const {
    std::optional<DurationMs> d = n.IsScalar() ? ParseDuration(n.Scalar()) : std::nullopt;
    if (!d) return Error(n, "expected a duration such as 0, 500ms, 30s, 5m");
    *out = *d;
    return absl::OkStatus();
  }

  absl::Status Generator(const YAML::Node& n, JobConfig::Source* src) const;
  absl::Status Kafka(const YAML::Node& n, KafkaSourceOptions* k) const;
  absl::Status Kinesis(const YAML::Node& n, KinesisSourceOptions* k) const;
  absl::Status Source(const YAML::Node& n, JobConfig* c) const;
  absl::Status Readiness(const YAML::Node& n, JobConfig* c) const;
  absl::Status Archive(const YAML::Node& n, ArchiveOptions* a) const;
  absl::Status Outputs(const YAML::Node& n, JobConfig* c) const;
  absl::Status Results(const YAML::Node& o, JobConfig* c) const;
  absl::Status Http(const YAML::Node& h, JobConfig* c) const;
  absl::Status EventTime(const YAML::Node& et, JobConfig* c) const;
  absl::Status Limits(const YAML::Node& l, JobConfig* c) const;
  absl::Status ScaleOut(const YAML::Node& so, JobConfig* c) const;
  absl::Status Checkpoint(const YAML::Node& ck, JobConfig* c) const;
  absl::Status Read(const YAML::Node& root, JobConfig* c) const;

 private:
  std::string file_;
};

}  // namespace vigil::job_config_internal

#endif  // VIGIL_RUNTIME_JOB_CONFIG_READER_H_
