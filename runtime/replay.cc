#include "runtime/replay.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/log.h"
#include "base/strings.h"
#include "operators/archive/archive_manifest.h"
#include "operators/archive/archive_store.h"
#include "operators/net/s3_client.h"
#include "operators/sink/output_sinks.h"
#include "operators/source/line_source.h"

namespace vigil {

namespace fs = std::filesystem;

namespace {
bool IsEventFile(const fs::path& p) {
  const std::string name = p.filename().string();
  auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".ndjson") || ends(".json") || ends(".zst") || ends(".parquet");
}

// Keeps in *peak the value of `def` further past its threshold.
void Worse(const AlertDef& def, double v, double* peak) {
  *peak = def.lower_is_worse ? std::min(*peak, v) : std::max(*peak, v);
}

std::string Time(TimeMs t) { return t == kMinTime ? "-" : FormatTimestamp(t); }

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// {k=v,...}; a value that would blur the table (a space, a control
// character, a quote, a separator) is a JSON string, as on the console.
std::string LabelText(const Labels& labels) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (k == "alertname" || k == "severity") continue;
    StrAppend(&s, s.empty() ? "" : ",", k, "=");
    const bool plain = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
      return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '\\' || c == ',' ||
             c == '=' || c == '{' || c == '}' || c == 0x7f;
    });
    if (plain) {
      s += v;
    } else {
      AppendJsonString(v, &s);
    }
  }
  return s.empty() ? "{}" : "{" + s + "}";
}
}  // namespace

bool Overlaps(const ArchiveEntry& e, TimeMs from, TimeMs to) {
  return e.max_ts >= from && e.min_ts < to;
}

