#include "operators/source/kafka_source.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "base/log.h"
#include "base/strings.h"
#include "simdjson.h"

namespace vigil {

namespace {

TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PartName(std::string_view topic, int32_t partition) {
  return StrCat(topic, "/", partition);
}

absl::Status SetConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(StrCat("Kafka property ", key, "=", value, ": ", err));
  }
  return absl::OkStatus();
}

// Records of a too-long message keep this much of it for the dead letter.
constexpr size_t kOversizedPrefix = 1024;

}  // namespace

bool ParseKafkaStart(std::string_view s, KafkaSourceOptions* o) {
  if (s == "earliest") {
    o->start = KafkaSourceOptions::Start::kEarliest;
  } else if (s == "latest") {
    o->start = KafkaSourceOptions::Start::kLatest;
  } else if (std::optional<TimeMs> t = ParseRfc3339(s)) {
    o->start = KafkaSourceOptions::Start::kTimestamp;
    o->start_timestamp = *t;
  } else {
    return false;
  }
  return true;
}

KafkaSource::KafkaSource(const KafkaSourceOptions& options)
    : options_(options), name_(StrCat("kafka:", StrJoin(options.topics, ","))) {}

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Open(const KafkaSourceOptions& options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("Kafka source: no brokers");
  if (options.topics.empty()) return absl::InvalidArgumentError("Kafka source: no topics");
  std::unique_ptr<KafkaSource> src(new KafkaSource(options));
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const KafkaProperties own = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      // Eager round-robin, not cooperative-sticky: librdkafka 2.0.2 (Debian
      // 12) aborts in the sticky assignor's teardown when a consumer closes
      // before its first assignment completes (fixed in later releases).
      {"partition.assignment.strategy", "roundrobin"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset",
       options.start == KafkaSourceOptions::Start::kLatest ? "latest" : "earliest"},
      {"client.id", "vigil"},
      // A dead member's partitions move after 10 s (Kafka's classic
      // default) rather than librdkafka's 45 s: where the broker does not
      // honour static membership, that is how long a restart waits.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "3000"},
      // Prefetch until the queue holds a million messages or 256 MiB (one
      // queue for all partitions), whichever comes first. At librdkafka's
      // 100,000 messages and 64 MiB the fetcher idled while the job drained
      // its queue: librdkafka 2.0 looks at a full queue again only about
      // once a second, and the job drains 64 MiB of events in less
      // (bench/README.md "Kafka consume").
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "262144"},
  };
  KafkaProperties membership;
  if (options.static_membership && !options.instance_id.empty()) {
    membership.emplace_back("group.instance.id", options.instance_id);
  }
  const KafkaProperties& static_props = membership;
  for (const KafkaProperties* list : {&own, &static_props, &options.properties}) {
    for (const auto& [k, v] : *list) {
      if (absl::Status s = SetConf(conf, k, v); !s.ok()) {
        rd_kafka_conf_destroy(conf);
        return s;
      }
    }
  }
  rd_kafka_conf_set_opaque(conf, src.get());
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaSource::RebalanceCallback);
  rd_kafka_conf_set_error_cb(conf, &KafkaSource::ErrorCallback);
  char err[512];
  src->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!src->rk_) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(StrCat("Kafka consumer: ", err));
  }
  rd_kafka_poll_set_consumer(src->rk_);
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size()));
  for (const std::string& t : options.topics) {
    rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t e = rd_kafka_subscribe(src->rk_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(StrCat("Kafka subscribe: ", rd_kafka_err2str(e)));
  }
  return src;
}

