// AdminApi: /api/rules, the rule set as loaded, with what the status page
// needs to explain an alert (rules/alert_display.h): the window and format
// of its value, its threshold, where it is defined.
#include "base/strings.h"
#include "base/time.h"
#include "rules/alert_display.h"
#include "runtime/admin_api.h"
#include "runtime/experiment_report.h"
#include "runtime/tracker_report.h"

namespace vigil {
namespace {

void AppendStrings(const std::vector<std::string>& items, std::string* json) {
  json->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) json->push_back(',');
    AppendJsonString(items[i], json);
  }
  json->push_back(']');
}

void AppendStreams(const RuleSet& rules, std::string* json) {
  // Session streams under "streams", joins under "joins".
  for (const StreamKind kind : {StreamKind::kSession, StreamKind::kJoin}) {
    json->append(kind == StreamKind::kSession ? ",\"streams\":[" : "],\"joins\":[");
    bool first = true;
    for (const StreamDef& st : rules.streams) {
      if (st.kind != kind) continue;
      if (!first) json->push_back(',');
      first = false;
      json->append("{\"name\":");
      AppendJsonString(st.name, json);
      json->append(",\"key\":");
      AppendJsonString(st.key_path, json);
      if (kind == StreamKind::kSession) {
        StrAppend(json, ",\"gap_ms\":", st.gap, ",\"where\":");
        AppendJsonString(st.where_source, json);
      } else {
        const JoinDef& j = st.join;
        StrAppend(json, ",\"lower_ms\":", j.lower, ",\"upper_ms\":", j.upper, ",\"kind\":\"",
                  j.keep_unmatched_left ? "left" : "inner", "\",\"left_where\":");
        AppendJsonString(j.left_where_source, json);
        json->append(",\"right_where\":");
        AppendJsonString(j.right_where_source, json);
      }
      std::vector<std::string> fields;
      for (int f = 0; f < st.fields.size(); ++f) fields.emplace_back(st.fields.path(f));
      json->append(",\"fields\":");
      AppendStrings(fields, json);
      json->append(",\"help\":");
      AppendJsonString(st.help, json);
      json->push_back('}');
    }
  }
  json->push_back(']');
}

void AppendPos(const SourcePos& pos, std::string* json) {
  json->append(",\"file\":");
  AppendJsonString(pos.file, json);
  StrAppend(json, ",\"line\":", pos.line);
}

void AppendMetric(const RuleSet& rules, const MetricDef& m, ValueFormat format, std::string* json) {
  json->append("{\"name\":");
  AppendJsonString(m.name, json);
  if (m.from >= 0) {
    json->append(",\"from\":");
    AppendJsonString(rules.streams[m.from].name, json);
  }
  json->append(",\"window\":");
  AppendJsonString(m.window.ToString(), json);
  json->append(",\"by\":");
  AppendStrings(m.by, json);
  json->append(",\"where\":");
  AppendJsonString(m.where_source, json);
  json->append(",\"value\":");
  AppendJsonString(m.value_source, json);
  StrAppend(json, ",\"format\":\"", ValueFormatName(format), "\"");
  if (m.target) {
    json->append(",\"target\":{\"op\":");
    AppendJsonString(m.target->OpText(), json);
    json->append(",\"value\":");
    AppendJsonNumber(m.target->value, json);
    json->push_back('}');
  }
  AppendPos(m.pos, json);
  json->append(",\"help\":");
  AppendJsonString(m.help, json);
  json->push_back('}');
}

void AppendAlert(const RuleSet& rules, const AlertDef& a, const DisplayFormats& formats,
                 std::string* json) {
  json->append("{\"name\":");
  AppendJsonString(a.name, json);
  StrAppend(json, ",\"severity\":\"", SeverityName(a.severity), "\",\"expr\":");
  AppendJsonString(a.expr_source, json);
  if (a.has_resolve) {
    json->append(",\"resolve\":");
    AppendJsonString(a.resolve_source, json);
  }
  json->append(",\"for\":");
  AppendJsonString(FormatDuration(a.for_duration), json);
  if (a.keep_firing_for > 0) {
    json->append(",\"keep_firing_for\":");
    AppendJsonString(FormatDuration(a.keep_firing_for), json);
  }
  // The window and format of $value: its first metric's.
  if (!a.metrics.empty()) {
    const MetricDef& first = rules.metrics[a.metrics[0]];
    json->append(",\"metric\":");
    AppendJsonString(first.name, json);
    json->append(",\"window\":");
    AppendJsonString(first.window.ToString(), json);
  }
  const size_t index = &a - rules.alerts.data();
  StrAppend(json, ",\"format\":\"", ValueFormatName(formats.alert[index]), "\"");
  if (std::optional<AlertThreshold> t = FindThreshold(rules, a)) {
    const MetricDef& m = rules.metrics[t->metric];
    json->append(",\"threshold\":{\"metric\":");
    AppendJsonString(m.name, json);
    json->append(",\"window\":");
    AppendJsonString(m.window.ToString(), json);
    StrAppend(json, ",\"op\":\"", t->op, "\",\"value\":");
    AppendJsonNumber(t->value, json);
    StrAppend(json, ",\"format\":\"", ValueFormatName(formats.metric[t->metric]), "\",\"text\":");
    AppendJsonString(FormatValue(t->value, formats.metric[t->metric]), json);
    json->push_back('}');
  }
  std::vector<std::string> inhibitors;
  for (const Inhibition& i : a.inhibited_by) inhibitors.push_back(i.alert);
  json->append(",\"inhibited_by\":");
  AppendStrings(inhibitors, json);
  json->append(",\"labels\":");
  AppendJsonObject(a.labels, json);
  AppendPos(a.pos, json);
  json->push_back('}');
}

}  // namespace

std::string RulesJson(const RuleSet& rules) {
  const DisplayFormats formats = DisplayFormats::Of(rules);
  std::string json = "{\"files\":";
  AppendStrings(rules.files, &json);
  AppendStreams(rules, &json);
  json.append(",\"metrics\":[");
  bool first = true;
  for (size_t i = 0; i < rules.metrics.size(); ++i) {
    if (rules.metrics[i].internal()) continue;  // an experiment's input
    if (!first) json.push_back(',');
    first = false;
    AppendMetric(rules, rules.metrics[i], formats.metric[i], &json);
  }
  json.append("],\"experiments\":");
  AppendExperimentsJson(ExperimentInfos(rules), &json);
  json.append(",\"trackers\":");
  AppendTrackersJson(TrackerInfos(rules), &json);
  json.append(",\"alerts\":[");
  for (size_t i = 0; i < rules.alerts.size(); ++i) {
    if (i) json.push_back(',');
    AppendAlert(rules, rules.alerts[i], formats, &json);
  }
  json.append("]}");
  return json;
}

}  // namespace vigil
