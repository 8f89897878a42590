// ReadPublished (operators/scale_out/partials.h): where the newest heartbeats
// on the partials topic say each event partition was published up to, and
// the keyed state handed over with it.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "base/strings.h"
#include "operators/scale_out/partial_state.h"
#include "operators/scale_out/partials.h"

namespace vigil {
namespace {

constexpr int kTimeoutMs = 10000;
constexpr int64_t kFirstStep = 4096;  // messages read back at first

struct KafkaHandle {
  rd_kafka_t* rk = nullptr;
  ~KafkaHandle() {
    if (rk == nullptr) return;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};

absl::Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(StrCat("Kafka property ", key, "=", value, ": ", err));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<KafkaHandle>> OpenReader(const KafkaUrl& url,
                                                        const KafkaProperties& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  KafkaProperties all = {{"bootstrap.servers", url.brokers},
                         {"isolation.level", "read_committed"},
                         // assign() needs a group; nothing joins or commits.
                         {"group.id", "vigil-partials-offsets"},
                         {"enable.partition.eof", "true"},
                         {"enable.auto.commit", "false"},
                         {"log_level", "3"}};
  for (const auto& [key, value] : properties) {
    // The writer's settings: security and the like apply to this reader too.
    if (key.rfind("transaction", 0) == 0 || key == "acks" || key == "enable.idempotence" ||
        key.rfind("linger", 0) == 0 || key.rfind("compression", 0) == 0 ||
        key.rfind("batch", 0) == 0 || key.rfind("queue.buffering", 0) == 0) {
      continue;
    }
    all.emplace_back(key, value);
  }
  for (const auto& [key, value] : all) {
    if (absl::Status s = Set(conf, key, value); !s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  char err[512];
  auto h = std::make_unique<KafkaHandle>();
  h->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (h->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(StrCat("the partials topic: ", err));
  }
  rd_kafka_poll_set_consumer(h->rk);
  return h;
}

// Reads [start, end) of partition 0 (to its last stable offset at most),
// handing every message to `take`.
absl::Status ReadRange(rd_kafka_t* rk, const std::string& topic, int64_t start, int64_t end,
                       const std::function<void(std::string_view value)>& take) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), 0)->offset = start;
  const rd_kafka_resp_err_t e = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(StrCat("the partials topic: assign: ", rd_kafka_err2str(e)));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  absl::Status status =
      absl::DeadlineExceededError(StrCat("the partials topic: reading offsets ", start, " to ", end,
                                         " took over ", kTimeoutMs / 1000, " s"));
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (m == nullptr) continue;
    const int64_t offset = m->offset;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(m);
      status = absl::OkStatus();
      break;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = absl::UnavailableError(StrCat("the partials topic: ", rd_kafka_message_errstr(m)));
      rd_kafka_message_destroy(m);
      break;
    }
    take(std::string_view(static_cast<const char*>(m->payload), m->len));
    rd_kafka_message_destroy(m);
    if (offset + 1 >= end) {
      status = absl::OkStatus();
      break;
    }
  }
  rd_kafka_assign(rk, nullptr);
  return status;
}

// What is known of one input while reading back.
struct Found {
  PublishedInput input;
  uint64_t handover_id = 0;
  uint32_t chunks = 0;
};

}  // namespace

absl::StatusOr<std::map<std::string, PublishedInput>> ReadPublished(
    const KafkaUrl& url, const KafkaProperties& properties,
    const std::vector<std::string>& inputs) {
  std::map<std::string, PublishedInput> result;
  if (inputs.empty()) return result;
  absl::StatusOr<std::unique_ptr<KafkaHandle>> h = OpenReader(url, properties);
  if (!h.ok()) return h.status();
  rd_kafka_t* rk = (*h)->rk;
  int64_t low = 0, high = 0;
  const rd_kafka_resp_err_t e =
      rd_kafka_query_watermark_offsets(rk, url.topic.c_str(), 0, &low, &high, kTimeoutMs);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(StrCat("the partials topic: ", rd_kafka_err2str(e)));
  }
  // The newest heartbeats are at the end. Every window is read whole, so
  // once an input turns up, its newest heartbeat is among those read; the
  // state pieces it names come before it, in that window or earlier ones.
  std::set<std::string> missing(inputs.begin(), inputs.end());
  std::map<std::string, Found> found;
  StateAssembler pieces;
  auto incomplete = [&] {
    for (const auto& [name, f] : found) {
      if (f.chunks > 0 && !pieces.Has(f.input.instance, f.handover_id, name, f.chunks)) {
        return true;
      }
    }
    return false;
  };
  PartialHeartbeat hb;
  PartialState piece;
  int64_t end = high, step = kFirstStep;
  while (end > low && (!missing.empty() || incomplete())) {
    const int64_t start = std::max(low, end - step);
    std::map<std::string, Found> window;  // the newest in this window
    absl::Status s = ReadRange(rk, url.topic, start, end, [&](std::string_view value) {
      if (DecodeStateChunk(value, &piece)) {
        if (std::find(inputs.begin(), inputs.end(), piece.input) != inputs.end()) {
          pieces.Add(std::move(piece));
        }
        return;
      }
      if (!DecodeHeartbeat(value, &hb)) return;
      for (const PartialHeartbeat::Input& in : hb.inputs) {
        if (in.next_offset < 0 || !missing.contains(in.name)) continue;
        Found& f = window[in.name];
        // The largest offset; of equal ones, the later heartbeat.
        if (in.next_offset < f.input.next_offset) continue;
        f.input.next_offset = in.next_offset;
        f.input.watermark = in.watermark;
        f.input.instance = hb.instance;
        f.handover_id = hb.handover_id;
        f.chunks = in.state_chunks;
      }
    });
    if (!s.ok()) return s;
    for (auto& [name, f] : window) {
      missing.erase(name);
      found[name] = std::move(f);
    }
    end = start;
    step *= 4;
  }
  for (auto& [name, f] : found) {
    PublishedInput& out = result[name];
    out = std::move(f.input);
    if (f.chunks == 0) continue;
    std::optional<std::string> state = pieces.Take(out.instance, f.handover_id, name, f.chunks);
    out.has_state = state.has_value();
    if (state) out.state = std::move(*state);
  }
  return result;
}

}  // namespace vigil