KafkaSource::~KafkaSource() {
  for (rd_kafka_message_t* m : pending_) rd_kafka_message_destroy(m);
  if (rk_) {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

int KafkaSource::PartIndex(std::string_view topic, int32_t partition) {
  std::string name = PartName(topic, partition);
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  const int idx = static_cast<int>(parts_.size());
  Part p;
  p.topic = std::string(topic);
  p.partition = partition;
  p.name = name;
  parts_.push_back(std::move(p));
  index_.emplace(std::move(name), idx);
  return idx;
}

int KafkaSource::PartIndex(const rd_kafka_message_t* m) {
  const std::pair<const void*, int32_t> key(m->rkt, m->partition);
  auto it = by_handle_.find(key);
  if (it != by_handle_.end()) return it->second;
  const int idx = PartIndex(rd_kafka_topic_name(m->rkt), m->partition);
  by_handle_.emplace(key, idx);
  return idx;
}

void KafkaSource::RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnRebalance(err, partitions);
}

void KafkaSource::ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnError(err, reason);
}

void KafkaSource::OnRebalance(rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    Assign(partitions);
  } else {
    Revoke(partitions);
  }
}

void KafkaSource::Assign(rd_kafka_topic_partition_list_t* partitions) {
  // Partitions without a position of ours take the group's committed offset;
  // with neither, `start` decides (ResolveStarts).
  if (published_lookup_) ResumeAtFurthest(partitions);
  rd_kafka_topic_partition_list_t* unknown = rd_kafka_topic_partition_list_new(0);
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    Part& p = parts_[PartIndex(tp.topic, tp.partition)];
    p.assigned = true;
    p.at_end = false;
    if (published_lookup_ && tp.offset >= 0) {
      p.next_offset = tp.offset;
    } else if (p.next_offset >= 0) {
      tp.offset = p.next_offset;
    } else if (auto it = restored_.find(p.name); it != restored_.end()) {
      tp.offset = it->second;
    } else if (from_checkpoint_ && options_.start == KafkaSourceOptions::Start::kEarliest) {
      // Not in the checkpoint: nothing of it was processed as of then. The
      // group's committed offset may come from a later checkpoint than the
      // one restored (the newest was damaged), so it is not to be trusted.
      tp.offset = RD_KAFKA_OFFSET_BEGINNING;
    } else {
      rd_kafka_topic_partition_list_add(unknown, tp.topic, tp.partition);
    }
  }
  if (unknown->cnt > 0) ResolveStarts(unknown, partitions);
  rd_kafka_topic_partition_list_destroy(unknown);
  std::string names;
  for (int i = 0; i < partitions->cnt; ++i) {
    StrAppend(&names, i ? " " : "",
              PartName(partitions->elems[i].topic, partitions->elems[i].partition));
  }
  Logf("%s: assigned %s", name_.c_str(), names.c_str());
  if (std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0) {
    rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, partitions);
    if (e) {
      Logf("%s: assign: %s", name_.c_str(), rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(rk_, partitions);
  }
  if (after_assign_) {
    std::vector<std::pair<int, int64_t>> inputs;
    for (int i = 0; i < partitions->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = partitions->elems[i];
      inputs.emplace_back(PartIndex(tp.topic, tp.partition), tp.offset >= 0 ? tp.offset : -1);
    }
    after_assign_(inputs);
  }
}

void KafkaSource::ResolveStarts(rd_kafka_topic_partition_list_t* unknown,
                                rd_kafka_topic_partition_list_t* partitions) {
  // The group's committed offsets first.
  rd_kafka_committed(rk_, unknown, 10000);
  rd_kafka_topic_partition_list_t* by_time = rd_kafka_topic_partition_list_new(0);
  for (int i = 0; i < unknown->cnt; ++i) {
    const rd_kafka_topic_partition_t& u = unknown->elems[i];
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_find(partitions, u.topic, u.partition);
    if (u.offset >= 0) {
      tp->offset = u.offset;
    } else if (options_.start == KafkaSourceOptions::Start::kTimestamp) {
      rd_kafka_topic_partition_list_add(by_time, u.topic, u.partition)->offset =
          options_.start_timestamp;
    } else if (options_.start == KafkaSourceOptions::Start::kLatest) {
      tp->offset = RD_KAFKA_OFFSET_END;
    }
  }
  if (by_time->cnt > 0 &&
      rd_kafka_offsets_for_times(rk_, by_time, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < by_time->cnt; ++i) {
      rd_kafka_topic_partition_t* tp = rd_kafka_topic_partition_list_find(
          partitions, by_time->elems[i].topic, by_time->elems[i].partition);
      // -1 (no message at or after the time): start at the end.
      tp->offset = by_time->elems[i].offset >= 0 ? by_time->elems[i].offset : RD_KAFKA_OFFSET_END;
    }
  }
  rd_kafka_topic_partition_list_destroy(by_time);
  // "The end" is where the partition ends now: a number, kept as the
  // partition's position, so that a checkpoint (and the group's commit)
  // holds it before any record arrives. Left to librdkafka, a restart would
  // resolve "the end" again, later, and skip what came in between.
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    if (tp.offset != RD_KAFKA_OFFSET_END) {
      if (tp.offset >= 0) parts_[PartIndex(tp.topic, tp.partition)].next_offset = tp.offset;
      continue;
    }
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk_, tp.topic, tp.partition, &low, &high, 10000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      tp.offset = high;
      parts_[PartIndex(tp.topic, tp.partition)].next_offset = high;
    }
  }
}

void KafkaSource::ResumeAtFurthest(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<std::string> names;
  rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(partitions);
  for (int i = 0; i < partitions->cnt; ++i) {
    names.push_back(PartName(partitions->elems[i].topic, partitions->elems[i].partition));
    committed->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
  }
  const rd_kafka_resp_err_t e = rd_kafka_committed(rk_, committed, 10000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Logf("%s: the group's committed offsets: %s", name_.c_str(), rd_kafka_err2str(e));
  }
  absl::StatusOr<std::map<std::string, int64_t>> published = published_lookup_(names);
  if (!published.ok()) {
    Logf("%s: %s; resuming at the group's committed offsets", name_.c_str(),
         std::string(published.status().message()).c_str());
    published = std::map<std::string, int64_t>();
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    const Part& p = parts_[PartIndex(tp.topic, tp.partition)];
    const int64_t group = e == RD_KAFKA_RESP_ERR_NO_ERROR ? committed->elems[i].offset : -1;
    int64_t best = std::max<int64_t>(p.next_offset, group);
    if (auto it = restored_.find(p.name); it != restored_.end()) best = std::max(best, it->second);
    if (auto it = published->find(p.name); it != published->end()) {
      if (it->second > best && group >= 0 && it->second > group) {
        Logf(
            "%s: %s resumes at offset %lld, where its last publication ended "
            "(the group's committed offset is %lld)",
            name_.c_str(), p.name.c_str(), static_cast<long long>(it->second),
            static_cast<long long>(group));
      }
      best = std::max(best, it->second);
    }
    if (best >= 0) tp.offset = best;
  }
  rd_kafka_topic_partition_list_destroy(committed);
}

rd_kafka_topic_partition_list_t* KafkaSource::HandedOutOffsets() const {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(0);
  for (const Part& p : parts_) {
    if (p.assigned && p.next_offset >= 0) {
      rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.next_offset;
    }
  }
  return list;
}

void KafkaSource::CommitOffsets(const rd_kafka_topic_partition_list_t* offsets) {
  if (offsets->cnt == 0) return;
  const rd_kafka_resp_err_t e = rd_kafka_commit(rk_, offsets, 0);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    OnError(e, StrCat("offset commit: ", rd_kafka_err2str(e)).c_str());
  }
}

