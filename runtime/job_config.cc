#include "runtime/job_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "base/files.h"
#include "base/host.h"
#include "base/strings.h"
#include "operators/net/kafka_writer.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"
#include "runtime/job_config_reader.h"

namespace vigil {

JobConfig DefaultJobConfig() {
  JobConfig c;
  GeneratorOptions& g = c.source.generator.generator;
  g.rate = 500;
  // One hour of traffic per wall minute; the incidents repeat the seed
  // runbook's P1/P2 cases within the first minute of a demo run.
  c.source.generator.speed = 60;
  for (const char* spec : {"latency_spike@3m+8m", "bedrock_open@15m+4m", "escalation_surge@25m+6m",
                           "cache_miss_storm@35m+12m", "guardrail_storm@50m+6m"}) {
    g.incidents.push_back(*ParseIncident(spec));
  }
  return c;
}

std::optional<int> ParseInstanceIndex(std::string_view s) {
  std::string host;
  if (s == "ordinal") {
    host = HostName();
    if (host.empty()) return std::nullopt;
    const size_t dash = host.rfind('-');
    if (dash == std::string::npos) return std::nullopt;
    s = std::string_view(host).substr(dash + 1);
  }
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<size_t> ParseByteSize(std::string_view s) {
  size_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  std::string_view unit = Strip(std::string_view(p, s.data() + s.size() - p));
  static constexpr std::pair<std::string_view, size_t> kUnits[] = {
      {"", 1},         {"B", 1},         {"KB", 1000},       {"KiB", 1024},
      {"MB", 1000000}, {"MiB", 1 << 20}, {"GB", 1000000000}, {"GiB", size_t{1} << 30}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) return n * mult;
  }
  return std::nullopt;
}

std::optional<size_t> ParseMaxSeries(std::string_view s) {
  size_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || n == 0) return std::nullopt;
  return n;
}

