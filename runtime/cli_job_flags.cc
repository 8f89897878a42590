#include "runtime/cli_job_flags.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/host.h"
#include "base/strings.h"
#include "operators/net/http_client.h"
#include "operators/net/kafka_writer.h"
#include "operators/net/kinesis_writer.h"
#include "operators/warehouse/warehouse_sink.h"
#include "runtime/cli_args.h"

namespace vigil::cli {

// --alertmanager URL: every alert, whatever its severity, to the
// Alertmanager at URL (repeat the flag for each member of an HA cluster).
// The receiver is named "alertmanager"; a job file's receivers and routes
// stay. Returns an error message, or "".
std::string AddAlertmanager(const std::string& url, NotifyConfig* notify) {
  // The message shows the URL redacted (it may hold a password) and why.
  if (absl::StatusOr<HttpUrl> parsed = HttpUrl::Parse(url); !parsed.ok()) {
    return StrCat("--alertmanager: ", std::string(parsed.status().message()));
  }
  constexpr std::string_view kName = "alertmanager";
  NotifyReceiver* r = nullptr;
  for (NotifyReceiver& have : notify->receivers) {
    if (have.name == kName) r = &have;
  }
  if (r != nullptr && r->kind != NotifyReceiver::Kind::kAlertmanager) {
    return "--alertmanager adds a receiver named 'alertmanager', and the job file has one of "
           "another kind: rename it, or add the URL to the job file";
  }
  if (r == nullptr) {
    r = &notify->receivers.emplace_back();
    r->name = kName;
    r->kind = NotifyReceiver::Kind::kAlertmanager;
  }
  r->urls.push_back(url);
  auto add = [&](std::vector<std::string>& route) {
    if (std::find(route.begin(), route.end(), kName) == route.end()) route.emplace_back(kName);
  };
  for (size_t severity = 1; severity < notify->routes.size(); ++severity) {
    add(notify->routes[severity]);
  }
  for (auto& [alert, route] : notify->alert_routes) add(route);
  return "";
}

namespace {

// The outputs `run` and `replay` share: results, alerts, dead letters and
// the rule files' record outputs.
bool JobOutputFlag(Args& a, JobConfig* config, std::string* err) {
  std::string v;
  if (a.Value("--results", &v, err)) {
    if (v.rfind("kafka://", 0) == 0) {
      absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(v);
      if (!url.ok()) {
        *err = std::string(url.status().message());
      } else {
        config->outputs.kafka.brokers = url->brokers;
        config->outputs.kafka.results_topic = url->topic;
      }
    } else if (IsWarehouseUrl(v)) {
      if (absl::StatusOr<WarehouseUrl> url = ParseWarehouseUrl(v); !url.ok()) {
        *err = std::string(url.status().message());
      }
      config->outputs.results_database = v;
    } else {
      config->outputs.results_path = v;
    }
  } else if (a.Value("--alerts", &v, err)) {
    absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(v);
    if (!url.ok()) {
      *err = std::string(url.status().message());
    } else {
      config->outputs.kafka.brokers = url->brokers;
      config->outputs.kafka.alerts_topic = url->topic;
    }
  } else if (a.Value("--transactional-id", &v, err)) {
    config->outputs.kafka.transactional_id = v;
  } else if (a.Value("--dead-letter", &v, err)) {
    config->outputs.dead_letter_path = v;
  } else if (a.Value("--record-dir", &v, err)) {
    config->outputs.records_dir = v;
  } else if (a.Value("--records", &v, err)) {
    absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(v);
    if (v.starts_with("http://") || v.starts_with("https://")) {
      if (absl::StatusOr<HttpUrl> parsed = HttpUrl::Parse(v); !parsed.ok()) {
        *err = StrCat("--records: ", std::string(parsed.status().message()));
      } else {
        config->outputs.records_webhook = v;
      }
    } else if (!url.ok()) {
      *err = std::string(url.status().message());
    } else {
      config->outputs.kafka.brokers = url->brokers;
      config->outputs.kafka.records_topic_prefix = url->topic;
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool JobFlag(Args& a, JobConfig* config, std::string* err) {
  std::string v;
  if (a.Value("--rules", &v, err)) {
    config->rule_files.push_back(v);
  } else if (JobOutputFlag(a, config, err)) {
  } else if (a.Value("--max-out-of-orderness", &v, err)) {
    DurationFlag("--max-out-of-orderness", v, &config->event_time.max_out_of_orderness, err);
  } else if (a.Value("--allowed-lateness", &v, err)) {
    DurationFlag("--allowed-lateness", v, &config->event_time.allowed_lateness, err);
  } else if (a.Value("--idle-timeout", &v, err)) {
    DurationFlag("--idle-timeout", v, &config->event_time.idle_timeout, err);
  } else if (a.Value("--max-future", &v, err)) {
    DurationFlag("--max-future", v, &config->event_time.max_future, err);
  } else if (a.Flag("--close-partial-windows")) {
    config->event_time.close_partial_windows = true;
  } else if (a.Value("--max-record-bytes", &v, err)) {
    std::optional<size_t> b = ParseByteSize(v);
    if ((!b || *b == 0 || *b > kMaxRecordBytesLimit) && err->empty()) {
      *err = "--max-record-bytes needs a size from 1 byte to 1GiB, such as 1MiB";
    }
    config->max_record_bytes = b.value_or(1);
  } else if (a.Value("--max-series", &v, err)) {
    std::optional<size_t> n = ParseMaxSeries(v);
    if (!n && err->empty()) *err = "--max-series needs a whole number of at least 1";
    config->max_series = n.value_or(1);
  } else if (a.Value("--workers", &v, err)) {
    std::optional<int> n = ParseWorkers(v);
    if (!n && err->empty()) *err = "--workers needs a number of workers from 1 to 64";
    config->workers = n.value_or(1);
  } else if (a.Value("--worker-key", &v, err)) {
    if (v.empty() && err->empty()) *err = "--worker-key needs a field name such as session_id";
    config->worker_key = v;
  } else if (a.Flag("--no-progress")) {
    config->progress = false;
  } else if (a.Value("--shutdown-timeout", &v, err)) {
    DurationFlag("--shutdown-timeout", v, &config->shutdown_timeout, err);
  } else if (a.Value("--checkpoint-dir", &v, err)) {
    config->checkpoint.dir = v;
  } else if (a.Flag("--allow-fresh-start")) {
    config->checkpoint.allow_fresh_start = true;
  } else if (a.Value("--checkpoint-interval", &v, err)) {
    DurationFlag("--checkpoint-interval", v, &config->checkpoint.interval, err);
    if (config->checkpoint.interval <= 0 && err->empty()) {
      *err = "--checkpoint-interval must be positive";
    }
  } else {
    return false;
  }
  return true;
}

namespace {

// Sets the input of a run from --input's value.
void SetInput(const std::string& v, RunFlags* seen, JobConfig* config, std::string* err) {
  if (!seen->inputs) config->source.paths.clear();
  seen->inputs = true;
  JobConfig::Source& source = config->source;
  if (v == "-") {
    source.kind = SourceKind::kStdin;
  } else if (v.rfind("kinesis://", 0) == 0) {
    absl::StatusOr<KinesisUrl> url = ParseKinesisUrl(v);
    if (!url.ok()) {
      *err = std::string(url.status().message());
      return;
    }
    source.kind = SourceKind::kKinesis;
    source.kinesis.stream = url->stream;
    source.kinesis.endpoint = url->endpoint;
    source.kinesis.region = url->region;
  } else if (v.rfind("kafka://", 0) == 0) {
    absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(v);
    if (!url.ok()) {
      *err = std::string(url.status().message());
      return;
    }
    source.kind = SourceKind::kKafka;
    source.kafka.brokers = url->brokers;
    source.kafka.topics.clear();
    for (std::string_view t : StrSplit(url->topic, ',')) source.kafka.topics.emplace_back(t);
  } else {
    source.kind = SourceKind::kFile;
    source.paths.push_back(v);
  }
}

}  // namespace

// The flags of `vigil run` that say what it reads and in which role (an
// instance, the merge stage). Returns whether the next argument was one.
bool SourceFlag(Args& a, RunFlags* seen, JobConfig* config, std::string* err) {
  JobConfig::Source& source = config->source;
  std::string v;
  // A flag consumed needs nothing more: the empty branches are alike.
  // NOLINTNEXTLINE(bugprone-branch-clone)
  if (a.Value("--input", &v, err)) {
    if (err->empty()) SetInput(v, seen, config, err);
  } else if (a.Value("--group", &v, err)) {
    source.kafka.group_id = v;
    seen->group = true;
  } else if (a.Value("--partials", &v, err)) {
    if (!ParseKafkaUrl(v).ok()) *err = "--partials needs kafka://BROKERS/TOPIC";
    config->scale_out.partials = v;
  } else if (a.Flag("--no-static-membership")) {
    source.kafka.static_membership = false;
  } else if (a.Value("--instance-id", &v, err)) {
    config->scale_out.instance_id = v;
  } else if (a.Value("--merge", &v, err)) {
    absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(v);
    if (!url.ok()) {
      *err = "--merge needs kafka://BROKERS/TOPIC (the partials topic)";
    } else {
      seen->inputs = true;
      source.kind = SourceKind::kKafka;
      source.kafka.brokers = url->brokers;
      source.kafka.topics = {url->topic};
      config->scale_out.merge = true;
    }
  } else if (a.Value("--start-at", &v, err)) {
    if (source.kind == SourceKind::kKinesis) {
      if (!ParseKinesisStart(v, &source.kinesis)) {
        *err = "--start-at needs trim_horizon, latest or an RFC 3339 time for Kinesis";
      }
    } else if (!ParseKafkaStart(v, &source.kafka)) {
      *err = "--start-at needs earliest, latest or an RFC 3339 time";
    }
  } else if (a.Flag("--exit-at-end")) {
    source.kafka.exit_at_end = true;
    source.kinesis.exit_at_end = true;
  } else if (a.Value("--instance", &v, err)) {
    const size_t slash = v.find('/');
    const bool ordinal = v.substr(0, slash) == "ordinal";
    std::optional<int> index = ParseInstanceIndex(v.substr(0, slash));
    double count = 0;
    const std::string host = ordinal ? StrCat(" (from the host name '", HostName(), "')") : "";
    if (slash == std::string::npos || !ParseNumber(v.substr(slash + 1), &count) || count < 1 ||
        count != static_cast<double>(static_cast<int>(count))) {
      *err = "--instance needs INDEX/COUNT, e.g. 0/3 (INDEX may be 'ordinal')";
    } else if (!index) {
      *err = ordinal ? StrCat("--instance ordinal/", v.substr(slash + 1),
                              ": 'ordinal' is the number after the host name's last '-', and the "
                              "host name '",
                              HostName(), "' has none")
                     : "--instance needs INDEX/COUNT, e.g. 0/3 (INDEX may be 'ordinal')";
    } else if (*index >= count) {
      *err = StrCat("--instance ", v, ": index ", *index, host, " is not below the count ",
                    static_cast<int>(count));
    } else {
      source.kinesis.instance_index = *index;
      source.kinesis.instance_count = static_cast<int>(count);
    }
  } else if (cli::KafkaPropertyFlag(a, &source.kafka.properties, err)) {
  } else if (a.Flag("--generator")) {
    source.kind = SourceKind::kGenerator;
  } else if (a.Value("--speed", &v, err)) {
    if (!ParseNumber(v, &source.generator.speed) || source.generator.speed < 0)
      *err = "--speed needs a number >= 0";
  } else {
    return false;
  }
  return true;
}

// The flags of `vigil run` that say what it shows and keeps: the console,
// the HTTP server, the archive. Returns whether the next argument was one.
bool OutputFlag(Args& a, JobConfig* config, std::string* err) {
  std::string v;
  if (a.Value("--output", &v, err)) {
    if (v != "text" && v != "json") *err = "--output must be text or json";
    config->outputs.console_format = v == "json" ? OutputFormat::kJson : OutputFormat::kText;
  } else if (a.Flag("--no-console")) {
    config->outputs.console = false;
  } else if (a.Flag("--no-pending")) {
    config->outputs.console_pending = false;
  } else if (a.Value("--http", &v, err)) {
    config->http_listen = v == "off" ? "" : v;
  } else if (a.Value("--web.config.file", &v, err)) {
    config->web.config_file = v;
  } else if (a.Flag("--web.enable-lifecycle")) {
    config->web.enable_lifecycle = true;
  } else if (a.Value("--web.max-connections", &v, err)) {
    double n = 0;
    if (!ParseNumber(v, &n) || n < 1 || n != static_cast<double>(static_cast<size_t>(n))) {
      *err = "--web.max-connections needs a whole number of at least 1";
    }
    config->web.max_connections = static_cast<size_t>(std::max(1.0, n));
  } else if (a.Value("--archive", &v, err)) {
    config->outputs.archive.location = v;
  } else if (a.Value("--archive-format", &v, err)) {
    absl::StatusOr<ArchiveFormat> f = ParseArchiveFormat(v);
    if (f.ok()) config->outputs.archive.format = *f;
    if (!f.ok()) *err = StrCat("--archive-format: ", std::string(f.status().message()));
  } else if (a.Value("--archive-partitioning", &v, err)) {
    absl::StatusOr<ArchivePartitioning> p = ParseArchivePartitioning(v);
    if (p.ok()) config->outputs.archive.partitioning = *p;
    if (!p.ok()) *err = StrCat("--archive-partitioning: ", std::string(p.status().message()));
  } else {
    return false;
  }
  return true;
}

}  // namespace vigil::cli
