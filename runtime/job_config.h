// runtime/job_config.h
//
// JobConfig is everything `vigil run` needs: the source, event-time
// settings, rule files, outputs and the HTTP endpoint. It is read from a
// YAML job file (deploy/job.yaml shows every key) and then overridden by
// command-line flags; with neither, it is the embedded demo: the paced
// generator with scheduled incidents, the built-in reference rules, alerts
// on the console and /metrics on 127.0.0.1:9464.
//
// Example:
//   absl::StatusOr<JobConfig> c = LoadJobConfig("deploy/job.yaml");
//   c->source.kind;            // SourceKind::kFile
//   c->event_time.max_out_of_orderness;  // 5000
#ifndef VIGIL_RUNTIME_JOB_CONFIG_H_
#define VIGIL_RUNTIME_JOB_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "operators/archive/archive_writer.h"
#include "operators/dataflow/dataflow.h"
#include "operators/notify/notify_config.h"
#include "operators/sink/output_sinks.h"
#include "operators/source/generator_source.h"
#include "operators/source/kafka_source.h"
#include "operators/source/kinesis_source.h"

namespace vigil {

enum class SourceKind { kGenerator, kFile, kStdin, kKafka, kKinesis };

// The largest --max-record-bytes: a record of that size takes about twice
// in the line buffer and several times in the parser's.
inline constexpr size_t kMaxRecordBytesLimit = size_t{1} << 30;

struct JobConfig {
  struct Source {
    SourceKind kind = SourceKind::kGenerator;
    std::vector<std::string> paths;  // files, read one after another
    GeneratorSourceOptions generator;
    bool generator_start_now = true;
    KafkaSourceOptions kafka;
    KinesisSourceOptions kinesis;
  } source;
  // Scale-out past one machine (operators/scale_out/partials.h, merge_stage.h).
  struct ScaleOut {
    // An instance: publish partial aggregates to this Kafka topic
    // (kafka://BROKERS/TOPIC) instead of closing windows.
    std::string partials;
    std::string instance_id;  // "": the host name
    // The merge stage: the Kafka source reads a partials topic.
    bool merge = false;
  } scale_out;
  struct EventTime {
    DurationMs max_out_of_orderness = 5000;
    DurationMs allowed_lateness = 0;
    DurationMs idle_timeout = 30000;
    // Live inputs only: an event stamped further than this ahead of the
    // processing clock is dead-lettered (future_ts) and never moves the
    // watermark. 0: no bound.
    DurationMs max_future = 3600000;
    // Windows the end of a bounded input closes before the input covered
    // them (operators/dataflow/sink.h, InputEnd) alert like the others
    // (false: marked partial, no alert).
    bool close_partial_windows = false;
    // How far the input covers event time, when the caller knows better than
    // the events do (`vigil test`: the end of its series); otherwise the
    // latest event time.
    std::optional<TimeMs> input_end;
  } event_time;
  std::vector<std::string> rule_files;  // empty: the built-in reference rules
  struct Outputs {
    OutputFormat console_format = OutputFormat::kText;
    bool console = true;
    bool console_pending = true;
    std::string results_path;  // "" = none, "-" = stdout
    // The window results and alert transitions also into PostgreSQL or
    // Redshift (operators/warehouse/warehouse_sink.h): a postgresql:// URL
    // with vigil's parameters (table, alerts_table, dialect, retention);
    // "" = not.
    std::string results_database;
    std::string dead_letter_path;  // "" = counted only
    // The rule files' `outputs:` as NDJSON files under DIR/NAME/ (runtime/
    // record_outputs.h); "" = not written.
    std::string records_dir;
    // Whether to say that the rules' outputs: go nowhere (rule tests read
    // no records and say nothing).
    bool note_unwritten_records = true;
    // ... and POSTed in NDJSON batches to this URL (runtime/record_webhook.h);
    // "" = not.
    std::string records_webhook;
    size_t records_webhook_batch = 500;
    struct Kafka {
      std::string brokers;        // "" = no Kafka outputs
      std::string results_topic;  // closed windows
      std::string alerts_topic;   // alert transitions
      // The rule files' outputs: output NAME to topic PREFIX + NAME, keyed
      // by the record's key; "" = none.
      std::string records_topic_prefix;
      // Exactly-once with checkpoints; "" = "vigil-<group id>" when
      // checkpointing, else at-least-once.
      std::string transactional_id;
      KafkaProperties properties;
    } kafka;
    ArchiveOptions archive;  // raw-event archive; dir "" = none
  } outputs;
  std::string http_listen = "127.0.0.1:9464";  // "" disables the endpoint
  // How the HTTP endpoint is secured and bounded (runtime/http_server.h).
  struct Web {
    // Prometheus-format web config (TLS, basic auth, bearer tokens;
    // runtime/web_config.h); "" = plain HTTP, no authentication.
    std::string config_file;
    // POST /-/reload and any other state-changing endpoint; off: 403.
    bool enable_lifecycle = false;
    size_t max_connections = 512;
    // Bounds each request and the idle time of a kept-alive connection.
    DurationMs read_timeout = 30000;
  } web;
  NotifyConfig notify;  // empty: no paging receivers
  struct Checkpoint {
    std::string dir;              // "" = no checkpoints
    DurationMs interval = 10000;  // also on SIGTERM and at the end of input
    // When the directory holds checkpoints and none of them can be read,
    // start from nothing instead of refusing to start.
    bool allow_fresh_start = false;
  } checkpoint;
  // Events outside [from, to) are skipped (counted, not dead-lettered):
  // `vigil replay --from/--to`.
  TimeMs from = kMinTime;
  TimeMs to = kMaxTime;
  size_t max_record_bytes = 1 << 20;  // at most kMaxRecordBytesLimit
  // Threads the event path runs on (`parallelism`, --workers); 0: the
  // number of cores the process may use. operators/dataflow/workers.h.
  int workers = 0;
  // The field whose hash picks an event's worker (`worker_key`, --worker-key).
  std::string worker_key = "session_id";
  // Groups (series) all metrics together hold at once (`limits.max_series`,
  // --max-series); operators/dataflow/dataflow.h.
  size_t max_series = OperatorLimits::kDefaultMaxSeries;
  DurationMs shutdown_timeout = 30000;  // after SIGTERM: drain, flush, checkpoint
  bool progress = true;
  struct Readiness {
    // /readyz answers 503 once a live job's watermark has not advanced for
    // this long while events kept arriving (runtime/readiness.h); 0 disables.
    DurationMs max_watermark_stall = 300000;
  } readiness;
};

// The embedded demo's defaults (see the file comment).
JobConfig DefaultJobConfig();

// Reads a YAML job file over `base`; errors are `file:line:col: message`.
absl::StatusOr<JobConfig> LoadJobConfig(const std::string& path, JobConfig base);

// "3", or "ordinal": the number at the end of the host name, as a
// StatefulSet pod "vigil-3" has.
std::optional<int> ParseInstanceIndex(std::string_view s);

// The workers a job runs with: `configured`, or when 0 the number of cores
// the process may use (its CPU affinity), at most 64.
int EffectiveWorkers(int configured);

// Parses a worker count: a whole number from 1 to 64.
std::optional<int> ParseWorkers(std::string_view s);

// Parses a byte size: "1048576", "512KiB", "1MiB", "5MB".
std::optional<size_t> ParseByteSize(std::string_view s);

// Parses limits.max_series / --max-series: a whole number, at least 1.
std::optional<size_t> ParseMaxSeries(std::string_view s);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_JOB_CONFIG_H_