namespace job_config_internal {

absl::Status JobConfigReader::EventTime(const YAML::Node& et, JobConfig* c) const {
  if (auto s = CheckKeys(et,
                         {"max_out_of_orderness", "allowed_lateness", "idle_timeout", "max_future",
                          "close_partial_windows"},
                         "event_time");
      !s.ok())
    return s;
  if (et["max_out_of_orderness"]) {
    if (auto s = Duration(et["max_out_of_orderness"], &c->event_time.max_out_of_orderness); !s.ok())
      return s;
  }
  if (et["allowed_lateness"]) {
    if (auto s = Duration(et["allowed_lateness"], &c->event_time.allowed_lateness); !s.ok())
      return s;
  }
  if (et["idle_timeout"]) {
    if (auto s = Duration(et["idle_timeout"], &c->event_time.idle_timeout); !s.ok()) return s;
  }
  if (et["max_future"]) {
    if (auto s = Duration(et["max_future"], &c->event_time.max_future); !s.ok()) return s;
  }
  if (YAML::Node b = et["close_partial_windows"]) {
    if (auto s = Bool(b, "close_partial_windows", &c->event_time.close_partial_windows); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::Status JobConfigReader::Limits(const YAML::Node& l, JobConfig* c) const {
  if (auto s = CheckKeys(l, {"max_record_bytes", "max_series"}, "limits"); !s.ok()) return s;
  if (YAML::Node m = l["max_record_bytes"]) {
    std::optional<size_t> b = ParseByteSize(m.Scalar());
    if (!b || *b == 0 || *b > kMaxRecordBytesLimit) {
      return Error(m, "expected a size from 1 byte to 1GiB, such as 1MiB or 65536");
    }
    c->max_record_bytes = *b;
  }
  if (YAML::Node m = l["max_series"]) {
    std::optional<size_t> n = ParseMaxSeries(m.IsScalar() ? m.Scalar() : "");
    if (!n) return Error(m, "expected a whole number of series of at least 1, e.g. 100000");
    c->max_series = *n;
  }
  return absl::OkStatus();
}

absl::Status JobConfigReader::ScaleOut(const YAML::Node& so, JobConfig* c) const {
  if (auto s = CheckKeys(so, {"partials", "instance_id", "merge"}, "scale_out"); !s.ok()) {
    return s;
  }
  if (so["partials"]) {
    c->scale_out.partials = so["partials"].Scalar();
    if (!ParseKafkaUrl(c->scale_out.partials).ok()) {
      return Error(so["partials"], "partials must be kafka://BROKERS/TOPIC");
    }
  }
  if (so["instance_id"]) c->scale_out.instance_id = so["instance_id"].Scalar();
  if (YAML::Node m = so["merge"]) {
    if (auto s = Bool(m, "scale_out.merge", &c->scale_out.merge); !s.ok()) return s;
  }
  if (c->scale_out.merge && !c->scale_out.partials.empty()) {
    return Error(so, "an instance publishes partials or merges them, not both");
  }
  return absl::OkStatus();
}

absl::Status JobConfigReader::Checkpoint(const YAML::Node& ck, JobConfig* c) const {
  if (auto s = CheckKeys(ck, {"dir", "interval", "allow_fresh_start"}, "checkpoint"); !s.ok()) {
    return s;
  }
  if (ck["dir"]) c->checkpoint.dir = ck["dir"].Scalar();
  if (YAML::Node f = ck["allow_fresh_start"]) {
    if (auto s = Bool(f, "allow_fresh_start", &c->checkpoint.allow_fresh_start); !s.ok()) return s;
  }
  if (ck["interval"]) {
    if (auto s = Duration(ck["interval"], &c->checkpoint.interval); !s.ok()) return s;
    if (c->checkpoint.interval <= 0) return Error(ck["interval"], "interval must be positive");
  }
  return absl::OkStatus();
}

absl::Status JobConfigReader::Read(const YAML::Node& root, JobConfig* c) const {
  if (auto s = CheckKeys(
          root,
          {"source", "event_time", "rules", "outputs", "http", "limits", "progress", "checkpoint",
           "notify", "shutdown_timeout", "readiness", "scale_out", "parallelism", "worker_key"},
          "the job file");
      !s.ok())
    return s;
  if (YAML::Node s = root["source"]) {
    if (auto st = Source(s, c); !st.ok()) return st;
  }
  if (YAML::Node et = root["event_time"]) {
    if (auto s = EventTime(et, c); !s.ok()) return s;
  }
  if (YAML::Node r = root["rules"]) {
    c->rule_files.clear();
    if (r.IsScalar() && !r.Scalar().empty()) {
      c->rule_files.push_back(r.Scalar());
    } else if (r.IsSequence() && r.size() > 0) {
      for (const auto& f : r) {
        if (!f.IsScalar() || f.Scalar().empty()) return Error(f, "'rules' must list rule files");
        c->rule_files.push_back(f.Scalar());
      }
    } else {
      // An empty list would run the built-in rules, which page.
      return Error(r, "'rules' must name rule files (leave the key out for the built-in rules)");
    }
  }
  if (YAML::Node o = root["outputs"]) {
    if (auto s = Outputs(o, c); !s.ok()) return s;
  }
  if (YAML::Node h = root["http"]) {
    if (auto s = Http(h, c); !s.ok()) return s;
  }
  if (YAML::Node l = root["limits"]) {
    if (auto s = Limits(l, c); !s.ok()) return s;
  }
  if (YAML::Node p = root["parallelism"]) {
    std::optional<int> n = ParseWorkers(p.IsScalar() ? p.Scalar() : "");
    if (!n) return Error(p, "parallelism: expected a number of workers from 1 to 64");
    c->workers = *n;
  }
  if (YAML::Node k = root["worker_key"]) {
    if (!k.IsScalar() || k.Scalar().empty()) {
      return Error(k, "worker_key: expected a field name such as session_id");
    }
    c->worker_key = k.Scalar();
  }
  if (YAML::Node p = root["progress"]) {
    if (auto s = Bool(p, "progress", &c->progress); !s.ok()) return s;
  }
  if (root["shutdown_timeout"]) {
    if (auto s = Duration(root["shutdown_timeout"], &c->shutdown_timeout); !s.ok()) return s;
  }
  if (YAML::Node nt = root["notify"]) {
    absl::StatusOr<NotifyConfig> notify = ParseNotifyConfig(nt, file_);
    if (!notify.ok()) return notify.status();
    c->notify = std::move(*notify);
  }
  if (YAML::Node r = root["readiness"]) {
    if (auto s = Readiness(r, c); !s.ok()) return s;
  }
  if (YAML::Node so = root["scale_out"]) {
    if (auto s = ScaleOut(so, c); !s.ok()) return s;
  }
  if (YAML::Node ck = root["checkpoint"]) {
    if (auto s = Checkpoint(ck, c); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace job_config_internal

absl::StatusOr<JobConfig> LoadJobConfig(const std::string& path, JobConfig base) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(
        StrCat(path, ": cannot read the job file: ", std::string(text.status().message())));
  }
  NormalizeLineBreaks(&*text);
  YAML::Node root;
  std::string second;
  try {
    root = LoadOneDocument(path, *text, &second);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(YamlErrorLine(path, e, *text));
  }
  if (!second.empty()) return absl::InvalidArgumentError(second);
  if (absl::Status s = DuplicateKeysError(path, root); !s.ok()) return s;
  // An empty file (or only comments) has no position to point at.
  if (!root || root.IsNull()) {
    return absl::InvalidArgumentError(
        StrCat(path,
               ": the job file is empty; it is a mapping of source, rules, outputs, ... "
               "(docs/operations.md)"));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(StrCat(path, ":", root.Mark().line + 1, ":",
                                             root.Mark().column + 1,
                                             ": the job file must be a mapping of source, "
                                             "rules, outputs, ... (docs/operations.md)"));
  }
  job_config_internal::JobConfigReader reader(path);
  try {
    if (absl::Status s = reader.Read(root, &base); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        StrCat(path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return base;
}

}  // namespace vigil

namespace vigil {

int EffectiveWorkers(int configured) {
  if (configured > 0) return configured;
  return std::clamp(UsableCores(), 1, 64);
}

std::optional<int> ParseWorkers(std::string_view s) {
  int n = 0;
  if (s.empty() || s.size() > 2) return std::nullopt;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  if (n < 1 || n > 64) return std::nullopt;
  return n;
}

}  // namespace vigil
