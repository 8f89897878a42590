#include <charconv>

#include "operators/net/http_client.h"
#include "operators/net/kafka_writer.h"
#include "operators/warehouse/warehouse_sink.h"
#include "runtime/http_server.h"
#include "runtime/job_config_reader.h"

namespace vigil::job_config_internal {

absl::Status JobConfigReader::Readiness(const YAML::Node& n, JobConfig* c) const {
  if (auto s = CheckKeys(n, {"max_watermark_stall"}, "readiness"); !s.ok()) return s;
  YAML::Node stall = n["max_watermark_stall"];
  if (!stall) return absl::OkStatus();
  return Duration(stall, &c->readiness.max_watermark_stall);
}

absl::Status JobConfigReader::Archive(const YAML::Node& n, ArchiveOptions* a) const {
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

absl::Status JobConfigReader::Outputs(const YAML::Node& n, JobConfig* c) const {
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
      if (auto s = Bool(con, "outputs.console", &c->outputs.console); !s.ok()) return s;
    } else {
      if (auto s = CheckKeys(con, {"format", "pending"}, "outputs.console"); !s.ok()) return s;
      std::string f = con["format"] ? con["format"].Scalar() : "text";
      if (f != "text" && f != "json") return Error(con["format"], "format must be text or json");
      c->outputs.console_format = f == "json" ? OutputFormat::kJson : OutputFormat::kText;
      if (YAML::Node p = con["pending"]) {
        if (auto s = Bool(p, "outputs.console.pending", &c->outputs.console_pending); !s.ok())
          return s;
      }
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

absl::Status JobConfigReader::Results(const YAML::Node& o, JobConfig* c) const {
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

absl::Status JobConfigReader::Http(const YAML::Node& h, JobConfig* c) const {
  if (auto s = CheckKeys(
          h, {"listen", "web_config_file", "enable_lifecycle", "max_connections", "read_timeout"},
          "http");
      !s.ok())
    return s;
  c->http_listen = "";
  if (YAML::Node l = h["listen"]) {
    if (!l.IsNull() && !l.IsScalar()) {
      return Error(l, "http.listen must be an address such as 127.0.0.1:9464, or off");
    }
    // As --http: "off" or "" turns the endpoint off.
    if (l.IsScalar() && l.Scalar() != "off") c->http_listen = l.Scalar();
    std::string_view host;
    uint16_t port = 0;
    if (!c->http_listen.empty()) {
      if (absl::Status s = SplitListenAddress(c->http_listen, &host, &port); !s.ok()) {
        return Error(l, StrCat("http.listen: ", std::string(s.message()), " (or off)"));
      }
    }
  }
  if (YAML::Node w = h["web_config_file"]) {
    if (!w.IsScalar() || w.Scalar().empty()) {
      return Error(w, "web_config_file must be the path of a web config file");
    }
    c->web.config_file = w.Scalar();
  }
  if (YAML::Node l = h["enable_lifecycle"]) {
    if (auto s = Bool(l, "enable_lifecycle", &c->web.enable_lifecycle); !s.ok()) return s;
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

}  // namespace vigil::job_config_internal
