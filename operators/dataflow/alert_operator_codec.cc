// AlertOperator's state in checkpoints: each metric's recent windows (the
// history functions' input), each alert's per-group state and the
// resolutions not yet sent, and the way back.
#include <algorithm>
#include <list>
#include <map>
#include <string>

#include "operators/dataflow/alert_operator.h"

namespace vigil {

std::string AlertOperator::EncodeState() const {
  Encoder enc;
  enc.PutVarint(rules_.metrics.size());
  for (size_t m = 0; m < rules_.metrics.size(); ++m) {
    enc.PutString(rules_.metrics[m].fingerprint);
    enc.PutSigned(last_end_[m]);
    std::map<std::string_view, const Latest*> latest;  // sorted: stable bytes
    for (const auto& [g, l] : latest_[m]) latest.emplace(g, &l);
    enc.PutVarint(latest.size());
    for (const auto& [g, l] : latest) {
      enc.PutString(g);
      enc.PutDouble(l->value);
      enc.PutSigned(l->start);
    }
    std::map<std::string_view, const MetricHistory*> history;
    for (const auto& [g, h] : history_[m]) history.emplace(g, &h);
    enc.PutVarint(history.size());
    for (const auto& [g, h] : history) {
      enc.PutString(g);
      h->Encode(&enc);
    }
  }
  enc.PutVarint(rules_.alerts.size());
  for (size_t a = 0; a < rules_.alerts.size(); ++a) {
    enc.PutString(AlertKey(rules_, rules_.alerts[a]));
    enc.PutVarint(states_[a].size());
    for (const auto& [g, st] : states_[a]) {
      enc.PutString(g);
      st.Encode(&enc);
    }
  }
  EncodeResolutions(&enc);
  // After the resolutions (a checkpoint without this part restores every
  // metric as covered): the metrics a reload started over, by fingerprint,
  // and through when their windows are partial.
  std::map<std::string_view, TimeMs> restarted;
  for (size_t m = 0; m < rules_.metrics.size(); ++m) {
    if (partial_through_[m] != kMinTime)
      restarted.emplace(rules_.metrics[m].fingerprint, partial_through_[m]);
  }
  enc.PutVarint(restarted.size());
  for (const auto& [fingerprint, through] : restarted) {
    enc.PutString(fingerprint);
    enc.PutSigned(through);
  }
  return enc.Release();
}

// After the states (a checkpoint without this part restores without
// resolutions): per alert with a firing group, its key, name, severity and
// expression, and per firing group its resolution's labels, annotations and
// window.
void AlertOperator::EncodeResolutions(Encoder* enc) const {
  size_t alerts = 0;
  for (const auto& groups : states_) {
    alerts += std::any_of(groups.begin(), groups.end(),
                          [](const auto& g) { return g.second.phase == AlertPhase::kFiring; });
  }
  enc->PutVarint(alerts);
  for (size_t a = 0; a < rules_.alerts.size(); ++a) {
    const AlertDef& def = rules_.alerts[a];
    std::vector<AlertNotice> notices;
    for (const auto& [g, st] : states_[a]) {
      if (st.phase == AlertPhase::kFiring) {
        notices.push_back(MakeNotice(def, g, st, Transition::kResolved, st.last_eval));
      }
    }
    if (notices.empty()) continue;
    enc->PutString(AlertKey(rules_, def));
    enc->PutString(def.name);
    enc->PutVarint(static_cast<uint64_t>(def.severity));
    enc->PutString(def.expr_source);
    enc->PutVarint(notices.size());
    for (const AlertNotice& n : notices) {
      enc->PutString(n.group);
      enc->PutString(n.window);
      enc->PutVarint(n.labels.size());
      for (const auto& [k, v] : n.labels) {
        enc->PutString(k);
        enc->PutString(v);
      }
      enc->PutVarint(n.annotations.size());
      for (const auto& [k, v] : n.annotations) {
        enc->PutString(k);
        enc->PutString(v);
      }
    }
  }
}

// The resolutions of firing alerts in `gone` (key -> group -> state) that
// the checkpoint described.
bool AlertOperator::DecodeResolutions(
    Decoder* dec, const std::map<std::string, std::map<std::string, AlertState>>& gone) {
  std::vector<AlertNotice> notices;
  std::list<AlertDef> defs;  // their stand-ins; a list keeps them in place when moved
  if (dec->done()) {         // written before resolutions were kept
    restored_resolutions_.clear();
    return true;
  }
  for (uint64_t n = dec->GetVarint(), i = 0; i < n && dec->ok(); ++i) {
    const std::string key(dec->GetString());
    AlertDef def;
    def.name = std::string(dec->GetString());
    const uint64_t severity = dec->GetVarint();
    if (severity < static_cast<uint64_t>(Severity::kP1) ||
        severity > static_cast<uint64_t>(Severity::kP4)) {
      return false;
    }
    def.severity = static_cast<Severity>(severity);
    def.expr_source = std::string(dec->GetString());
    auto states = gone.find(key);
    const AlertDef* stand_in = nullptr;
    for (uint64_t groups = dec->GetVarint(), j = 0; j < groups && dec->ok(); ++j) {
      AlertNotice r;
      r.group = std::string(dec->GetString());
      r.window = std::string(dec->GetString());
      for (uint64_t k = dec->GetVarint(), l = 0; l < k && dec->ok(); ++l) {
        std::string name(dec->GetString());
        r.labels[std::move(name)] = std::string(dec->GetString());
      }
      for (uint64_t k = dec->GetVarint(), l = 0; l < k && dec->ok(); ++l) {
        std::string name(dec->GetString());
        r.annotations.emplace_back(std::move(name), std::string(dec->GetString()));
      }
      if (states == gone.end()) continue;  // still defined: it goes on
      auto st = states->second.find(r.group);
      if (st == states->second.end() || st->second.phase != AlertPhase::kFiring) continue;
      const AlertState& s = st->second;
      if (stand_in == nullptr) stand_in = &defs.emplace_back(def);
      r.def = stand_in;
      r.transition = Transition::kResolved;
      r.at = s.last_eval;
      r.value = s.fired_value;  // no resolved_value: no evaluation resolved it
      r.active_since = s.active_since;
      r.fired_at = s.fired_at;
      r.peak = s.peak;
      r.notify = s.notified;
      notices.push_back(std::move(r));
    }
  }
  if (!dec->ok()) return false;
  restored_resolutions_ = std::move(notices);
  retired_.splice(retired_.end(), defs);
  return true;
}

bool AlertOperator::DecodeState(std::string_view data) {
  Decoder dec(data);
  std::vector<LatestMap> latest(rules_.metrics.size());
  std::vector<TimeMs> last_end = last_end_;
  std::vector<HistoryMap> history(rules_.metrics.size());
  std::vector<std::map<std::string, AlertState>> states(rules_.alerts.size());
  const uint64_t metrics = dec.GetVarint();
  for (uint64_t i = 0; i < metrics && dec.ok(); ++i) {
    const std::string_view fingerprint = dec.GetString();
    int m = -1;
    for (size_t k = 0; k < rules_.metrics.size(); ++k) {
      if (rules_.metrics[k].fingerprint == fingerprint) m = static_cast<int>(k);
    }
    const TimeMs end = dec.GetSigned();
    LatestMap l;
    for (uint64_t n = dec.GetVarint(), j = 0; j < n && dec.ok(); ++j) {
      const std::string_view g = dec.GetString();
      const double value = dec.GetDouble();
      l.emplace(std::string(g), Latest{value, dec.GetSigned()});
    }
    HistoryMap h;
    for (uint64_t n = dec.GetVarint(), j = 0; j < n && dec.ok(); ++j) {
      const std::string_view g = dec.GetString();
      if (!h[std::string(g)].Decode(&dec)) return false;
    }
    if (m < 0) continue;
    last_end[m] = end;
    latest[m] = std::move(l);
    if (retention_[m] >= 0) history[m] = std::move(h);
  }
  const uint64_t alerts = dec.GetVarint();
  std::vector<bool> carried(rules_.alerts.size(), false);
  std::map<std::string, std::map<std::string, AlertState>> gone;  // by key: no definition now
  for (uint64_t i = 0; i < alerts && dec.ok(); ++i) {
    const std::string_view key = dec.GetString();
    int a = -1;
    for (size_t k = 0; k < rules_.alerts.size(); ++k) {
      if (KeyIs(rules_, rules_.alerts[k], key)) a = static_cast<int>(k);
    }
    std::map<std::string, AlertState> s;
    for (uint64_t n = dec.GetVarint(), j = 0; j < n && dec.ok(); ++j) {
      const std::string_view g = dec.GetString();
      AlertState st;
      if (!st.Decode(&dec)) return false;
      s.emplace(std::string(g), st);
    }
    if (a >= 0) {
      states[a] = std::move(s);
      carried[a] = true;
    } else {
      gone[std::string(key)] = std::move(s);
    }
  }
  if (!dec.ok() || !DecodeResolutions(&dec, gone)) return false;
  std::vector<TimeMs> partial_through(rules_.metrics.size(), kMinTime);
  for (uint64_t n = dec.done() ? 0 : dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    const std::string_view fingerprint = dec.GetString();
    const TimeMs through = dec.GetSigned();
    for (size_t k = 0; k < rules_.metrics.size(); ++k) {
      if (rules_.metrics[k].fingerprint == fingerprint) partial_through[k] = through;
    }
  }
  if (!dec.ok()) return false;
  latest_ = std::move(latest);
  partial_through_ = std::move(partial_through);
  last_end_ = std::move(last_end);
  history_ = std::move(history);
  states_ = std::move(states);
  carried_ = std::move(carried);
  return true;
}

}  // namespace vigil