void KafkaSource::Revoke(rd_kafka_topic_partition_list_t* partitions) {
  // Still assigned: the owner publishes what it holds of them, with their
  // offsets, before they go.
  if (before_revoke_) {
    std::vector<int> inputs;
    for (int i = 0; i < partitions->cnt; ++i) {
      inputs.push_back(PartIndex(partitions->elems[i].topic, partitions->elems[i].partition));
    }
    before_revoke_(inputs);
  }
  std::map<std::string, int64_t> handed_out;
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = partitions->elems[i];
    Part& p = parts_[PartIndex(tp.topic, tp.partition)];
    p.assigned = false;
    if (p.next_offset >= 0) handed_out[p.name] = p.next_offset;
  }
  std::string names;
  for (int i = 0; i < partitions->cnt; ++i) {
    StrAppend(&names, i ? " " : "",
              PartName(partitions->elems[i].topic, partitions->elems[i].partition));
  }
  Logf("%s: revoked %s", name_.c_str(), names.c_str());
  // The next owner starts after what this process handed out; what was
  // fetched but not handed out yet is its to read.
  if (!handed_out.empty() && options_.commit_offsets) Commit(handed_out, /*async=*/false);
  std::vector<rd_kafka_message_t*> kept;
  for (rd_kafka_message_t* m : pending_) {
    const Part& p = parts_[PartIndex(m)];
    if (p.assigned) {
      kept.push_back(m);
    } else {
      rd_kafka_message_destroy(m);
    }
  }
  pending_ = std::move(kept);
  if (std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0) {
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, partitions);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk_, nullptr);
  }
}

void KafkaSource::OnError(int err, const char* reason) {
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    connected_.store(false, std::memory_order_relaxed);
  }
  const TimeMs now = NowMs();
  if (now - last_error_log_ >= 10000) {
    last_error_log_ = now;
    Logf("%s: %s", name_.c_str(), reason);
  }
  if (rd_kafka_fatal_error(rk_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status_ = absl::UnavailableError(StrCat("fatal Kafka error: ", reason));
  }
}

void KafkaSource::Commit(const std::map<std::string, int64_t>& offsets, bool async) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(0);
  for (const auto& [name, offset] : offsets) {
    auto it = index_.find(name);
    if (it == index_.end()) continue;
    const Part& p = parts_[it->second];
    rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = offset;
  }
  if (list->cnt > 0) {
    const rd_kafka_resp_err_t e = rd_kafka_commit(rk_, list, async ? 1 : 0);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      OnError(e, StrCat("offset commit: ", rd_kafka_err2str(e)).c_str());
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
}

void KafkaSource::Take(rd_kafka_message_t* m) {
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      parts_[PartIndex(m)].at_end = true;
      connected_.store(true, std::memory_order_relaxed);
    } else {
      OnError(m->err, rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    return;
  }
  connected_.store(true, std::memory_order_relaxed);
  Part& p = parts_[PartIndex(m)];
  if (!p.assigned) {
    rd_kafka_message_destroy(m);
    return;
  }
  p.at_end = false;
  pending_.push_back(m);
}

bool KafkaSource::Next(std::vector<Record>* out, size_t max) {
  out->clear();
  if (!status_.ok()) return false;
  // One message per poll: librdkafka 2.0's batch call may lose or misroute
  // messages when a rebalance runs during it (its changelog's known issue).
  for (bool first = true; pending_.size() < max; first = false) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, first ? 100 : 0);
    if (!m) break;
    Take(m);
  }
  BuildBatch(out);
  if (!out->empty()) return true;
  if (!status_.ok()) return false;
  if (options_.exit_at_end) {
    int assigned = 0;
    bool all_at_end = true;
    for (const Part& p : parts_) {
      if (!p.assigned) continue;
      ++assigned;
      all_at_end = all_at_end && p.at_end;
    }
    if (assigned > 0 && all_at_end) return false;
  }
  return true;
}

void KafkaSource::BuildBatch(std::vector<Record>* out) {
  size_t total = simdjson::SIMDJSON_PADDING;
  for (const rd_kafka_message_t* m : pending_) {
    total += std::min(m->len, options_.max_record_bytes + 1) + simdjson::SIMDJSON_PADDING;
  }
  arena_.clear();
  arena_.reserve(total);
  starts_.clear();
  for (const rd_kafka_message_t* m : pending_) {
    starts_.push_back(arena_.size());
    const size_t keep = m->len > options_.max_record_bytes ? kOversizedPrefix : m->len;
    arena_.append(static_cast<const char*>(m->payload), std::min(keep, m->len));
    arena_.append(simdjson::SIMDJSON_PADDING, '\0');
  }
  for (size_t i = 0; i < pending_.size(); ++i) {
    const rd_kafka_message_t* m = pending_[i];
    const int input = PartIndex(m);
    const bool oversized = m->len > options_.max_record_bytes;
    Record r;
    r.data = std::string_view(arena_.data() + starts_[i],
                              oversized ? std::min(kOversizedPrefix, m->len) : m->len);
    r.line = static_cast<uint64_t>(m->offset);
    r.offset = static_cast<uint64_t>(m->offset);
    r.size = m->len;
    r.oversized = oversized;
    r.input = input;
    out->push_back(r);
    parts_[input].next_offset = m->offset + 1;
    rd_kafka_message_destroy(pending_[i]);
  }
  pending_.clear();
}

