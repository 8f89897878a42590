// TimelineSink's state in checkpoints: every episode, open episode, metric
// statistic and SLO day, so a resumed replay reports the whole run.
#include "base/codec.h"
#include "base/strings.h"
#include "runtime/replay.h"

namespace vigil {

namespace {

void PutLabels(const Labels& labels, Encoder* enc) {
  enc->PutVarint(labels.size());
  for (const auto& [k, v] : labels) {
    enc->PutString(k);
    enc->PutString(v);
  }
}

bool GetLabels(Decoder* dec, Labels* labels) {
  labels->clear();
  for (uint64_t n = dec->GetVarint(), i = 0; i < n && dec->ok(); ++i) {
    std::string k(dec->GetString());
    (*labels)[std::move(k)] = std::string(dec->GetString());
  }
  return dec->ok();
}

}  // namespace

std::string TimelineSink::EncodeState() const {
  Encoder enc;
  enc.PutVarint(episodes_.size());
  for (const Episode& e : episodes_) {
    enc.PutString(e.alert);
    enc.PutString(e.severity);
    PutLabels(e.labels, &enc);
    for (TimeMs t : {e.pending, e.firing, e.resolved, e.notified}) enc.PutSigned(t);
    enc.PutDouble(e.peak);
    enc.PutString(e.held_back);
  }
  enc.PutVarint(open_.size());
  for (const auto& [key, index] : open_) {
    enc.PutString(key);
    enc.PutVarint(index);
  }
  enc.PutVarint(metrics_.size());
  for (const auto& [name, m] : metrics_) {
    enc.PutString(name);
    enc.PutVarint(m.windows);
    enc.PutVarint(m.partial);
    for (double d : {m.min, m.max, m.sum, m.last}) enc.PutDouble(d);
  }
  enc.PutVarint(slo_days_.size());
  for (const SloDay& d : slo_days_) {
    enc.PutString(d.slo);
    PutLabels(d.labels, &enc);
    enc.PutSigned(d.day);
    enc.PutDouble(d.burn_rate);
    enc.PutDouble(d.budget_used);
    enc.PutByte(d.partial ? 1 : 0);
  }
  enc.PutVarint(slo_first_pane_.size());
  for (const auto& [key, t] : slo_first_pane_) {
    enc.PutString(key);
    enc.PutSigned(t);
  }
  return enc.Release();
}

bool TimelineSink::DecodeState(std::string_view bytes) {
  Decoder dec(bytes);
  std::vector<Episode> episodes;
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    Episode& e = episodes.emplace_back();
    e.alert = dec.GetString();
    e.severity = dec.GetString();
    if (!GetLabels(&dec, &e.labels)) return false;
    for (TimeMs* t : {&e.pending, &e.firing, &e.resolved, &e.notified}) *t = dec.GetSigned();
    e.peak = dec.GetDouble();
    e.held_back = dec.GetString();
  }
  std::map<std::string, size_t> open;
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    std::string key(dec.GetString());
    const uint64_t index = dec.GetVarint();
    if (index >= episodes.size()) return false;
    open[std::move(key)] = index;
  }
  std::map<std::string, MetricStats> metrics;
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    MetricStats& m = metrics[std::string(dec.GetString())];
    m.windows = dec.GetVarint();
    m.partial = dec.GetVarint();
    for (double* d : {&m.min, &m.max, &m.sum, &m.last}) *d = dec.GetDouble();
  }
  std::vector<SloDay> days;
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    SloDay& d = days.emplace_back();
    d.slo = dec.GetString();
    if (!GetLabels(&dec, &d.labels)) return false;
    d.day = dec.GetSigned();
    d.burn_rate = dec.GetDouble();
    d.budget_used = dec.GetDouble();
    d.partial = dec.GetByte() != 0;
  }
  std::map<std::string, TimeMs> first;
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    std::string key(dec.GetString());
    first[std::move(key)] = dec.GetSigned();
  }
  if (!dec.ok() || !dec.done()) return false;
  episodes_ = std::move(episodes);
  open_ = std::move(open);
  metrics_ = std::move(metrics);
  slo_days_ = std::move(days);
  slo_first_pane_ = std::move(first);
  return true;
}

absl::Status TimelineSink::Prepare(uint64_t epoch, CheckpointData* data) {
  (void)epoch;
  data->panes.emplace_back(kStateKey, EncodeState());
  return absl::OkStatus();
}

absl::Status TimelineSink::Restore(const CheckpointData& data) {
  for (const auto& [key, bytes] : data.panes) {
    if (key != kStateKey) continue;
    if (!DecodeState(bytes)) {
      return absl::DataLossError(
          StrCat("checkpoint ", data.epoch, ": unreadable replay report (alert timeline)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil
