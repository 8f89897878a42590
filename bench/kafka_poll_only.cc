// Transport baseline for the Kafka benchmark (bench/kafka.sh): a consumer
// with vigil's own librdkafka settings (KafkaSource::Open) that joins the
// group, polls the way KafkaSource::Next does, and only counts messages and
// bytes: no copy, no parse, no rules. It ends, like `vigil run
// --exit-at-end`, once every partition of its assignment has reported its
// end, and on the way out commits what it read, as vigil does when its
// partitions are revoked at close.
//
// It also runs with vigil's allocator set-up (runtime/allocator.h: huge
// pages for the heap, fetch buffers kept on it): it starts itself again with
// the same GLIBC_TUNABLES unless VIGIL_ALLOCATOR is set
// (VIGIL_ALLOCATOR=default: glibc's defaults). What is left between this
// and vigil is vigil's own work on each record.
//
// Prints one line: {"messages":N,"bytes":N,"seconds":S} (wall time from
// start to close, group join included).
//
// Usage: kafka_poll_only BROKERS TOPIC GROUP
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

// The same tunables as runtime/allocator.cc.
constexpr const char* kTunables[][2] = {
    {"glibc.malloc.hugetlb", "1"},
    {"glibc.malloc.mmap_threshold", "33554432"},  // 32 MiB
    {"glibc.malloc.trim_threshold", "67108864"},  // 64 MiB
};

void TuneAllocator(char** argv) {
  if (std::getenv("VIGIL_ALLOCATOR")) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  std::string tunables = current ? current : "";
  for (const auto& [name, value] : kTunables) {
    if (tunables.find(name) != std::string::npos) continue;
    tunables += (tunables.empty() ? "" : ":") + std::string(name) + "=" + value;
  }
  if (setenv("GLIBC_TUNABLES", tunables.c_str(), 1) == 0 &&
      setenv("VIGIL_ALLOCATOR", "tuned", 1) == 0) {
    execv("/proc/self/exe", argv);
  }
}

struct Part {
  bool assigned = false;
  bool at_end = false;
  int64_t next_offset = -1;  // after the last message read; -1: none yet
};

struct Consumer {
  rd_kafka_t* rk = nullptr;
  std::string topic;
  std::vector<Part> parts;  // by partition number (one topic)
  bool failed = false;

  Part& At(int32_t partition) {
    if (static_cast<size_t>(partition) >= parts.size()) parts.resize(partition + 1);
    return parts[partition];
  }

  bool AllAtEnd() const {
    int assigned = 0;
    for (const Part& p : parts) {
      if (!p.assigned) continue;
      ++assigned;
      if (!p.at_end) return false;
    }
    return assigned > 0;
  }
};

bool Cooperative(rd_kafka_t* rk) {
  return std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
}

void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                 void* opaque) {
  Consumer& c = *static_cast<Consumer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < list->cnt; ++i) {
      Part& p = c.At(list->elems[i].partition);
      p.assigned = true;
      p.at_end = false;
      if (p.next_offset >= 0) list->elems[i].offset = p.next_offset;
    }
    if (Cooperative(rk)) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, list)) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, list);
    }
    return;
  }
  // Revoked: commit what was read of them, synchronously, then let go.
  rd_kafka_topic_partition_list_t* done = rd_kafka_topic_partition_list_new(0);
  for (int i = 0; i < list->cnt; ++i) {
    Part& p = c.At(list->elems[i].partition);
    p.assigned = false;
    if (p.next_offset >= 0) {
      rd_kafka_topic_partition_list_add(done, list->elems[i].topic, list->elems[i].partition)
          ->offset = p.next_offset;
    }
  }
  if (done->cnt > 0) rd_kafka_commit(rk, done, 0);
  rd_kafka_topic_partition_list_destroy(done);
  if (Cooperative(rk)) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, list)) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  std::fprintf(stderr, "kafka_poll_only: %s: %s\n",
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
  if (rd_kafka_fatal_error(rk, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    static_cast<Consumer*>(opaque)->failed = true;
  }
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: kafka_poll_only BROKERS TOPIC GROUP\n");
    return 2;
  }
  TuneAllocator(argv);
  const auto t0 = std::chrono::steady_clock::now();
  Consumer c;
  c.topic = argv[2];

  // KafkaSource::Open's own settings for `vigil run --input kafka://BROKERS/TOPIC
  // --group GROUP` (start earliest), and the static membership it uses by
  // default (group.instance.id: the host name).
  const std::string instance = HostName();
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", argv[1]},
      {"group.id", argv[3]},
      {"partition.assignment.strategy", "roundrobin"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"client.id", "vigil"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "3000"},
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "262144"},
  };
  if (!instance.empty()) props.emplace_back("group.instance.id", instance);

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "kafka_poll_only: %s=%s: %s\n", k.c_str(), v.c_str(), err);
      return 1;
    }
  }
  rd_kafka_conf_set_opaque(conf, &c);
  rd_kafka_conf_set_rebalance_cb(conf, &OnRebalance);
  rd_kafka_conf_set_error_cb(conf, &OnError);
  c.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!c.rk) {
    std::fprintf(stderr, "kafka_poll_only: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(c.rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, c.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t e = rd_kafka_subscribe(c.rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "kafka_poll_only: subscribe: %s\n", rd_kafka_err2str(e));
    return 1;
  }

  // The calls of KafkaSource::Next: batches of up to 4096 messages, one
  // message per call (librdkafka 2.0's batch call is not safe across
  // rebalances), the first call waiting up to 100 ms and the others not at
  // all; after an empty batch, the end when every assigned partition is at
  // its end.
  uint64_t messages = 0, bytes = 0;
  while (!c.failed) {
    size_t batch = 0;
    for (bool first = true; batch < 4096; first = false) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, first ? 100 : 0);
      if (!m) break;
      if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          c.At(m->partition).at_end = true;
        } else {
          std::fprintf(stderr, "kafka_poll_only: %s\n", rd_kafka_message_errstr(m));
        }
      } else if (Part& p = c.At(m->partition); p.assigned) {
        ++batch;
        ++messages;
        bytes += m->len;
        p.at_end = false;
        p.next_offset = m->offset + 1;
      }
      rd_kafka_message_destroy(m);
    }
    if (batch == 0 && c.AllAtEnd()) break;
  }
  rd_kafka_consumer_close(c.rk);
  rd_kafka_destroy(c.rk);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n",
              static_cast<unsigned long long>(messages), static_cast<unsigned long long>(bytes),
              secs);
  return c.failed ? 1 : 0;
}
