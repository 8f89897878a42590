#include <zstd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "operators/generator/generator.h"
#include "operators/net/kafka_writer.h"
#include "operators/net/kinesis_writer.h"
#include "operators/source/generator_source.h"
#include "runtime/cli_args.h"
#include "runtime/dev_broker.h"
#include "runtime/job.h"

namespace vigil::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void StopOnSignal(int) { g_stop.store(true); }

// The partition key of a generated event: its session_id, if it has one.
std::string_view SessionKey(std::string_view event) {
  constexpr std::string_view kField = "\"session_id\":\"";
  const size_t at = event.find(kField);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + kField.size();
  const size_t end = event.find('"', begin);
  return end == std::string_view::npos ? std::string_view() : event.substr(begin, end - begin);
}

// Writes events as NDJSON to a file (.zst: compressed) or stdout, unpaced.
int GenToFile(const GeneratorOptions& g, uint64_t count, const std::string& out_path) {
  FILE* out = stdout;
  if (!out_path.empty() && !(out = std::fopen(out_path.c_str(), "wb"))) {
    std::fprintf(stderr, "vigil: %s: %s\n", out_path.c_str(), std::strerror(errno));
    return 1;
  }
  const bool zstd = out_path.size() > 4 && out_path.substr(out_path.size() - 4) == ".zst";
  ZSTD_CCtx* cctx = zstd ? ZSTD_createCCtx() : nullptr;
  std::string buf, zbuf;
  EventGenerator gen(g);
  auto flush = [&](bool last) {
    if (!zstd) {
      std::fwrite(buf.data(), 1, buf.size(), out);
    } else {
      zbuf.resize(ZSTD_compressBound(buf.size()) + 1024);
      ZSTD_outBuffer o{zbuf.data(), zbuf.size(), 0};
      ZSTD_inBuffer in{buf.data(), buf.size(), 0};
      size_t rc;
      do {
        rc = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        std::fwrite(zbuf.data(), 1, o.pos, out);
        o.pos = 0;
      } while (last ? rc != 0 : in.pos < in.size);
    }
    buf.clear();
  };
  uint64_t n = 0;
  bool ok = true;
  while ((count == 0 || n < count) && gen.Next(&buf)) {
    ++n;
    if (buf.size() >= (1 << 20)) {
      flush(false);
      if (std::ferror(out)) {
        ok = false;
        break;
      }
    }
  }
  flush(true);
  if (cctx) ZSTD_freeCCtx(cctx);
  if (out != stdout) std::fclose(out);
  return ok ? 0 : 1;
}

// Produces events to a Kafka topic keyed by session_id, paced by `speed`
// (0: as fast as the broker takes them), until the generator ends, `count`
// events, or SIGINT/SIGTERM.
int GenToKafka(const GeneratorOptions& g, double speed, uint64_t count, const KafkaUrl& url,
               const KafkaProperties& properties) {
  absl::StatusOr<std::unique_ptr<KafkaWriter>> w = KafkaWriter::Create(url.brokers, properties);
  if (!w.ok()) return Usage(std::string(w.status().message()));
  std::signal(SIGINT, StopOnSignal);
  std::signal(SIGTERM, StopOnSignal);
  std::unique_ptr<RecordSource> src = OpenGeneratorSource({g, speed});
  const bool tty = ::isatty(2);
  std::vector<Record> batch;
  uint64_t n = 0;
  TimeMs last_progress = 0;
  bool ok = true;
  while (ok && !g_stop.load() && (count == 0 || n < count) && src->Next(&batch, 4096)) {
    for (const Record& r : batch) {
      if (count != 0 && n >= count) break;
      std::string_view data = r.data;
      if (!data.empty() && data.back() == '\n') data.remove_suffix(1);
      if (absl::Status s = (*w)->Produce(url.topic, SessionKey(data), data); !s.ok()) {
        std::fprintf(stderr, "vigil: %s\n", std::string(s.message()).c_str());
        ok = false;
        break;
      }
      ++n;
    }
    (*w)->Poll();
    const TimeMs now = WallClockMs();
    if (tty && now - last_progress >= 500) {
      last_progress = now;
      std::fprintf(stderr, "\r\033[K%llu events produced, %llu delivered, %llu failed",
                   static_cast<unsigned long long>(n),
                   static_cast<unsigned long long>((*w)->delivered()),
                   static_cast<unsigned long long>((*w)->failed()));
    }
  }
  const absl::Status flushed = (*w)->Flush(std::chrono::seconds(60));
  std::fprintf(stderr, "%svigil: %llu events to kafka://%s/%s: %llu delivered, %llu failed%s%s\n",
               tty ? "\r\033[K" : "", static_cast<unsigned long long>(n), url.brokers.c_str(),
               url.topic.c_str(), static_cast<unsigned long long>((*w)->delivered()),
               static_cast<unsigned long long>((*w)->failed()), flushed.ok() ? "" : "; ",
               flushed.ok() ? "" : std::string(flushed.message()).c_str());
  return ok && flushed.ok() ? 0 : 1;
}