absl::StatusOr<std::vector<std::string>> ExpandEventPaths(const std::vector<std::string>& paths,
                                                          TimeMs from, TimeMs to, bool* past_to) {
  std::vector<std::string> out;
  auto left_out = [&](const ArchiveEntry& e) {
    if (past_to != nullptr && e.max_ts >= to) *past_to = true;
  };
  for (const std::string& p : paths) {
    if (p == "-") {  // stdin, as `run --input -` reads it
      out.push_back("/dev/stdin");
      continue;
    }
    std::error_code ec;
    const bool directory = fs::is_directory(p, ec);
    if (IsS3Url(p)) {
      absl::StatusOr<ArchiveManifest> m = ReadS3ArchiveManifest(p);
      if (!m.ok()) return m.status();
      for (const std::string& problem : m->problems) {
        Logf("skipping archive manifest line %s", problem.c_str());
      }
      for (const ArchiveEntry& e : m->Files()) {
        if (Overlaps(e, from, to)) {
          out.push_back(S3ArchiveBatchUrl(p, *m, e));
        } else {
          left_out(e);
        }
      }
    } else if (std::optional<std::string> root = directory ? FindArchiveRoot(p) : std::nullopt) {
      // An archive: exactly the batches its manifest lists, never a file
      // being written or left behind by a crash.
      absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(*root);
      if (!m.ok()) return m.status();
      for (const std::string& problem : m->problems) {
        Logf("skipping archive manifest line %s", problem.c_str());
      }
      for (const ArchiveEntry& e : m->Files()) {
        if (Overlaps(e, from, to)) {
          out.push_back(StrCat(*root, "/", e.path));
        } else {
          left_out(e);
        }
      }
    } else if (directory) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file() && IsEventFile(it->path())) found.push_back(it->path().string());
      }
      if (ec) return absl::InvalidArgumentError(StrCat(p, ": ", ec.message()));
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);
    } else {
      return absl::NotFoundError(StrCat(p, ": no such file or directory"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("no event files to replay");
  return out;
}

absl::StatusOr<std::unique_ptr<RecordSource>> OpenEventPath(const std::string& path,
                                                            size_t max_record_bytes, bool idle) {
  if (!IsS3Url(path) && !path.ends_with(kParquetSuffix)) {
    return OpenFileSource(path, max_record_bytes, idle);
  }
  absl::StatusOr<std::string> ndjson = ReadArchiveBatch(path);
  if (!ndjson.ok()) return ndjson.status();
  const std::string name = IsS3Url(path) ? path.substr(0, path.find('?')) : StrCat("file:", path);
  return OpenBufferSource(name, std::move(*ndjson), max_record_bytes);
}

void TimelineSink::OnWindow(const WindowResult& r) {
  MetricStats& m = metrics_[r.def->name];
  constexpr DurationMs kDay = 86'400'000;
  if (!r.def->slo_daily.empty() && r.def->slo_window > 0) {
    // The group's first window ends one pane after its first data.
    const auto first =
        slo_first_pane_
            .try_emplace(StrCat(r.def->name, "\x1f", r.group), r.end - r.def->window.pane())
            .first->second;
    if (r.end % kDay == 0) {
      SloDay d;
      d.slo = r.def->slo_daily;
      for (size_t i = 0; i < r.labels.size() && i < r.def->by.size(); ++i) {
        d.labels[r.def->by[i]] = r.labels[i];
      }
      d.day = r.end - kDay;
      d.burn_rate = r.value;
      d.budget_used = r.value * static_cast<double>(kDay) / static_cast<double>(r.def->slo_window);
      // A day the data starts after, or ends before the end of.
      d.partial = r.partial || first > d.day;
      slo_days_.push_back(std::move(d));
    }
  }
  if (r.partial) {
    ++m.partial;
    return;
  }
  if (m.windows == 0) {
    m.min = m.max = r.value;
  } else {
    m.min = std::min(m.min, r.value);
    m.max = std::max(m.max, r.value);
  }
  ++m.windows;
  m.sum += r.value;
  m.last = r.value;
}

void TimelineSink::OnStillActive(const AlertNotice& n) {
  auto it = open_.find(StrCat(n.def->name, "\x1e", n.group));
  if (it != open_.end()) Worse(*n.def, n.peak, &episodes_[it->second].peak);
}

void TimelineSink::OnAlert(const AlertNotice& n) {
  const std::string key = StrCat(n.def->name, "\x1e", n.group);
  auto it = open_.find(key);
  if (it == open_.end()) {
    Episode e;
    e.alert = n.def->name;
    e.severity = std::string(SeverityName(n.def->severity));
    e.labels = n.labels;
    e.peak = n.peak;
    episodes_.push_back(std::move(e));
    it = open_.emplace(key, episodes_.size() - 1).first;
  }
  Episode& e = episodes_[it->second];
  Worse(*n.def, n.peak, &e.peak);
  switch (n.transition) {
    case Transition::kPending:
      e.pending = n.at;
      break;
    case Transition::kFiring:
      if (n.released) {
        e.notified = n.at;
        break;
      }
      e.firing = n.at;
      // Both may hold it back; it is notified once neither does.
      if (!n.inhibited_by.empty()) e.held_back = StrCat("inhibited by ", n.inhibited_by);
      if (!n.silenced_by.empty()) {
        StrAppend(&e.held_back, e.held_back.empty() ? "" : " and ", "silenced by ", n.silenced_by);
      }
      break;
    case Transition::kResolved:
    case Transition::kInactive:
      e.resolved = n.at;
      open_.erase(it);
      break;
    case Transition::kNone:
      break;
  }
}

std::string TimelineSink::ToText() const {
  std::string s = "Alert timeline (event time)\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-26s %-3s %-24s %-24s %-24s %-24s %s\n", "ALERT", "SEV",
                "PENDING", "FIRING", "RESOLVED", "LABELS", "PEAK");
  s += line;
  for (const Episode& e : episodes_) {
    std::snprintf(line, sizeof line, "%-26s %-3s %-24s %-24s %-24s %-24s %s", e.alert.c_str(),
                  e.severity.c_str(), Time(e.pending).c_str(), Time(e.firing).c_str(),
                  Time(e.resolved).c_str(), LabelText(e.labels).c_str(), Number(e.peak).c_str());
    s += line;
    if (!e.held_back.empty()) {
      StrAppend(&s, "  (", e.held_back, " when it fired",
                e.notified == kMinTime ? ", not notified"
                                       : StrCat(", notified at ", FormatTimestamp(e.notified)),
                ")");
    }
    s += "\n";
  }
  if (episodes_.empty()) s += "(no alerts)\n";
  s += "\nMetrics\n";
  int width = 28;  // the longest metric name (SLOs' run to 45)
  for (const auto& [name, m] : metrics_) width = std::max(width, static_cast<int>(name.size()));
  std::snprintf(line, sizeof line, "%-*s %8s %8s %12s %12s %12s %12s\n", width, "METRIC", "WINDOWS",
                "PARTIAL", "MIN", "AVG", "MAX", "LAST");
  s += line;
  for (const auto& [name, m] : metrics_) {
    const bool any = m.windows > 0;
    auto stat = [any](double v) { return any ? Number(v) : std::string("-"); };
    std::snprintf(line, sizeof line, "%-*s %8llu %8llu %12s %12s %12s %12s\n", width, name.c_str(),
                  static_cast<unsigned long long>(m.windows),
                  static_cast<unsigned long long>(m.partial), stat(m.min).c_str(),
                  stat(m.sum / static_cast<double>(any ? m.windows : 1)).c_str(),
                  stat(m.max).c_str(), stat(m.last).c_str());
    s += line;
  }
  s += "(PARTIAL: windows the input only partly covers, left out of the statistics)\n";
  if (!slo_days_.empty()) {
    s += "\nSLO error budget per day (UTC)\n";
    std::snprintf(line, sizeof line, "%-24s %-24s %-11s %10s %12s\n", "SLO", "LABELS", "DAY",
                  "BURN RATE", "BUDGET USED");
    s += line;
    bool any_partial = false;
    for (const SloDay& d : slo_days_) {
      char used[32];
      std::snprintf(used, sizeof used, "%.2f%%", d.budget_used * 100);
      const std::string day = FormatTimestamp(d.day).substr(0, 10) + (d.partial ? "*" : "");
      std::snprintf(line, sizeof line, "%-24s %-24s %-11s %10s %12s\n", d.slo.c_str(),
                    LabelText(d.labels).c_str(), day.c_str(), Number(d.burn_rate).c_str(), used);
      s += line;
      any_partial |= d.partial;
    }
    s += "(the share of the SLO's error budget over its whole window that the day used)\n";
    if (any_partial) s += "* the data covers only part of the day\n";
  }
  return s;
}

std::string TimelineSink::ToJson() const {
  std::string s = "{\"alerts\":[";
  for (size_t i = 0; i < episodes_.size(); ++i) {
    const Episode& e = episodes_[i];
    if (i) s += ",";
    s += "{\"alert\":";
    AppendJsonString(e.alert, &s);
    StrAppend(&s, ",\"severity\":\"", e.severity, "\",\"labels\":{");
    bool first = true;
    for (const auto& [k, v] : e.labels) {
      if (!first) s += ",";
      first = false;
      AppendJsonString(k, &s);
      s += ":";
      AppendJsonString(v, &s);
    }
    s += "}";
    for (auto [name, t] : {std::pair{"pending", e.pending}, std::pair{"firing", e.firing},
                           std::pair{"resolved", e.resolved}}) {
      StrAppend(&s, ",\"", name, "\":");
      if (t == kMinTime) {
        s += "null";
      } else {
        StrAppend(&s, "\"", FormatTimestamp(t), "\"");
      }
    }
    StrAppend(&s, ",\"peak\":", e.peak);
    if (!e.held_back.empty()) {
      s += ",\"held_back\":";
      AppendJsonString(e.held_back, &s);
      s += ",\"notified\":";
      s += e.notified == kMinTime ? std::string("null")
                                  : StrCat("\"", FormatTimestamp(e.notified), "\"");
    }
    s += "}";
  }
  s += "],\"metrics\":[";
  bool first = true;
  for (const auto& [name, m] : metrics_) {
    if (!first) s += ",";
    first = false;
    s += "{\"metric\":";
    AppendJsonString(name, &s);
    StrAppend(&s, ",\"windows\":", m.windows, ",\"partial\":", m.partial);
    if (m.windows > 0) {
      StrAppend(&s, ",\"min\":", m.min, ",\"avg\":", m.sum / static_cast<double>(m.windows),
                ",\"max\":", m.max, ",\"last\":", m.last);
    }
    s += "}";
  }
  s += "],\"slo_days\":[";
  for (size_t i = 0; i < slo_days_.size(); ++i) {
    const SloDay& d = slo_days_[i];
    if (i) s += ",";
    s += "{\"slo\":";
    AppendJsonString(d.slo, &s);
    s += ",\"labels\":{";
    bool first_label = true;
    for (const auto& [k, v] : d.labels) {
      if (!first_label) s += ",";
      first_label = false;
      AppendJsonString(k, &s);
      s += ":";
      AppendJsonString(v, &s);
    }
    StrAppend(&s, "},\"day\":\"", FormatTimestamp(d.day).substr(0, 10),
              "\",\"burn_rate\":", d.burn_rate, ",\"budget_used\":", d.budget_used,
              ",\"partial\":", d.partial ? "true" : "false", "}");
  }
  s += "]}";
  return s;
}

}  // namespace vigil