int64_t KafkaSource::input_lag(int input) const {
  const Part& p = parts_[input];
  int64_t low = 0, high = 0;
  if (!p.assigned || p.next_offset < 0 ||
      rd_kafka_get_watermark_offsets(rk_, p.topic.c_str(), p.partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return -1;
  }
  return std::max<int64_t>(0, high - p.next_offset);
}

const std::vector<std::string>& KafkaSource::AllPartitions() {
  const TimeMs now = NowMs();
  if (!all_partitions_.empty() && now - all_partitions_at_ < 60'000) return all_partitions_;
  std::vector<std::string> names;
  for (const std::string& topic : options_.topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
    if (!rkt) return all_partitions_;
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 0, rkt, &md, 5000);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return all_partitions_;
    bool complete = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                    md->topics[0].partition_cnt > 0;
    if (complete) {
      for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
        names.push_back(PartName(topic, md->topics[0].partitions[i].id));
      }
    }
    rd_kafka_metadata_destroy(md);
    if (!complete) return all_partitions_;
  }
  std::sort(names.begin(), names.end());
  all_partitions_ = std::move(names);
  all_partitions_at_ = now;
  return all_partitions_;
}

int KafkaSource::assigned_count() const {
  int n = 0;
  for (const Part& p : parts_) n += p.assigned;
  return n;
}

std::string KafkaSource::SavePositions() const {
  std::map<std::string, int64_t> all = restored_;
  for (const Part& p : parts_) {
    if (p.next_offset >= 0) all[p.name] = p.next_offset;
  }
  std::string out;
  for (const auto& [name, offset] : all) StrAppend(&out, name, " ", offset, "\n");
  return out;
}

absl::Status KafkaSource::RestorePositions(std::string_view positions) {
  std::map<std::string, int64_t> restored;
  for (std::string_view line : StrSplit(positions, '\n')) {
    if (line.empty()) continue;
    const size_t space = line.rfind(' ');
    const size_t slash = line.rfind('/');
    int64_t offset = -1;
    if (space == std::string_view::npos || slash == std::string_view::npos || slash > space ||
        !absl::SimpleAtoi(absl::string_view(line.data() + space + 1, line.size() - space - 1),
                          &offset) ||
        offset < 0) {
      return absl::DataLossError(StrCat("bad Kafka position \"", line, "\""));
    }
    restored[std::string(line.substr(0, space))] = offset;
  }
  restored_ = std::move(restored);
  from_checkpoint_ = true;
  return absl::OkStatus();
}

void KafkaSource::PositionsDurable(std::string_view positions) {
  std::map<std::string, int64_t> offsets;
  for (std::string_view line : StrSplit(positions, '\n')) {
    const size_t space = line.rfind(' ');
    int64_t offset = -1;
    if (space == std::string_view::npos ||
        !absl::SimpleAtoi(absl::string_view(line.data() + space + 1, line.size() - space - 1),
                          &offset)) {
      continue;
    }
    auto it = index_.find(line.substr(0, space));
    if (it != index_.end() && parts_[it->second].assigned) {
      offsets[std::string(line.substr(0, space))] = offset;
    }
  }
  if (!offsets.empty() && options_.commit_offsets) Commit(offsets, /*async=*/true);
}

}  // namespace vigil
