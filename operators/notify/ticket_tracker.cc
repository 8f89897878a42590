#include "operators/notify/ticket_tracker.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "base/strings.h"
#include "base/time.h"

namespace vigil {

namespace {

const std::vector<std::string_view> kPlainVars = {"value",   "severity", "window", "condition",
                                                  "firedAt", "at",       "url"};

std::string NumberText(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, static_cast<size_t>(p - buf));
}

// The default description: what an engineer needs to act on the ticket.
std::string DefaultDescription(const Notification& a, const PayloadContext& ctx) {
  std::string out;
  if (std::string_view s = a.Annotation("summary"); !s.empty()) StrAppend(&out, s, "\n\n");
  StrAppend(&out, "Alert: ", a.labels.contains("alertname") ? a.labels.at("alertname") : "?", " (P",
            a.severity, ")\n");
  if (!a.condition.empty()) {
    StrAppend(&out, "Condition: ", a.condition, a.window.empty() ? "" : " over ", a.window, "\n");
  }
  StrAppend(&out, "Value: ", NumberText(a.value), "\n");
  StrAppend(&out, "Firing since: ", FormatTimestamp(a.fired_at), "\n");
  out += "Labels:\n";
  for (const auto& [k, v] : a.labels) StrAppend(&out, "  ", k, " = ", v, "\n");
  for (const auto& [k, v] : a.annotations) {
    if (k != "summary") StrAppend(&out, k, ": ", v, "\n");
  }
  if (std::string url = GeneratorUrl(ctx.external_url, a.fingerprint); !url.empty()) {
    StrAppend(&out, "Source: ", url, "\n");
  }
  return out;
}

std::string ResolvedComment(const Notification& a) {
  // The value that resolved it, when known, and the one it fired with.
  const std::string values = a.resolved_value ? StrCat("value ", NumberText(*a.resolved_value),
                                                       "; it fired with ", NumberText(a.value))
                                              : StrCat("value ", NumberText(a.value));
  return StrCat("Resolved at ", FormatTimestamp(a.at), " (", values,
                "). The ticket stays open until closed here; while it is open, vigil opens no "
                "second ticket for this alert.");
}

// simdjson needs padding: parse a copy.
bool ParseJson(simdjson::dom::parser* parser, std::string_view body, simdjson::dom::element* out) {
  return parser->parse(simdjson::padded_string(body)).get(*out) == simdjson::SUCCESS;
}

std::optional<std::string> KeyText(simdjson::dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS && !s.empty()) return std::string(s);
  int64_t n = 0;
  if (e.get_int64().get(n) == simdjson::SUCCESS) return StrCat(n);
  return std::nullopt;
}

}  // namespace

std::optional<TicketText> TicketText::Parse(std::string_view text, std::string* error,
                                            size_t* pos) {
  TicketText t;
  t.source_ = std::string(text);
  size_t i = 0;
  while (true) {
    const size_t open = text.find("{{", i);
    Part part;
    if (open == std::string_view::npos) {
      part.literal = std::string(text.substr(i));
      t.parts_.push_back(std::move(part));
      return t;
    }
    part.literal = std::string(text.substr(i, open - i));
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      *error = "'{{' without a closing '}}'";
      *pos = open;
      return std::nullopt;
    }
    std::string_view action = Strip(text.substr(open + 2, close - open - 2));
    if (!action.starts_with('$')) {
      *error = StrCat("'{{ ", action, " }}' is not a variable; use $labels.NAME, ",
                      "$annotations.NAME, $value, $severity, $window, $condition, $firedAt, $at "
                      "or $url");
      *pos = open;
      return std::nullopt;
    }
    action.remove_prefix(1);
    const size_t dot = action.find('.');
    std::string_view head = action.substr(0, dot);
    if (dot != std::string_view::npos && (head == "labels" || head == "annotations")) {
      part.var = std::string(head);
      part.name = std::string(action.substr(dot + 1));
      if (part.name.empty()) {
        *error = StrCat("'$", head, ".' needs a name");
        *pos = open;
        return std::nullopt;
      }
    } else if (dot == std::string_view::npos &&
               std::find(kPlainVars.begin(), kPlainVars.end(), head) != kPlainVars.end()) {
      part.var = std::string(head);
    } else {
      *error = StrCat("unknown variable '$", action, "'; use $labels.NAME, $annotations.NAME, ",
                      "$value, $severity, $window, $condition, $firedAt, $at or $url");
      *pos = open;
      return std::nullopt;
    }
    t.parts_.push_back(std::move(part));
    i = close + 2;
  }
}

