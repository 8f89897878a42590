#include "base/host.h"
#include "operators/generator/generator.h"
#include "operators/source/kafka_source.h"
#include "runtime/job_config_reader.h"

namespace vigil::job_config_internal {

absl::Status JobConfigReader::Generator(const YAML::Node& n, JobConfig::Source* src) const {
  if (auto s = CheckKeys(n,
                         {"seed", "rate", "start", "duration", "speed", "jitter", "epoch_millis",
                          "incidents", "months"},
                         "source.generator");
      !s.ok())
    return s;
  GeneratorOptions& g = src->generator.generator;
  try {
    if (n["seed"]) g.seed = n["seed"].as<uint64_t>();
    if (n["rate"]) g.rate = n["rate"].as<double>();
    if (n["speed"]) src->generator.speed = n["speed"].as<double>();
  } catch (const YAML::Exception& e) {
    return Error(n, StrCat("bad generator setting: ", e.msg));
  }
  if (YAML::Node e = n["epoch_millis"]) {
    if (auto s = Bool(e, "epoch_millis", &g.epoch_millis); !s.ok()) return s;
  }
  if (YAML::Node s = n["start"]) {
    if (s.Scalar() == "now") {
      src->generator_start_now = true;
    } else {
      std::optional<TimeMs> t = ParseRfc3339(s.Scalar());
      if (!t) return Error(s, "start must be 'now' or an RFC 3339 time");
      g.start = *t;
      src->generator_start_now = false;
    }
  }
  if (n["duration"]) {
    if (auto st = Duration(n["duration"], &g.duration); !st.ok()) return st;
  }
  if (n["jitter"]) {
    if (auto st = Duration(n["jitter"], &g.max_jitter); !st.ok()) return st;
  }
  if (YAML::Node inc = n["incidents"]) {
    if (!inc.IsSequence()) return Error(inc, "incidents must be a list of kind@start+length");
    g.incidents.clear();
    for (const auto& item : inc) {
      absl::StatusOr<Incident> i = ParseIncident(item.Scalar());
      if (!i.ok()) return Error(item, std::string(i.status().message()));
      g.incidents.push_back(*i);
    }
  }
  if (YAML::Node months = n["months"]) {
    if (!months.IsSequence()) {
      return Error(months, "months must be a list of escalation=..,resolution=..,... figures");
    }
    g.months.clear();
    for (const auto& item : months) {
      absl::StatusOr<MonthProfile> m = ParseMonthProfile(item.Scalar());
      if (!m.ok()) return Error(item, std::string(m.status().message()));
      g.months.push_back(*m);
    }
  }
  absl::Status valid = ValidateGeneratorOptions(g);
  if (!valid.ok()) return Error(n, std::string(valid.message()));
  return absl::OkStatus();
}

absl::Status JobConfigReader::Kafka(const YAML::Node& n, KafkaSourceOptions* k) const {
  if (auto s = CheckKeys(n,
                         {"brokers", "topics", "group_id", "start", "properties", "exit_at_end",
                          "static_membership"},
                         "source.kafka");
      !s.ok())
    return s;
  if (YAML::Node b = n["brokers"]) {
    if (b.IsSequence()) {
      std::vector<std::string> list;
      for (const auto& x : b) list.push_back(x.Scalar());
      k->brokers = StrJoin(list, ",");
    } else {
      k->brokers = b.Scalar();
    }
  }
  if (YAML::Node t = n["topics"]) {
    k->topics.clear();
    if (t.IsScalar()) {
      k->topics.push_back(t.Scalar());
    } else {
      for (const auto& x : t) k->topics.push_back(x.Scalar());
    }
  }
  if (n["group_id"]) k->group_id = n["group_id"].Scalar();
  if (YAML::Node st = n["start"]) {
    if (!ParseKafkaStart(st.Scalar(), k)) {
      return Error(st, "start must be earliest, latest or an RFC 3339 time");
    }
  }
  if (YAML::Node p = n["properties"]) {
    if (!p.IsMap()) return Error(p, "properties must be a mapping of librdkafka settings");
    for (const auto& kv : p) k->properties.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  }
  if (YAML::Node e = n["exit_at_end"]) {
    if (auto s = Bool(e, "exit_at_end", &k->exit_at_end); !s.ok()) return s;
  }
  if (YAML::Node m = n["static_membership"]) {
    if (auto s = Bool(m, "static_membership", &k->static_membership); !s.ok()) return s;
  }
  if (k->brokers.empty()) return Error(n, "a Kafka source needs 'brokers'");
  if (k->topics.empty()) return Error(n, "a Kafka source needs 'topics'");
  return absl::OkStatus();
}

absl::Status JobConfigReader::Kinesis(const YAML::Node& n, KinesisSourceOptions* k) const {
  if (auto s =
          CheckKeys(n,
                    {"stream", "endpoint", "region", "start", "instance_index", "instance_count",
                     "poll_interval", "discovery_interval", "max_records_per_call", "exit_at_end"},
                    "source.kinesis");
      !s.ok())
    return s;
  if (n["stream"]) k->stream = n["stream"].Scalar();
  if (n["endpoint"]) k->endpoint = n["endpoint"].Scalar();
  if (n["region"]) k->region = n["region"].Scalar();
  if (YAML::Node st = n["start"]) {
    if (!ParseKinesisStart(st.Scalar(), k)) {
      return Error(st, "start must be trim_horizon, latest or an RFC 3339 time");
    }
  }
  if (YAML::Node i = n["instance_index"]) {
    std::optional<int> idx = ParseInstanceIndex(i.Scalar());
    if (!idx) {
      return Error(i, i.Scalar() == "ordinal"
                          ? StrCat("instance_index 'ordinal' is the number after the host name's "
                                   "last '-', and the host name '",
                                   HostName(), "' has none")
                          : "instance_index must be a number or 'ordinal' (from the host name)");
    }
    k->instance_index = *idx;
  }
  if (n["instance_count"]) k->instance_count = n["instance_count"].as<int>();
  if (k->instance_count < 1 || k->instance_index < 0 || k->instance_index >= k->instance_count) {
    return Error(n, StrCat("instance_index ", k->instance_index, " is not below instance_count ",
                           k->instance_count));
  }
  if (n["poll_interval"]) {
    if (auto s = Duration(n["poll_interval"], &k->poll_interval); !s.ok()) return s;
  }
  if (n["discovery_interval"]) {
    if (auto s = Duration(n["discovery_interval"], &k->discovery_interval); !s.ok()) return s;
  }
  if (YAML::Node m = n["max_records_per_call"]) {
    k->max_records_per_call = m.as<int>();
    if (k->max_records_per_call < 1 || k->max_records_per_call > 10000) {
      return Error(m, "max_records_per_call must be 1..10000 (the GetRecords Limit)");
    }
  }
  if (YAML::Node e = n["exit_at_end"]) {
    if (auto s = Bool(e, "exit_at_end", &k->exit_at_end); !s.ok()) return s;
  }
  if (k->stream.empty()) return Error(n, "a Kinesis source needs 'stream'");
  return absl::OkStatus();
}

absl::Status JobConfigReader::Source(const YAML::Node& n, JobConfig* c) const {
  if (auto s = CheckKeys(n, {"kind", "path", "paths", "generator", "kafka", "kinesis"}, "source");
      !s.ok())
    return s;
  std::string kind = n["kind"] ? n["kind"].Scalar() : "";
  if (kind == "generator") {
    c->source.kind = SourceKind::kGenerator;
  } else if (kind == "file") {
    c->source.kind = SourceKind::kFile;
  } else if (kind == "stdin") {
    c->source.kind = SourceKind::kStdin;
  } else if (kind == "kafka") {
    c->source.kind = SourceKind::kKafka;
  } else if (kind == "kinesis") {
    c->source.kind = SourceKind::kKinesis;
  } else {
    return Error(n["kind"] ? n["kind"] : n,
                 "source.kind must be generator, file, stdin, kafka or kinesis");
  }
  // Both: `path` is read first, then `paths`.
  if (YAML::Node p = n["path"]) {
    if (!p.IsScalar() || p.Scalar().empty()) {
      return Error(p, "'path' must be one file name; use 'paths' for a list");
    }
    c->source.paths = {p.Scalar()};
  }
  if (YAML::Node ps = n["paths"]) {
    if (!ps.IsSequence() || ps.size() == 0) {
      return Error(ps, "'paths' must be a list of file names, e.g. paths: [a.ndjson, b.ndjson]");
    }
    if (!n["path"]) c->source.paths.clear();
    for (const auto& p : ps) {
      if (!p.IsScalar() || p.Scalar().empty()) return Error(p, "'paths' must list file names");
      c->source.paths.push_back(p.Scalar());
    }
  }
  if (c->source.kind == SourceKind::kFile && c->source.paths.empty()) {
    return Error(n, "a file source needs 'path' or 'paths'");
  }
  if (c->source.kind == SourceKind::kKafka && !n["kafka"]) {
    return Error(n, "a kafka source needs a 'kafka' section (brokers, topics)");
  }
  if (YAML::Node k = n["kafka"]) {
    if (auto st = Kafka(k, &c->source.kafka); !st.ok()) return st;
  }
  if (c->source.kind == SourceKind::kKinesis && !n["kinesis"]) {
    return Error(n, "a kinesis source needs a 'kinesis' section (stream, endpoint, region)");
  }
  if (YAML::Node k = n["kinesis"]) {
    if (auto st = Kinesis(k, &c->source.kinesis); !st.ok()) return st;
  }
  if (YAML::Node g = n["generator"]) return Generator(g, &c->source);
  return absl::OkStatus();
}

}  // namespace vigil::job_config_internal