// PutRecords to a Kinesis stream, partition key session_id (else the
// event type), paced like GenToKafka.
int GenToKinesis(const GeneratorOptions& g, double speed, uint64_t count, const KinesisUrl& url) {
  KinesisWriterOptions o;
  o.stream = url.stream;
  o.endpoint = url.endpoint;
  o.region = url.region;
  absl::StatusOr<std::unique_ptr<KinesisWriter>> w = KinesisWriter::Open(o);
  if (!w.ok()) return Usage(std::string(w.status().message()));
  std::signal(SIGINT, StopOnSignal);
  std::signal(SIGTERM, StopOnSignal);
  std::unique_ptr<RecordSource> src = OpenGeneratorSource({g, speed});
  std::vector<Record> batch;
  uint64_t n = 0;
  absl::Status status;
  while (status.ok() && !g_stop.load() && (count == 0 || n < count) && src->Next(&batch, 4096)) {
    for (const Record& r : batch) {
      if (count != 0 && n >= count) break;
      std::string_view data = r.data;
      if (!data.empty() && data.back() == '\n') data.remove_suffix(1);
      std::string_view key = SessionKey(data);
      if (key.empty()) key = "vigil";
      if (status = (*w)->Write(key, data); !status.ok()) break;
      ++n;
    }
  }
  if (status.ok()) status = (*w)->Flush();
  std::fprintf(stderr, "vigil: %llu events to kinesis://%s: %llu written%s%s\n",
               static_cast<unsigned long long>(n), url.stream.c_str(),
               static_cast<unsigned long long>((*w)->stats().records_written),
               status.ok() ? "" : "; ", std::string(status.message()).c_str());
  return status.ok() ? 0 : 1;
}

}  // namespace

int Gen(int argc, char** argv) {
  GeneratorOptions g;
  g.start = *ParseRfc3339("2026-01-01T00:00:00Z");
  GeneratorFlagsSeen seen;
  std::string out_path, to, err, v;
  double speed = 0;
  uint64_t count = 0;
  KafkaProperties properties;
  Args a(argc, argv, 2);
  while (!a.Done()) {
    if (GeneratorFlag(a, &g, &seen, &err)) {  // NOLINT(bugprone-branch-clone): consumed
    } else if (a.Value("--out", &v, &err)) {
      out_path = v;
    } else if (a.Value("--to", &v, &err)) {
      to = v;
    } else if (a.Value("--speed", &v, &err)) {
      if (!ParseNumber(v, &speed) || speed < 0) err = "--speed needs a number >= 0";
    } else if (KafkaPropertyFlag(a, &properties, &err)) {
    } else if (a.Value("--count", &v, &err)) {
      double d;
      if (!ParseNumber(v, &d) || d < 1) err = "--count needs a number of events of at least 1";
      count = static_cast<uint64_t>(d);
    } else {
      return Usage(a.Unknown("gen"));
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (seen.start_now) g.start = WallClockMs();
  if (absl::Status s = ValidateGeneratorOptions(g); !s.ok()) {
    return Usage(std::string(s.message()));
  }
  if (to.empty()) {
    if (speed > 0) return Usage("--speed paces --to targets; files are written unpaced");
    return GenToFile(g, count, out_path);
  }
  if (!out_path.empty()) return Usage("--out and --to are exclusive");
  if (to.rfind("kafka://", 0) == 0) {
    absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(to);
    if (!url.ok()) return Usage(std::string(url.status().message()));
    return GenToKafka(g, speed, count, *url, properties);
  }
  if (to.rfind("kinesis://", 0) == 0) {
    absl::StatusOr<KinesisUrl> url = ParseKinesisUrl(to);
    if (!url.ok()) return Usage(std::string(url.status().message()));
    return GenToKinesis(g, speed, count, *url);
  }
  return Usage(StrCat("--to: unsupported target '", to,
                      "' (kafka://HOST:PORT/TOPIC or kinesis://STREAM?endpoint=URL)"));
}

int DevBroker(int argc, char** argv) {
  std::vector<DevTopic> topics;
  std::string address_file, err, v;
  double brokers = 1;
  Args a(argc, argv, 2);
  while (!a.Done()) {
    if (a.Value("--topic", &v, &err)) {
      absl::StatusOr<DevTopic> t = ParseDevTopic(v);
      if (!t.ok()) return Usage(std::string(t.status().message()));
      topics.push_back(*t);
    } else if (a.Value("--brokers", &v, &err)) {
      if (!ParseNumber(v, &brokers) || brokers < 1 || brokers > 16) {
        err = "--brokers needs a number from 1 to 16";
      }
    } else if (a.Value("--address-file", &v, &err)) {
      address_file = v;
    } else {
      return Usage(a.Unknown("dev-broker"));
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (topics.empty()) topics.push_back({"events", 4});
  absl::StatusOr<std::unique_ptr<vigil::DevBroker>> b =
      vigil::DevBroker::Start(static_cast<int>(brokers), topics);
  if (!b.ok()) {
    std::fprintf(stderr, "vigil: %s\n", std::string(b.status().message()).c_str());
    return 1;
  }
  std::string list;
  for (const DevTopic& t : topics)
    StrAppend(&list, list.empty() ? "" : ", ", t.name, " (", t.partitions, " partitions)");
  std::fprintf(
      stderr, "vigil: development Kafka broker (in memory, not for production) on %s; topics: %s\n",
      (*b)->bootstrap().c_str(), list.c_str());
  std::printf("%s\n", (*b)->bootstrap().c_str());
  std::fflush(stdout);
  if (!address_file.empty()) {
    const std::string tmp = address_file + ".tmp";
    std::ofstream(tmp) << (*b)->bootstrap() << "\n";
    if (std::rename(tmp.c_str(), address_file.c_str()) != 0) {
      std::fprintf(stderr, "vigil: %s: %s\n", address_file.c_str(), std::strerror(errno));
      return 1;
    }
  }
  std::signal(SIGINT, StopOnSignal);
  std::signal(SIGTERM, StopOnSignal);
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace vigil::cli