std::string TicketText::Render(const Notification& a, const PayloadContext& ctx) const {
  std::string out;
  for (const Part& p : parts_) {
    out += p.literal;
    if (p.var.empty()) continue;
    if (p.var == "labels") {
      if (auto it = a.labels.find(p.name); it != a.labels.end()) out += it->second;
    } else if (p.var == "annotations") {
      out += a.Annotation(p.name);
    } else if (p.var == "value") {
      out += NumberText(a.value);
    } else if (p.var == "severity") {
      StrAppend(&out, "P", a.severity);
    } else if (p.var == "window") {
      out += a.window;
    } else if (p.var == "condition") {
      out += a.condition;
    } else if (p.var == "firedAt") {
      AppendTimestamp(a.fired_at, &out);
    } else if (p.var == "at") {
      AppendTimestamp(a.at, &out);
    } else if (p.var == "url") {
      out += GeneratorUrl(ctx.external_url, a.fingerprint);
    }
  }
  return out;
}

TicketTracker::TicketTracker(const NotifyReceiver& receiver, std::string base_target)
    : receiver_(receiver),
      jira_(receiver.kind == NotifyReceiver::Kind::kJira),
      base_(std::move(base_target)) {
  base_ = base_.substr(0, base_.find('?'));
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::string TicketTracker::FingerprintLabel(std::string_view fingerprint) {
  return StrCat("vigil-", fingerprint);
}

HttpHeaders TicketTracker::Headers(const std::string& auth) const {
  HttpHeaders h = {{"Content-Type", "application/json"}, {"Authorization", auth}};
  if (jira_) {
    h.emplace_back("Accept", "application/json");
  } else {
    h.emplace_back("Accept", "application/vnd.github+json");
    h.emplace_back("X-GitHub-Api-Version", "2022-11-28");
  }
  return h;
}

std::string TicketTracker::IssuePath(std::string_view key) const {
  if (jira_) return StrCat(base_, "/rest/api/2/issue/", PercentEncode(key));
  return StrCat(base_, "/repos/", receiver_.project, "/issues/", PercentEncode(key));
}

TicketRequest TicketTracker::Get(std::string_view key) const {
  if (jira_) return {"GET", IssuePath(key) + "?fields=status", ""};
  return {"GET", IssuePath(key), ""};
}

TicketRequest TicketTracker::Search(std::string_view fingerprint) const {
  const std::string label = FingerprintLabel(fingerprint);
  if (jira_) {
    const std::string jql = StrCat("project = \"", receiver_.project, "\" AND labels = \"", label,
                                   "\" AND statusCategory != Done ORDER BY created DESC");
    return {
        "GET",
        StrCat(base_, "/rest/api/2/search?jql=", PercentEncode(jql), "&fields=key&maxResults=1"),
        ""};
  }
  const std::string q =
      StrCat("repo:", receiver_.project, " is:issue is:open label:\"", label, "\"");
  return {"GET", StrCat(base_, "/search/issues?q=", PercentEncode(q), "&per_page=1"), ""};
}

TicketRequest TicketTracker::Create(const Notification& a, const PayloadContext& ctx) const {
  std::string error;
  size_t pos = 0;
  std::string summary, description;
  if (!receiver_.summary_template.empty()) {
    if (auto t = TicketText::Parse(receiver_.summary_template, &error, &pos)) {
      summary = t->Render(a, ctx);
    }
  } else {
    summary = std::string(a.Annotation("summary"));
  }
  if (Strip(summary).empty()) {
    summary = a.labels.contains("alertname") ? a.labels.at("alertname") : "vigil alert";
  }
  for (char& c : summary) {
    if (c == '\n' || c == '\r') c = ' ';  // Jira: "summary must be a single line"
  }
  if (summary.size() > 250) summary.resize(250);  // Jira's limit is 255 characters
  if (!receiver_.description_template.empty()) {
    if (auto t = TicketText::Parse(receiver_.description_template, &error, &pos)) {
      description = t->Render(a, ctx);
    }
  } else {
    description = DefaultDescription(a, ctx);
  }
  std::vector<std::string> labels = receiver_.ticket_labels;
  labels.push_back(FingerprintLabel(a.fingerprint));
  std::string body;
  if (jira_) {
    body = "{\"fields\":{\"project\":{\"key\":";
    AppendJsonString(receiver_.project, &body);
    body += "},\"issuetype\":{\"name\":";
    AppendJsonString(receiver_.issue_type, &body);
    body += "}";
    const std::string& priority = receiver_.priorities[static_cast<size_t>(a.severity)];
    if (!priority.empty()) {
      body += ",\"priority\":{\"name\":";
      AppendJsonString(priority, &body);
      body += "}";
    }
    body += ",\"summary\":";
    AppendJsonString(summary, &body);
    body += ",\"description\":";
    AppendJsonString(description, &body);
  } else {
    body = "{\"title\":";
    AppendJsonString(summary, &body);
    body += ",\"body\":";
    AppendJsonString(description, &body);
  }
  body += ",\"labels\":[";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) body.push_back(',');
    AppendJsonString(labels[i], &body);
  }
  body += jira_ ? "]}}" : "]}";
  if (jira_) return {"POST", StrCat(base_, "/rest/api/2/issue"), body};
  return {"POST", StrCat(base_, "/repos/", receiver_.project, "/issues"), body};
}

