#include "runtime/cli_help.h"

namespace vigil::cli {
namespace {

const CommandHelp kCommands[] = {
    {"run", "vigil run [flags]",
     R"(run the stream job; with no flags, the embedded demo (paced generator with incidents, reference rules, alerts on the console, /metrics on 127.0.0.1:9464))",
     "Flags (override the job file)",
     R"(  --config FILE              job file (YAML; see deploy/job.yaml)
  --rules FILE               rule file (repeatable; default: built-in reference rules)
  --input FILE|-             read NDJSON events from FILE (.zst: zstd) or stdin (-);
                             repeatable for several files read in order
  --input kafka://BROKERS/TOPIC[,TOPIC]
                             consume Kafka topics in a consumer group (one event per
                             message; each partition has its own watermark)
  --input kinesis://STREAM[?endpoint=URL&region=R]
                             read a Kinesis(-compatible) stream over the Kinesis API,
                             signed with SigV4 (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                             AWS_SESSION_TOKEN, or container or web-identity credentials;
                             AWS_REGION); one watermark per shard
  --group ID                 Kafka consumer group (default vigil)
  --start-at WHERE           where inputs start that have no checkpoint (nor, for Kafka,
                             a committed offset): earliest|latest|T for Kafka (default
                             earliest), trim_horizon|latest|T for Kinesis (put it
                             after --input)
  --partials kafka://BROKERS/TOPIC
                             scale-out instance: publish partial aggregates (panes,
                             watermarks, offsets, one transaction per checkpoint
                             interval) to TOPIC instead of closing windows
  --instance-id ID           the job's stable name (default: the host name; with
                             --instance I/N, HOST/I): a scale-out instance's name, and
                             the Kafka consumer's group.instance.id
                             (static membership: a restart gets its partitions back at once)
  --no-static-membership     Kafka: join the group as a dynamic member (partitions move
                             at once when the job stops, but a restart waits for the
                             session timeout)
  --merge kafka://BROKERS/TOPIC
                             the merge stage: read the partials TOPIC of the instances
                             and close job-wide windows and alerts (group vigil-merge)
  --instance I/N             Kinesis: this is instance I of N sharing the stream (shards
                             split by rendezvous hashing); I may be 'ordinal' (the number
                             ending the host name, as in a StatefulSet)
  --exit-at-end              stop once every partition/shard is read to its end
  -X KEY=VALUE, --kafka-property KEY=VALUE
                             librdkafka property (repeatable): security.protocol,
                             sasl.*, ssl.*, session.timeout.ms, ...
  --generator                read from the built-in generator (the default)
  --speed N                  generator event time runs N x the wall clock (0: as fast
                             as possible, a bounded replay; default 60)
  --rate N --seed N --duration D --start T|now --jitter D --epoch-millis
  --incident KIND@START+LENGTH --month FIGURES
                             generator settings, as for vigil gen; the built-in
                             generator has five incidents, replaced by the first
                             --incident (--incident none: no incident)
  --output text|json         console alert format (default text)
  --no-console               no alerts on the console
  --no-pending               console shows firing/resolved only
  --results FILE|-           write every closed window as NDJSON
  --results kafka://BROKERS/TOPIC
                             write every closed window to a Kafka topic (JSON, keyed by
                             metric, labels and window end)
  --results postgresql://USER@HOST:PORT/DB
                             also write every closed window and alert transition to
                             PostgreSQL or Redshift, one transaction per checkpoint,
                             each row once (tables created if missing); URL parameters
                             table=T, alerts_table=A, dialect=redshift, retention=90d
  --alerts kafka://BROKERS/TOPIC
                             write alert transitions to a Kafka topic (JSON)
  --transactional-id ID      Kafka outputs in transactions committed at each checkpoint
                             (exactly-once for read_committed consumers; the default
                             with --checkpoint-dir is vigil-<group>)
  --alertmanager URL         send every alert to the Alertmanager at URL (repeat for each
                             member of a cluster); adds to the job file's notify: receivers
  --dry-run                  run a production job file without anything leaving the
                             process: no notification, no checkpoint, no output but the
                             console, a Kafka group of its own that commits nothing, HTTP
                             on 127.0.0.1 (a free port); alerts and windows print here
  --dead-letter FILE         write rejected records as NDJSON
  --record-dir DIR           write the rule files' outputs: (records of a stream, join or
                             events) as DIR/NAME/YYYY-MM-DD.ndjson (exactly once with
                             --checkpoint-dir)
  --records kafka://BROKERS/PREFIX
                             write output NAME to topic PREFIX + NAME, keyed by the record's
                             key (in the transactions of the Kafka outputs: exactly once
                             with --checkpoint-dir)
  --records http[s]://URL    POST the outputs' records to URL in NDJSON batches of 500,
                             {"output":NAME,"record":{...}} a line (retried; at least once
                             with --checkpoint-dir)
  --archive DIR|s3://BUCKET/PREFIX?endpoint=URL&region=R
                             keep every accepted event in DIR/events/YYYY/MM/DD/HH/ or
                             in the bucket (AWS credentials as for kinesis://):
                             batches of 60 s or 5 MiB, listed in a manifest; exactly
                             once with --checkpoint-dir; vigil replay DIR|s3://... reads it
  --archive-format F         ndjson (zstd NDJSON, the default) or parquet
  --archive-partitioning P   hourly (YYYY/MM/DD/HH, the default) or hive
                             (dt=YYYY-MM-DD/hour=HH, for Athena, Spectrum, DuckDB)
  --http ADDR                HTTP endpoint: status page (/), /metrics, /healthz, /readyz,
                             /api/ (alerts, alerts/history, metrics, rules, status, query,
                             silences), POST /-/reload
                             (default 127.0.0.1:9464; "" or "off" disables; :PORT listens
                             on every interface)
  --web.config.file FILE     TLS and authentication of the HTTP endpoint, in Prometheus'
                             web config format (tls_server_config, basic_auth_users with
                             bcrypt hashes) plus bearer_token_files, unauthenticated_paths
                             (default /healthz, /readyz) and allowed_hosts;
                             docs/operations.md "Securing the HTTP endpoint"
  --web.enable-lifecycle     enable POST /-/reload (off: 403); it then needs Content-Type:
                             application/json or a bearer token, answers 202 and is
                             polled at GET /-/reload/status?id=N
  --web.max-connections N    open HTTP connections at most (default 512); at the cap the
                             connection idle longest is closed, so probes still get in
  --max-out-of-orderness D   watermark delay behind the largest event time (default 5s)
  --allowed-lateness D       extra delay before windows close (default 0)
  --idle-timeout D           a live input idle this long stops holding the watermark
                             (default 30s)
  --max-future D             Kafka and Kinesis: an event stamped more than D ahead of
                             the clock is dead-lettered as future_ts and never moves the
                             watermark (default 1h; 0: off)
  --close-partial-windows    windows the end of a bounded input closes after its last
                             event alert like the others (default: marked "partial",
                             never alert)
  --max-record-bytes N       larger records are dead-lettered (default 1MiB, at most 1GiB)
  --max-series N             groups (series) all metrics together hold at once; events of
                             new groups over it are dropped and counted (default 1000000)
  --workers N                threads of the event path (default: the cores the process
                             may use; 1: one thread). Results are the same for any N
  --worker-key FIELD         the field whose hash picks an event's worker (default
                             session_id); session streams go by their own key
  --no-progress              no progress line on stderr
  --checkpoint-dir DIR       write checkpoints (window and alert state, source positions,
                             output sizes) to DIR and restore the newest good one at start;
                             Kafka, Kinesis, files and stdin (resumed at the record reached
                             when the same input is given again)
  --checkpoint-interval D    time between checkpoints (default 10s); one is also
                             written on SIGTERM/SIGINT and at the end of input
  --allow-fresh-start        start from nothing when the checkpoint directory holds
                             checkpoints and none can be read (default: refuse to start
                             and list why each was unreadable)
  --shutdown-timeout D       after SIGTERM/SIGINT, the time allowed to drain, flush
                             outputs and the paging spool and checkpoint before exiting 1
                             (default 30s))",
     R"(  vigil run                                             # the demo
  vigil run --config deploy/job.yaml
  vigil run --config /etc/vigil/job.yaml --dry-run      # a production job, paging nobody
  vigil run --input events.ndjson --rules mine.yaml --results -)"},
    {"check", "vigil check [flags] FILE...",
     R"(validate rule files; prints file:line:col: errors and warnings)", "Flags",
     R"(  --output text|json         diagnostics as text lines or one JSON array
  --strict                   exit 1 on warnings too (unused metrics, for: that can never
                             be pending, ratio thresholds outside [0, 1]))",
     R"(  vigil check deploy/rules/*.yaml
  vigil check --strict --output json rules.yaml)"},
    {"gen", "vigil gen [flags]",
     R"(write synthetic chatbot events (NDJSON) to stdout, a file, a Kafka topic or a Kinesis stream)",
     "Flags",
     R"(  --seed N                   PRNG seed (default 1); same seed, same bytes
  --rate N                   events per second of event time (default 1000)
  --duration D               event time to cover, e.g. 1h (default 0: unbounded)
  --count N                  stop after N events
  --start T|now              event-time origin, RFC 3339 (default 2026-01-01T00:00:00Z)
  --jitter D                 maximum out-of-order lag of ts (default 2s)
  --epoch-millis             ts as integer epoch milliseconds
  --incident KIND@START+LEN  inject an incident; KIND is latency_spike,
                             escalation_surge, bedrock_open, guardrail_storm,
                             cache_miss_storm, error_burst, prompt_regression
                             (prompt arm B 60% slower and rated down 25% of the
                             time) or kb_gap:TOPIC (FAQ answers on TOPIC get 60%
                             thumbs-down) (repeatable; none: no incident)
  --month FIGURES            the tracker's figures for the next calendar month (UTC)
                             from --start, e.g. escalation=12%,resolution=71%,
                             thumbs_up=62%,conversion=4.1% (repeatable: one per month;
                             the last holds from then on)
  --out FILE                 write to FILE instead of stdout (.zst: zstd-compressed)
  --to kafka://BROKERS/TOPIC produce to a Kafka topic, keyed by session_id
  --to kinesis://STREAM[?endpoint=URL&region=R]
                             PutRecords to a Kinesis stream (batches of up to 500,
                             partition key session_id; failed records retried)
  --speed N                  with --to: event time runs N x the wall clock (0: as fast
                             as the broker takes them)
  -X KEY=VALUE, --kafka-property KEY=VALUE
                             librdkafka producer property (repeatable))",
     R"(  vigil gen --duration 1h --rate 100 --incident latency_spike@20m+10m --out events.ndjson
  vigil gen --to kafka://127.0.0.1:9092/events --speed 1)"},
    {"replay", "vigil replay [flags] PATH...",
     R"(run rules over recorded events (files, .zst, directories, archives written with run --archive, in a directory or an S3 bucket, zstd NDJSON or Parquet; - for stdin) at full speed; print the alert timeline and a metric summary)",
     "Flags",
     R"(  --rules FILE               rule file (repeatable; default: built-in reference rules)
  --from T --to T            only events with from <= ts < to (RFC 3339); of an archive,
                             only the batches that overlap the range are read
  --output text|json         timeline as a table or one JSON object
  --results FILE|-           also write every closed window as NDJSON
  --results postgresql://USER@HOST:PORT/DB
                             and to PostgreSQL or Redshift, as for run
  --dead-letter FILE         write rejected records as NDJSON
  --record-dir DIR           write the rule files' outputs: as for run
  --max-out-of-orderness D --allowed-lateness D --max-record-bytes N --max-series N
  --workers N --worker-key FIELD --close-partial-windows
                             as for run
  --results kafka://BROKERS/TOPIC --alerts kafka://BROKERS/TOPIC
                             Kafka outputs, as for run
  --transactional-id ID --records kafka://BROKERS/PREFIX|http[s]://URL
                             as for run
  --checkpoint-dir DIR --checkpoint-interval D --allow-fresh-start
                             checkpoints, as for run
  --idle-timeout D --max-future D --shutdown-timeout D --no-progress
                             as for run)",
     R"(  vigil replay --rules mine.yaml events.ndjson.zst
  vigil replay --from 2026-03-01T00:00:00Z --to 2026-03-02T00:00:00Z /var/lib/vigil/archive
  vigil replay 's3://vigil-archive/prod?region=eu-west-1' --from 2026-03-01T00:00:00Z)"},
    {"test", "vigil test [flags] FILE...",
     R"(run rule unit tests (timestamped events in, expected alerts and window values out); exit 1 on failures)",
     "Flags",
     R"(  --output text|json         PASS/FAIL lines with what differs, or one JSON object
                             with passed, failed and cases, each with file, name (null
                             where the file failed as a whole), line, passed and
                             messages)",
     R"(  vigil test deploy/rules/tests/*.yaml
  vigil test --output json deploy/rules/tests/*.yaml)"},
    {"alerts", "vigil alerts [flags]", R"(show the pending and firing alerts of a running job)",
     "Flags",
     R"(  --url URL                  the job's HTTP address (default http://127.0.0.1:9464)
  --output text|json         a table (state, severity, alert, value, since,
                             notified: yes, or no and what holds it back; labels,
                             summary) or the job's JSON array; exit 1 if unreachable)",
     R"(  vigil alerts --url http://127.0.0.1:9464 --output json)"},
    {"experiment", "vigil experiment report [flags] [PATH...]",
     R"(print the A/B experiment table (per metric and arm: values, difference, always-valid confidence sequence and p-value, decision; units and sample-ratio check) from a replay of event files, from window results files or from a running job)",
     "Flags",
     R"(  --rules FILE               rule file with the experiments (repeatable; default the
                             reference rules)
  --url URL                  read a running job at URL (its /api/rules and /api/metrics)
                             instead of replaying files
  --from T --to T            replay only events in [from, to) (RFC 3339); with window
                             results files, --to only: the last window ending by T
  --output text|markdown|json
                             one line per comparison, the runbook's Markdown table,
                             or JSON (default text))",
     R"(  vigil experiment report --rules deploy/rules/chatbot.yaml events.ndjson.zst
  vigil experiment report --rules deploy/rules/experiment.yaml results.ndjson
  vigil experiment report --url http://127.0.0.1:9464 --output markdown)"},
    {"report", "vigil report escalations|tracker [flags] [PATH...]",
     R"(monthly reports: escalations, the escalation review (every session escalated to a human in a month, with its turns and reason, in the runbook's four review categories, as NDJSON and a summary); tracker, the monthly improvement table of the rules' trackers (each month's value of each metric against its target, met or missed, and the change from the month before) from a replay of event files, from window results files or from a running job)",
     "Flags",
     R"(  escalations:
  --month YYYY-MM            the month to review (by the escalation's time)
  --timezone ZONE            the month's time zone, an IANA name (default UTC)
  --out FILE|-               write one JSON line per escalated session, with its
                             turns, to FILE (-: stdout, the summary then on stderr)
  --output text|json         the summary as a table or as JSON (default text)
  tracker:
  --rules FILE               rule file with the trackers (repeatable; default the
                             reference rules)
  --url URL                  read a running job at URL (its /api/rules, /api/query
                             and /api/metrics) instead of replaying files
  --from T --to T            only months ending after T / starting before T (RFC 3339);
                             with event files, only events in [from, to)
  --output text|markdown|json|html
                             the table as text (default), Markdown, JSON or an HTML
                             page)",
     R"(  vigil report escalations --month 2026-03 --out escalations-2026-03.ndjson archive/
  vigil report tracker results.ndjson
  vigil report tracker --url http://127.0.0.1:9464 --output markdown)"},
    {"query", "vigil query METRIC [flags] [PATH...]",
     R"(print one metric's windows over a range of event time, from the results database, from window results files or from a running job: a block per series (text), JSON or CSV)",
     "Flags",
     R"(  --database URL             read the results database (postgresql://USER@HOST/DB,
                             as --results of run writes it)
  --url URL                  read a running job's /api/query (the job's results
                             database)
  --labels NAME=VALUE,...    only the series with these labels (\, in a value: a comma)
  --from T --to T            windows that start in [from, to) (RFC 3339; default all)
  --step D                   one window per D per series: the last to end in each
                             D-long interval of the Unix epoch
  --output text|json|csv     a block per series (default), JSON, or CSV with a column
                             per label)",
     R"(  vigil query latency_p95_ms --labels intent=faq --from 2026-03-01T00:00:00Z \
    --to 2026-04-01T00:00:00Z --step 1d --database postgresql://vigil@db/metrics
  vigil query error_rate --output csv results.ndjson)"},
    {"dev-broker", "vigil dev-broker [flags]",
     R"(run an in-memory Kafka-protocol broker for development and tests)",
     "Flags (in memory, for development and tests only)",
     R"(  --topic NAME[:PARTITIONS]  create a topic (repeatable; default events:4)
  --brokers N                number of brokers (default 1)
  --address-file FILE        write the bootstrap address to FILE once listening)",
     R"(  vigil dev-broker --topic events:4 --topic partials:2 --address-file broker.txt)"},
    {"version", "vigil version", R"(print the version and the allocator set-up)", "", "",
     R"(  vigil version)"},
    {"help", "vigil help [COMMAND]",
     R"(print the overview, or one command's synopsis, flags and example (as vigil COMMAND --help))",
     "", "", R"(  vigil help run)"},
    {"completion", "vigil completion bash|zsh",
     R"(print a shell completion script for the commands and their flags)", "", "",
     R"(  source <(vigil completion bash)                      # in ~/.bashrc
  vigil completion zsh > "${fpath[1]}/_vigil"            # zsh)"},
    {"man", "vigil man",
     R"(print the vigil(1) manual page (roff), generated from the same text as --help)", "", "",
     R"(  vigil man | man -l -
  vigil man > /usr/local/share/man/man1/vigil.1)"},
};

}  // namespace

const char kTitle[] = "vigil — real-time stream processor for chatbot observability";

const char kEnvironment[] =
    R"(  VIGIL_ALLOCATOR=default    keep glibc's allocator defaults (vigil otherwise restarts
                             itself with huge pages and larger malloc thresholds in
                             GLIBC_TUNABLES; docs/operations.md "Memory and the
                             allocator"))";

const char kExitCodes[] =
    "0 success; 1 rule errors found or the job failed; 2 bad usage or config.";

std::span<const CommandHelp> Commands() { return kCommands; }

}  // namespace vigil::cli
