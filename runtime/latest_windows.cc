#include "runtime/latest_windows.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "base/codec.h"
#include "base/strings.h"

namespace vigil {

namespace {

constexpr uint8_t kVersion = 1;

// The index of the metric of `rules` named `name` with `fingerprint`.
std::optional<int> SameMetric(const RuleSet& rules, std::string_view name,
                              std::string_view fingerprint) {
  std::optional<int> m = rules.FindMetric(name);
  if (!m || rules.metrics[*m].fingerprint != fingerprint) return std::nullopt;
  return m;
}

}  // namespace

std::string SeriesScope(const WindowResult& r) {
  if (r.def->experiment == MetricDef::ExperimentRole::kOutput && !r.labels.empty()) {
    return StrCat("e", r.labels[0]);  // by: [experiment, ...]
  }
  return StrCat("m", r.metric);
}

void LatestWindows::Update(const std::vector<WindowResult>& results) {
  std::map<std::string, TimeMs> latest;  // by scope: its latest complete end here
  for (const WindowResult& r : results) {
    if (r.partial) continue;
    auto [it, fresh] = latest.emplace(SeriesScope(r), r.end);
    if (!fresh) it->second = std::max(it->second, r.end);
  }
  for (auto& [metric, kept] : by_metric_) {
    std::erase_if(kept, [&](const WindowResult& r) { return latest.contains(SeriesScope(r)); });
  }
  for (const WindowResult& r : results) {
    if (r.partial || r.end != latest[SeriesScope(r)]) continue;
    WindowResult& kept = by_metric_[r.metric].emplace_back(r);
    kept.parts.clear();
    kept.sketch.reset();
  }
}

void LatestWindows::Rebind(const RuleSet& rules) {
  std::map<int, std::vector<WindowResult>> kept;
  for (auto& [metric, results] : by_metric_) {
    if (results.empty()) continue;
    const MetricDef* old = results.front().def;
    std::optional<int> m = SameMetric(rules, old->name, old->fingerprint);
    if (!m) continue;
    for (WindowResult& r : results) {
      r.metric = *m;
      r.def = &rules.metrics[*m];
    }
    kept[*m] = std::move(results);
  }
  by_metric_ = std::move(kept);
}

std::vector<WindowResult> LatestWindows::All() const {
  std::vector<WindowResult> all;
  for (const auto& [metric, results] : by_metric_) {
    all.insert(all.end(), results.begin(), results.end());
  }
  return all;
}

std::string LatestWindows::Encode() const {
  Encoder enc;
  enc.PutByte(kVersion);
  size_t metrics = 0;
  for (const auto& [metric, results] : by_metric_) metrics += !results.empty();
  enc.PutVarint(metrics);
  for (const auto& [metric, results] : by_metric_) {
    if (results.empty()) continue;
    enc.PutString(results.front().def->name);
    enc.PutString(results.front().def->fingerprint);
    enc.PutVarint(results.size());
    for (const WindowResult& r : results) {
      enc.PutString(r.group);
      enc.PutVarint(r.labels.size());
      for (const std::string& l : r.labels) enc.PutString(l);
      enc.PutSigned(r.start);
      enc.PutSigned(r.end);
      enc.PutDouble(r.value);
    }
  }
  return enc.Release();
}

bool LatestWindows::Decode(std::string_view bytes, const RuleSet& rules) {
  Decoder dec(bytes);
  if (dec.GetByte() != kVersion) return false;
  std::map<int, std::vector<WindowResult>> decoded;
  const uint64_t metrics = dec.GetVarint();
  for (uint64_t i = 0; i < metrics && dec.ok(); ++i) {
    const std::string name(dec.GetString());
    const std::string fingerprint(dec.GetString());
    const std::optional<int> m = SameMetric(rules, name, fingerprint);
    const uint64_t count = dec.GetVarint();
    for (uint64_t j = 0; j < count && dec.ok(); ++j) {
      WindowResult r;
      r.group = dec.GetString();
      const uint64_t labels = dec.GetVarint();
      for (uint64_t k = 0; k < labels && dec.ok(); ++k) r.labels.emplace_back(dec.GetString());
      r.start = dec.GetSigned();
      r.end = dec.GetSigned();
      r.value = dec.GetDouble();
      if (!m) continue;  // the metric is gone or changed: its windows go
      r.metric = *m;
      r.def = &rules.metrics[*m];
      decoded[*m].push_back(std::move(r));
    }
  }
  if (!dec.ok() || !dec.done()) return false;
  by_metric_ = std::move(decoded);
  return true;
}

}  // namespace vigil