TicketRequest TicketTracker::Comment(std::string_view key, const Notification& a,
                                     const PayloadContext&) const {
  std::string body = "{\"body\":";
  AppendJsonString(ResolvedComment(a), &body);
  body.push_back('}');
  return {"POST", IssuePath(key) + (jira_ ? "/comment" : "/comments"), body};
}

std::optional<bool> TicketTracker::IsOpen(std::string_view body) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!ParseJson(&parser, body, &doc)) return std::nullopt;
  std::string_view s;
  if (jira_) {
    if (doc.at_pointer("/fields/status/statusCategory/key").get_string().get(s) !=
        simdjson::SUCCESS) {
      return std::nullopt;
    }
    return s != "done";
  }
  if (doc["state"].get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s != "closed";
}

std::optional<std::string> TicketTracker::FoundKey(std::string_view body) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!ParseJson(&parser, body, &doc)) return std::nullopt;
  simdjson::dom::array items;
  if (doc[jira_ ? "issues" : "items"].get_array().get(items) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  for (simdjson::dom::element item : items) {
    simdjson::dom::element key;
    if (item[jira_ ? "key" : "number"].get(key) != simdjson::SUCCESS) return std::nullopt;
    return KeyText(key);
  }
  return std::string();
}

std::optional<std::string> TicketTracker::CreatedKey(std::string_view body) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, key;
  if (!ParseJson(&parser, body, &doc)) return std::nullopt;
  if (doc[jira_ ? "key" : "number"].get(key) != simdjson::SUCCESS) return std::nullopt;
  return KeyText(key);
}

std::string TicketTracker::ErrorText(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!ParseJson(&parser, body, &doc)) return "";
  std::vector<std::string> parts;
  simdjson::dom::array messages;
  if (doc["errorMessages"].get_array().get(messages) == simdjson::SUCCESS) {
    for (simdjson::dom::element m : messages) {
      std::string_view s;
      if (m.get_string().get(s) == simdjson::SUCCESS) parts.emplace_back(s);
    }
  }
  simdjson::dom::object errors;
  if (doc["errors"].get_object().get(errors) == simdjson::SUCCESS) {
    for (auto field : errors) {
      std::string_view s;
      if (field.value.get_string().get(s) == simdjson::SUCCESS) {
        parts.push_back(StrCat(field.key, ": ", s));
      }
    }
  }
  std::string_view message;
  if (doc["message"].get_string().get(message) == simdjson::SUCCESS) parts.emplace_back(message);
  return StrJoin(parts, "; ");
}

}  // namespace vigil
