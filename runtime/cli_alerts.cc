// `vigil alerts`: the pending and firing alerts of a running job, read from
// its /api/alerts endpoint, as a table or as the endpoint's JSON array.
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/net/http_client.h"
#include "runtime/cli_args.h"

namespace vigil::cli {
namespace {

std::string StringField(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

std::string ValueField(simdjson::dom::element e) {
  double v;
  if (e["value"].get(v) != simdjson::SUCCESS) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// The labels that tell alerts of one rule apart: all but alertname and
// severity, which have their own columns.
std::string LabelsField(simdjson::dom::element e) {
  simdjson::dom::object labels;
  if (e["labels"].get(labels) != simdjson::SUCCESS) return "{}";
  std::string out = "{";
  for (auto [key, value] : labels) {
    if (key == "alertname" || key == "severity") continue;
    std::string_view v;
    if (value.get(v) != simdjson::SUCCESS) continue;
    if (out.size() > 1) out += ",";
    AppendLabel(key, v, &out);
  }
  return out + "}";
}

// Whether receivers got the alert: "-" while pending; "no: inhibited by X"
// or "no: silenced by S" while held back; "yes" once sent, noting an
// inhibition or silence that began after.
std::string NotifiedField(simdjson::dom::element e, std::string_view state) {
  if (state != "firing") return "-";
  bool notify = true;
  if (e["notify"].get(notify) != simdjson::SUCCESS) notify = true;
  std::string why;
  const std::string inhibitor = StringField(e, "inhibited_by");
  const std::string silence = StringField(e, "silenced_by");
  if (!inhibitor.empty()) why = StrCat("inhibited by ", inhibitor);
  if (!silence.empty()) StrAppend(&why, why.empty() ? "" : " and ", "silenced by ", silence);
  if (!notify) return why.empty() ? "no" : StrCat("no: ", why);
  return why.empty() ? "yes" : StrCat("yes, now ", why);
}

// Columns padded to their widest cell; the last one is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Utf8Length(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - Utf8Length(row[i]) + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace

int Alerts(int argc, char** argv) {
  std::string url_text = "http://127.0.0.1:9464", err, v;
  bool json = false;
  Args a(argc, argv, 2);
  while (!a.Done()) {
    if (a.Value("--url", &v, &err)) {
      url_text = v;
    } else if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "json") err = "--output must be text or json";
      json = v == "json";
    } else {
      return Usage(a.Unknown("alerts"));
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (!HttpUrl::Parse(url_text).ok()) return Usage(StrCat("--url: '", url_text, "' is not a URL"));
  std::optional<std::string> body = FetchFromJob(url_text, "/api/alerts");
  if (!body) return 1;
  const std::string where = StrCat(url_text, url_text.back() == '/' ? "" : "/", "api/alerts");
  simdjson::dom::parser parser;
  simdjson::dom::array alerts;
  if (parser.parse(*body).get(alerts) != simdjson::SUCCESS) {
    std::fprintf(stderr, "vigil: %s did not answer with a JSON array of alerts\n", where.c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", body->c_str());
    return 0;
  }
  if (alerts.size() == 0) {
    std::printf("no pending or firing alerts\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"STATE", "SEVERITY", "ALERT", "VALUE", "SINCE", "NOTIFIED", "LABELS", "SUMMARY"}};
  for (simdjson::dom::element e : alerts) {
    const std::string state = StringField(e, "state");
    // Firing: since it fired; pending: since its condition first held.
    std::string since = state == "firing" ? StringField(e, "fired_at") : "";
    if (since.empty()) since = StringField(e, "active_since");
    simdjson::dom::element annotations;
    // On one line, without control characters: an event's field value in
    // it must not break the row or reach the terminal.
    std::string summary;
    if (e["annotations"].get(annotations) == simdjson::SUCCESS) {
      AppendOneLine(StringField(annotations, "summary"), &summary);
    }
    rows.push_back({state, StringField(e, "severity"), StringField(e, "alert"), ValueField(e),
                    since.empty() ? "-" : since, NotifiedField(e, state), LabelsField(e), summary});
  }
  Print(Table(rows));
  return 0;
}

}  // namespace vigil::cli
