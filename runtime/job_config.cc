#include "runtime/job_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "base/files.h"
#include "base/host.h"
#include "base/strings.h"
#include "operators/net/http_client.h"
#include "operators/net/kafka_writer.h"
#include "operators/warehouse/warehouse_sink.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"

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

namespace {

class ConfigReader {
 public:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {}

  absl::Status Error(const YAML::Node& n, std::string_view msg) const {
    YAML::Mark m = n.Mark();
    return absl::InvalidArgumentError(StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", msg));
  }

  absl::Status CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                         std::string_view where) const {
    NoteKeyList(allowed);
    if (!map.IsMap()) return Error(map, StrCat("'", where, "' must be a mapping"));
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return Error(kv.first, StrCat("unknown key '", key, "' in ", where,
                                      " (allowed: ", StrJoin(allowed, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Duration(const YAML::Node& n, DurationMs* out) const {
    std::optional<DurationMs> d = n.IsScalar() ? ParseDuration(n.Scalar()) : std::nullopt;
    if (!d) return Error(n, "expected a duration such as 0, 500ms, 30s, 5m");
    *out = *d;
    return absl::OkStatus();
  }

  absl::Status Generator(const YAML::Node& n, JobConfig::Source* src) const {
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
      if (n["epoch_millis"]) g.epoch_millis = n["epoch_millis"].as<bool>();
    } catch (const YAML::Exception& e) {
      return Error(n, StrCat("bad generator setting: ", e.msg));
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

  absl::Status Kafka(const YAML::Node& n, KafkaSourceOptions* k) const {
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
    if (n["exit_at_end"]) k->exit_at_end = n["exit_at_end"].as<bool>();
    if (YAML::Node m = n["static_membership"]) {
      if (!YAML::convert<bool>::decode(m, k->static_membership)) {
        return Error(m, "static_membership must be true or false");
      }
    }
    if (k->brokers.empty()) return Error(n, "a Kafka source needs 'brokers'");
    if (k->topics.empty()) return Error(n, "a Kafka source needs 'topics'");
    return absl::OkStatus();
  }

  absl::Status Kinesis(const YAML::Node& n, KinesisSourceOptions* k) const {
    if (auto s = CheckKeys(
            n,
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
      if (!idx)
        return Error(i, "instance_index must be a number or 'ordinal' (from the host name)");
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
    if (n["exit_at_end"]) k->exit_at_end = n["exit_at_end"].as<bool>();
    if (k->stream.empty()) return Error(n, "a Kinesis source needs 'stream'");
    return absl::OkStatus();
  }

  absl::Status Source(const YAML::Node& n, JobConfig* c) const {
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
    if (n["path"]) c->source.paths = {n["path"].Scalar()};
    if (YAML::Node ps = n["paths"]) {
      c->source.paths.clear();
      for (const auto& p : ps) c->source.paths.push_back(p.Scalar());
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

  absl::Status Readiness(const YAML::Node& n, JobConfig* c) const {
    if (auto s = CheckKeys(n, {"max_watermark_stall"}, "readiness"); !s.ok()) return s;
    YAML::Node stall = n["max_watermark_stall"];
    if (!stall) return absl::OkStatus();
    return Duration(stall, &c->readiness.max_watermark_stall);
  }

  absl::Status Archive(const YAML::Node& n, ArchiveOptions* a) const {
    if (auto s = CheckKeys(n,
                           {"dir", "url", "format", "partitioning", "flush_interval", "max_bytes",
                            "retention", "max_pending"},
                           "outputs.archive");
        !s.ok())
      return s;
    const bool url = n["url"] && !n["url"].Scalar().empty();
    if (n["dir"] && url) return Error(n["url"], "outputs.archive takes 'dir' or 'url', not both");
    if (n["dir"]) a->location = n["dir"].Scalar();
    if (url) a->location = n["url"].Scalar();
    if (a->location.empty()) {
      return Error(n, "outputs.archive needs 'dir' (a directory) or 'url' (s3://BUCKET/PREFIX)");
    }
    if (YAML::Node f = n["format"]) {
      absl::StatusOr<ArchiveFormat> v = ParseArchiveFormat(f.Scalar());
      if (!v.ok()) return Error(f, std::string(v.status().message()));
      a->format = *v;
    }
    if (YAML::Node p = n["partitioning"]) {
      absl::StatusOr<ArchivePartitioning> v = ParseArchivePartitioning(p.Scalar());
      if (!v.ok()) return Error(p, std::string(v.status().message()));
      a->partitioning = *v;
    }
    if (YAML::Node m = n["max_pending"]) {
      std::optional<size_t> b = m.IsScalar() ? ParseByteSize(m.Scalar()) : std::nullopt;
      if (!b || *b == 0) return Error(m, "expected a size such as 256MiB");
      a->max_pending_bytes = *b;
    }
    if (YAML::Node f = n["flush_interval"]) {
      if (auto s = Duration(f, &a->flush_interval); !s.ok()) return s;
      if (a->flush_interval <= 0) return Error(f, "flush_interval must be positive");
    }
    if (YAML::Node m = n["max_bytes"]) {
      std::optional<size_t> b = m.IsScalar() ? ParseByteSize(m.Scalar()) : std::nullopt;
      if (!b || *b == 0) return Error(m, "expected a size such as 5MiB or 1048576");
      a->max_bytes = *b;
    }
    if (YAML::Node r = n["retention"]) {
      if (auto s = Duration(r, &a->retention); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Outputs(const YAML::Node& n, JobConfig* c) const {
    if (auto s = CheckKeys(n, {"console", "results", "dead_letter", "records", "kafka", "archive"},
                           "outputs");
        !s.ok())
      return s;
    if (YAML::Node a = n["archive"]) {
      if (auto s = Archive(a, &c->outputs.archive); !s.ok()) return s;
    }
    if (YAML::Node k = n["kafka"]) {
      if (auto s = CheckKeys(k,
                             {"brokers", "results_topic", "alerts_topic", "records_topic_prefix",
                              "transactional_id", "properties"},
                             "outputs.kafka");
          !s.ok())
        return s;
      auto& o = c->outputs.kafka;
      if (k["brokers"]) o.brokers = k["brokers"].Scalar();
      if (k["results_topic"]) o.results_topic = k["results_topic"].Scalar();
      if (k["alerts_topic"]) o.alerts_topic = k["alerts_topic"].Scalar();
      if (k["records_topic_prefix"]) o.records_topic_prefix = k["records_topic_prefix"].Scalar();
      if (k["transactional_id"]) o.transactional_id = k["transactional_id"].Scalar();
      if (YAML::Node p = k["properties"]) {
        if (!p.IsMap()) return Error(p, "properties must be a mapping of librdkafka settings");
        for (const auto& kv : p) o.properties.emplace_back(kv.first.Scalar(), kv.second.Scalar());
      }
      if (o.brokers.empty()) return Error(k, "Kafka outputs need 'brokers'");
      if (o.results_topic.empty() && o.alerts_topic.empty() && o.records_topic_prefix.empty()) {
        return Error(k, "Kafka outputs need results_topic, alerts_topic or records_topic_prefix");
      }
    }
    if (YAML::Node con = n["console"]) {
      if (con.IsScalar()) {
        c->outputs.console = con.as<bool>(true);
      } else {
        if (auto s = CheckKeys(con, {"format", "pending"}, "outputs.console"); !s.ok()) return s;
        std::string f = con["format"] ? con["format"].Scalar() : "text";
        if (f != "text" && f != "json") return Error(con["format"], "format must be text or json");
        c->outputs.console_format = f == "json" ? OutputFormat::kJson : OutputFormat::kText;
        if (con["pending"]) c->outputs.console_pending = con["pending"].as<bool>(true);
      }
    }
    if (YAML::Node r = n["records"]) {
      if (auto s = CheckKeys(r, {"dir", "webhook", "webhook_batch"}, "outputs.records"); !s.ok())
        return s;
      if ((!r["dir"] || !r["dir"].IsScalar()) && (!r["webhook"] || !r["webhook"].IsScalar())) {
        return Error(r,
                     "outputs.records needs a 'dir' (where each output's files go) or a "
                     "'webhook' (a URL to POST them to)");
      }
      if (r["dir"]) c->outputs.records_dir = r["dir"].Scalar();
      if (YAML::Node w = r["webhook"]) {
        if (!HttpUrl::Parse(w.Scalar()).ok()) {
          return Error(w, "outputs.records.webhook must be an http:// or https:// URL");
        }
        c->outputs.records_webhook = w.Scalar();
      }
      if (YAML::Node b = r["webhook_batch"]) {
        const int batch = b.as<int>(0);
        if (batch < 1 || batch > 100000) {
          return Error(b, "outputs.records.webhook_batch must be 1..100000 records");
        }
        c->outputs.records_webhook_batch = static_cast<size_t>(batch);
      }
    }
    if (YAML::Node o = n["dead_letter"]) {
      if (auto s = CheckKeys(o, {"path"}, "outputs.dead_letter"); !s.ok()) return s;
      c->outputs.dead_letter_path = o["path"].Scalar();
    }
    if (YAML::Node o = n["results"]) return Results(o, c);
    return absl::OkStatus();
  }

  // outputs.results: a file and/or a database; the database's table,
  // alerts_table, dialect and retention keys become its URL's parameters.
  absl::Status Results(const YAML::Node& o, JobConfig* c) const {
    if (auto s = CheckKeys(o, {"path", "database", "table", "alerts_table", "dialect", "retention"},
                           "outputs.results");
        !s.ok())
      return s;
    if (o["path"]) c->outputs.results_path = o["path"].Scalar();
    YAML::Node db = o["database"];
    if (!db) {
      for (const char* key : {"table", "alerts_table", "dialect", "retention"}) {
        if (o[key]) return Error(o[key], StrCat("outputs.results.", key, " needs database:"));
      }
      return absl::OkStatus();
    }
    if (!IsWarehouseUrl(db.Scalar())) {
      return Error(db, "outputs.results.database must be a postgresql:// URL");
    }
    std::string url = db.Scalar();
    for (const char* key : {"table", "alerts_table", "dialect", "retention"}) {
      if (YAML::Node v = o[key]) {
        const std::string param = StrCat(key, "=", v.Scalar());
        if (absl::StatusOr<WarehouseUrl> w = ParseWarehouseUrl("postgresql://h/d?" + param);
            !w.ok()) {
          return Error(v, StrCat("outputs.results.", key, ": ", std::string(w.status().message())));
        }
        StrAppend(&url, url.find('?') == std::string::npos ? "?" : "&", param);
      }
    }
    if (absl::StatusOr<WarehouseUrl> w = ParseWarehouseUrl(url); !w.ok()) {
      return Error(db, std::string(w.status().message()));
    }
    c->outputs.results_database = url;
    return absl::OkStatus();
  }

  absl::Status Http(const YAML::Node& h, JobConfig* c) const {
    if (auto s = CheckKeys(
            h, {"listen", "web_config_file", "enable_lifecycle", "max_connections", "read_timeout"},
            "http");
        !s.ok())
      return s;
    c->http_listen = h["listen"] ? h["listen"].Scalar() : "";
    if (YAML::Node w = h["web_config_file"]) {
      if (!w.IsScalar() || w.Scalar().empty()) {
        return Error(w, "web_config_file must be the path of a web config file");
      }
      c->web.config_file = w.Scalar();
    }
    if (YAML::Node l = h["enable_lifecycle"]) {
      bool v = false;
      if (!l.IsScalar() || !YAML::convert<bool>::decode(l, v)) {
        return Error(l, "enable_lifecycle must be true or false");
      }
      c->web.enable_lifecycle = v;
    }
    if (YAML::Node m = h["max_connections"]) {
      size_t n = 0;
      const std::string& v = m.Scalar();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (!m.IsScalar() || ec != std::errc() || p != v.data() + v.size() || n == 0) {
        return Error(m, "max_connections must be a whole number of at least 1");
      }
      c->web.max_connections = n;
    }
    if (YAML::Node t = h["read_timeout"]) {
      if (auto s = Duration(t, &c->web.read_timeout); !s.ok()) return s;
      if (c->web.read_timeout <= 0) return Error(t, "read_timeout must be positive");
    }
    return absl::OkStatus();
  }

  absl::Status Read(const YAML::Node& root, JobConfig* c) const {
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
      if (auto s = CheckKeys(et,
                             {"max_out_of_orderness", "allowed_lateness", "idle_timeout",
                              "max_future", "close_partial_windows"},
                             "event_time");
          !s.ok())
        return s;
      if (et["max_out_of_orderness"]) {
        if (auto s = Duration(et["max_out_of_orderness"], &c->event_time.max_out_of_orderness);
            !s.ok())
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
      if (et["close_partial_windows"]) {
        c->event_time.close_partial_windows = et["close_partial_windows"].as<bool>();
      }
    }
    if (YAML::Node r = root["rules"]) {
      c->rule_files.clear();
      if (r.IsScalar()) {
        c->rule_files.push_back(r.Scalar());
      } else {
        for (const auto& f : r) c->rule_files.push_back(f.Scalar());
      }
    }
    if (YAML::Node o = root["outputs"]) {
      if (auto s = Outputs(o, c); !s.ok()) return s;
    }
    if (YAML::Node h = root["http"]) {
      if (auto s = Http(h, c); !s.ok()) return s;
    }
    if (YAML::Node l = root["limits"]) {
      if (auto s = CheckKeys(l, {"max_record_bytes", "max_series"}, "limits"); !s.ok()) return s;
      if (YAML::Node m = l["max_record_bytes"]) {
        std::optional<size_t> b = ParseByteSize(m.Scalar());
        if (!b || *b == 0) return Error(m, "expected a size such as 1MiB or 65536");
        c->max_record_bytes = *b;
      }
      if (YAML::Node m = l["max_series"]) {
        std::optional<size_t> n = ParseMaxSeries(m.IsScalar() ? m.Scalar() : "");
        if (!n) return Error(m, "expected a whole number of series of at least 1, e.g. 100000");
        c->max_series = *n;
      }
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
    if (root["progress"]) c->progress = root["progress"].as<bool>(true);
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
      if (so["merge"]) c->scale_out.merge = so["merge"].as<bool>();
      if (c->scale_out.merge && !c->scale_out.partials.empty()) {
        return Error(so, "an instance publishes partials or merges them, not both");
      }
    }
    if (YAML::Node ck = root["checkpoint"]) {
      if (auto s = CheckKeys(ck, {"dir", "interval", "allow_fresh_start"}, "checkpoint"); !s.ok()) {
        return s;
      }
      if (ck["dir"]) c->checkpoint.dir = ck["dir"].Scalar();
      if (YAML::Node f = ck["allow_fresh_start"]) {
        if (!YAML::convert<bool>::decode(f, c->checkpoint.allow_fresh_start)) {
          return Error(f, "allow_fresh_start must be true or false");
        }
      }
      if (ck["interval"]) {
        if (auto s = Duration(ck["interval"], &c->checkpoint.interval); !s.ok()) return s;
        if (c->checkpoint.interval <= 0) return Error(ck["interval"], "interval must be positive");
      }
    }
    return absl::OkStatus();
  }

 private:
  std::string file_;
};

}  // namespace

absl::StatusOr<JobConfig> LoadJobConfig(const std::string& path, JobConfig base) {
  const std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return absl::NotFoundError(StrCat(path, ": cannot open the job file"));
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(YamlErrorLine(path, e, *text));
  }
  if (absl::Status s = DuplicateKeysError(path, root); !s.ok()) return s;
  ConfigReader reader(path);
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
