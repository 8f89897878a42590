#include "operators/notify/notify_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "base/strings.h"
#include "operators/net/http_client.h"
#include "operators/notify/ticket_tracker.h"
#include "rules/scopes.h"
#include "rules/yaml_keys.h"

namespace vigil {

std::string_view ReceiverKindName(NotifyReceiver::Kind kind) {
  switch (kind) {
    case NotifyReceiver::Kind::kAlertmanager:
      return "alertmanager";
    case NotifyReceiver::Kind::kPagerDuty:
      return "pagerduty";
    case NotifyReceiver::Kind::kWebhook:
      return "webhook";
    case NotifyReceiver::Kind::kJira:
      return "jira";
    case NotifyReceiver::Kind::kGitHub:
      return "github";
  }
  return "?";
}

const NotifyReceiver* NotifyConfig::FindReceiver(std::string_view name) const {
  for (const NotifyReceiver& r : receivers) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::optional<size_t> ParseNotifySize(std::string_view s) {
  s = Strip(s);
  size_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  std::string_view unit = Strip(std::string_view(p, static_cast<size_t>(s.data() + s.size() - p)));
  static constexpr std::pair<std::string_view, size_t> kUnits[] = {
      {"", 1},         {"B", 1},         {"KB", 1000},       {"KiB", 1024},
      {"MB", 1000000}, {"MiB", 1 << 20}, {"GB", 1000000000}, {"GiB", size_t{1} << 30}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      if (n > SIZE_MAX / mult) return std::nullopt;
      return n * mult;
    }
  }
  return std::nullopt;
}

namespace {

const std::vector<std::string> kTopKeys = {"labels",          "external_url",      "spool",
                                           "resend_interval", "renotify_interval", "timeout",
                                           "retry",           "receivers",         "routes"};
const std::vector<std::string> kSpoolKeys = {"dir", "max_bytes"};
const std::vector<std::string> kRetryKeys = {"initial", "max"};
const std::vector<std::string> kReceiverKeys = {
    "name",         "kind",    "url",        "urls",       "routing_key_env",
    "digest_every", "project", "repo",       "issue_type", "email_env",
    "token_env",    "labels",  "priorities", "summary",    "description"};
const std::vector<std::string> kKinds = {"alertmanager", "pagerduty", "webhook", "jira", "github"};
const std::vector<std::string> kSeverities = {"P1", "P2", "P3", "P4"};

bool IsLabelName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsReceiverName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// A routing key pasted where the variable's name belongs: PagerDuty keys are
// 32 letters and digits, while variable names are shorter or use '_'.
bool LooksLikeSecret(std::string_view s) {
  if (s.size() < 20 || s.find('_') != std::string_view::npos) return false;
  const bool digits = std::any_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
  const bool letters = std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(c); });
  return digits && letters;
}

class NotifyReader {
 public:
  explicit NotifyReader(std::string file) : file_(std::move(file)) {}

  absl::Status Error(const YAML::Node& n, std::string_view msg) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0) return absl::InvalidArgumentError(StrCat(file_, ": ", msg));
    return absl::InvalidArgumentError(StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", msg));
  }

  absl::Status CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                         std::string_view where) const {
    auto e = FindKeyError(map, allowed, where);
    if (!e) return absl::OkStatus();
    if (map.IsMap() && e->at.Scalar() == "routing_key") {
      return Error(e->at,
                   "do not write the routing key into the config file: put it in an "
                   "environment variable and name that with 'routing_key_env'");
    }
    return Error(e->at, e->message);
  }

  absl::Status String(const YAML::Node& n, std::string_view what, std::string* out) const {
    if (!n.IsScalar()) return Error(n, StrCat("'", what, "' must be a single value"));
    *out = n.Scalar();
    return absl::OkStatus();
  }

  absl::Status Duration(const YAML::Node& n, std::string_view what, bool positive,
                        DurationMs* out) const {
    std::optional<DurationMs> d = n.IsScalar() ? ParseDuration(n.Scalar()) : std::nullopt;
    if (!d) return Error(n, StrCat("'", what, "' must be a duration such as 500ms, 30s, 5m"));
    if (positive && *d <= 0) return Error(n, StrCat("'", what, "' must be greater than 0"));
    *out = *d;
    return absl::OkStatus();
  }

  absl::Status Url(const YAML::Node& n, std::string_view what, std::string* out) const {
    if (absl::Status s = String(n, what, out); !s.ok()) return s;
    absl::StatusOr<HttpUrl> u = HttpUrl::Parse(*out);
    if (!u.ok()) {
      return Error(
          n, StrCat("'", what, "' is not an http(s) URL: ", std::string(u.status().message())));
    }
    while (out->size() > 1 && out->back() == '/') out->pop_back();
    return absl::OkStatus();
  }

  absl::Status Read(const YAML::Node& root, NotifyConfig* c) const {
    if (absl::Status s = CheckKeys(root, kTopKeys, "notify"); !s.ok()) return s;
    if (YAML::Node l = root["labels"]) {
      if (absl::Status s = ReadLabels(l, c); !s.ok()) return s;
    }
    if (YAML::Node u = root["external_url"]) {
      if (absl::Status s = Url(u, "external_url", &c->external_url); !s.ok()) return s;
    }
    if (YAML::Node sp = root["spool"]) {
      if (absl::Status s = ReadSpool(sp, c); !s.ok()) return s;
    }
    if (YAML::Node d = root["resend_interval"]) {
      if (absl::Status s = Duration(d, "resend_interval", true, &c->resend_interval); !s.ok())
        return s;
    }
    if (YAML::Node d = root["renotify_interval"]) {
      if (absl::Status s = Duration(d, "renotify_interval", false, &c->renotify_interval); !s.ok())
        return s;
    }
    if (YAML::Node d = root["timeout"]) {
      if (absl::Status s = Duration(d, "timeout", true, &c->timeout); !s.ok()) return s;
    }
    if (YAML::Node r = root["retry"]) {
      if (absl::Status s = ReadRetry(r, c); !s.ok()) return s;
    }
    YAML::Node receivers = root["receivers"];
    if (!receivers) return Error(root, "notify needs a 'receivers' list");
    if (!receivers.IsSequence() || receivers.size() == 0) {
      return Error(receivers, "'receivers' must be a non-empty list");
    }
    for (const YAML::Node& r : receivers) {
      NotifyReceiver receiver;
      if (absl::Status s = ReadReceiver(r, &receiver); !s.ok()) return s;
      if (c->FindReceiver(receiver.name) != nullptr) {
        return Error(r["name"], StrCat("receiver '", receiver.name, "' is declared twice"));
      }
      c->receivers.push_back(std::move(receiver));
    }
    YAML::Node routes = root["routes"];
    if (!routes) return Error(root, "notify needs 'routes', e.g. routes: {P1: [pagerduty]}");
    return ReadRoutes(routes, c);
  }

 private:
  absl::Status ReadLabels(const YAML::Node& l, NotifyConfig* c) const {
    if (!l.IsMap()) return Error(l, "'labels' must be a mapping of label names to values");
    for (const auto& kv : l) {
      const std::string name = kv.first.Scalar();
      if (!IsLabelName(name)) {
        return Error(kv.first, StrCat("'", name, "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"));
      }
      std::string value;
      if (absl::Status s = String(kv.second, StrCat("labels.", name), &value); !s.ok()) return s;
      c->labels[name] = value;
    }
    return absl::OkStatus();
  }

  absl::Status ReadSpool(const YAML::Node& sp, NotifyConfig* c) const {
    if (absl::Status s = CheckKeys(sp, kSpoolKeys, "notify.spool"); !s.ok()) return s;
    if (YAML::Node d = sp["dir"]) {
      if (absl::Status s = String(d, "spool.dir", &c->spool_dir); !s.ok()) return s;
    }
    if (YAML::Node m = sp["max_bytes"]) {
      std::optional<size_t> b = m.IsScalar() ? ParseNotifySize(m.Scalar()) : std::nullopt;
      if (!b) return Error(m, "'spool.max_bytes' must be a size such as 64MiB or 1048576");
      if (*b < 4096) return Error(m, "'spool.max_bytes' must be at least 4KiB");
      c->spool_max_bytes = *b;
    }
    return absl::OkStatus();
  }

  absl::Status ReadRetry(const YAML::Node& r, NotifyConfig* c) const {
    if (absl::Status s = CheckKeys(r, kRetryKeys, "notify.retry"); !s.ok()) return s;
    if (YAML::Node d = r["initial"]) {
      if (absl::Status s = Duration(d, "retry.initial", true, &c->retry_initial); !s.ok()) return s;
    }
    if (YAML::Node d = r["max"]) {
      if (absl::Status s = Duration(d, "retry.max", true, &c->retry_max); !s.ok()) return s;
    }
    if (c->retry_max < c->retry_initial) {
      return Error(r, "'retry.max' must not be smaller than 'retry.initial'");
    }
    return absl::OkStatus();
  }

  absl::Status ReadKind(const YAML::Node& r, NotifyReceiver* out) const {
    YAML::Node k = r["kind"];
    if (!k)
      return Error(r,
                   StrCat("receiver '", out->name,
                          "' needs a 'kind' (alertmanager, pagerduty, webhook, jira or github)"));
    std::string kind;
    if (absl::Status s = String(k, "kind", &kind); !s.ok()) return s;
    if (kind == "alertmanager") {
      out->kind = NotifyReceiver::Kind::kAlertmanager;
    } else if (kind == "pagerduty") {
      out->kind = NotifyReceiver::Kind::kPagerDuty;
    } else if (kind == "webhook") {
      out->kind = NotifyReceiver::Kind::kWebhook;
    } else if (kind == "jira") {
      out->kind = NotifyReceiver::Kind::kJira;
    } else if (kind == "github") {
      out->kind = NotifyReceiver::Kind::kGitHub;
    } else {
      std::string s = Suggest(kind, kKinds);
      return Error(k, StrCat("unknown receiver kind '", kind, "'",
                             s.empty() ? "; use alertmanager, pagerduty, webhook, jira or github"
                                       : StrCat("; did you mean '", s, "'?")));
    }
    return absl::OkStatus();
  }

  absl::Status ReadUrls(const YAML::Node& r, NotifyReceiver* out) const {
    YAML::Node url = r["url"], urls = r["urls"];
    if (url && urls) return Error(urls, "give either 'url' or 'urls', not both");
    if (url) {
      std::string u;
      if (absl::Status s = Url(url, "url", &u); !s.ok()) return s;
      out->urls.push_back(u);
    } else if (urls) {
      if (!urls.IsSequence() || urls.size() == 0) {
        return Error(urls, "'urls' must be a non-empty list of URLs");
      }
      for (const YAML::Node& n : urls) {
        std::string u;
        if (absl::Status s = Url(n, "urls", &u); !s.ok()) return s;
        if (std::find(out->urls.begin(), out->urls.end(), u) != out->urls.end()) {
          return Error(n, StrCat("URL '", HttpUrl::Redact(u), "' is listed twice"));
        }
        out->urls.push_back(u);
      }
    }
    const bool many_ok = out->kind == NotifyReceiver::Kind::kAlertmanager;
    if (out->urls.empty()) {
      if (out->kind == NotifyReceiver::Kind::kPagerDuty) {
        out->urls.emplace_back(kPagerDutyEventsUrl);
      } else if (out->kind == NotifyReceiver::Kind::kGitHub) {
        out->urls.emplace_back(kGitHubApiUrl);
      } else {
        return Error(r,
                     StrCat("receiver '", out->name, "' needs ", many_ok ? "'urls'" : "a 'url'"));
      }
    }
    if (!many_ok && out->urls.size() > 1) {
      return Error(urls, StrCat("a ", ReceiverKindName(out->kind),
                                " receiver takes one URL; only alertmanager takes several"));
    }
    return absl::OkStatus();
  }

  absl::Status ReadReceiver(const YAML::Node& r, NotifyReceiver* out) const {
    if (absl::Status s = CheckKeys(r, kReceiverKeys, "a receiver"); !s.ok()) return s;
    YAML::Node name = r["name"];
    if (!name) return Error(r, "a receiver needs a 'name'");
    if (absl::Status s = String(name, "name", &out->name); !s.ok()) return s;
    if (!IsReceiverName(out->name)) {
      return Error(name, StrCat("receiver name '", out->name,
                                "' may only hold letters, digits, '_', '-' and '.'"));
    }
    if (absl::Status s = ReadKind(r, out); !s.ok()) return s;
    if (absl::Status s = ReadUrls(r, out); !s.ok()) return s;
    const bool pagerduty = out->kind == NotifyReceiver::Kind::kPagerDuty;
    if (YAML::Node env = r["routing_key_env"]) {
      if (!pagerduty) return Error(env, "'routing_key_env' is for pagerduty receivers only");
      // The value is never echoed: it may be the secret itself.
      if (!env.IsScalar() || !IsLabelName(env.Scalar()) || LooksLikeSecret(env.Scalar())) {
        return Error(env,
                     "'routing_key_env' must be the NAME of an environment variable holding the "
                     "routing key (e.g. PAGERDUTY_ROUTING_KEY), not the key itself");
      }
      out->routing_key_env = env.Scalar();
    } else if (pagerduty) {
      return Error(r, StrCat("pagerduty receiver '", out->name,
                             "' needs 'routing_key_env' (the environment variable holding the "
                             "routing key)"));
    }
    if (YAML::Node d = r["digest_every"]) {
      if (out->kind != NotifyReceiver::Kind::kWebhook) {
        return Error(d, "'digest_every' is for webhook receivers only");
      }
      if (absl::Status s = Duration(d, "digest_every", true, &out->digest_every); !s.ok()) return s;
    }
    return ReadTicketKeys(r, out);
  }

  // `what` names an environment variable; the value is never echoed.
  absl::Status EnvName(const YAML::Node& n, std::string_view what, std::string* out) const {
    if (!n.IsScalar() || !IsLabelName(n.Scalar()) || LooksLikeSecret(n.Scalar())) {
      return Error(n, StrCat("'", what,
                             "' must be the NAME of an environment variable (e.g. "
                             "JIRA_API_TOKEN), not the secret itself"));
    }
    *out = n.Scalar();
    return absl::OkStatus();
  }

  absl::Status Text(const YAML::Node& n, std::string_view what, std::string* out) const {
    if (absl::Status s = String(n, what, out); !s.ok()) return s;
    std::string error;
    size_t pos = 0;
    if (!TicketText::Parse(*out, &error, &pos)) {
      return Error(n, StrCat("'", what, "' at byte ", pos + 1, ": ", error));
    }
    return absl::OkStatus();
  }

  absl::Status ReadTicketKeys(const YAML::Node& r, NotifyReceiver* out) const {
    const bool jira = out->kind == NotifyReceiver::Kind::kJira;
    if (!out->ticket()) {
      for (const char* key : {"project", "repo", "issue_type", "email_env", "token_env", "labels",
                              "priorities", "summary", "description"}) {
        if (YAML::Node n = r[key]) {
          return Error(n, StrCat("'", key, "' is for jira and github receivers only"));
        }
      }
      return absl::OkStatus();
    }
    const char* where = jira ? "project" : "repo";
    if (YAML::Node wrong = r[jira ? "repo" : "project"]) {
      return Error(wrong, jira ? "a jira receiver takes 'project' (the project key), not 'repo'"
                               : "a github receiver takes 'repo' (owner/name), not 'project'");
    }
    YAML::Node p = r[where];
    if (!p) {
      return Error(r, StrCat(ReceiverKindName(out->kind), " receiver '", out->name, "' needs '",
                             where, "'", jira ? " (the project key, e.g. KB)" : " (owner/name)"));
    }
    if (absl::Status s = String(p, where, &out->project); !s.ok()) return s;
    const bool valid =
        jira
            ? IsLabelName(out->project)
            : std::count(out->project.begin(), out->project.end(), '/') == 1 &&
                  IsReceiverName(
                      std::string_view(out->project).substr(0, out->project.find('/'))) &&
                  IsReceiverName(std::string_view(out->project).substr(out->project.find('/') + 1));
    if (!valid) {
      return Error(p, jira ? "'project' must be a Jira project key such as KB"
                           : "'repo' must be owner/name, e.g. acme/knowledge-base");
    }
    if (YAML::Node n = r["issue_type"]) {
      if (!jira) return Error(n, "'issue_type' is for jira receivers only");
      if (absl::Status s = String(n, "issue_type", &out->issue_type); !s.ok()) return s;
    }
    if (YAML::Node n = r["email_env"]) {
      if (!jira) return Error(n, "'email_env' is for jira receivers only (github takes a token)");
      if (absl::Status s = EnvName(n, "email_env", &out->email_env); !s.ok()) return s;
    }
    YAML::Node token = r["token_env"];
    if (!token) {
      return Error(r, StrCat(ReceiverKindName(out->kind), " receiver '", out->name,
                             "' needs 'token_env' (the environment variable holding the API "
                             "token)"));
    }
    if (absl::Status s = EnvName(token, "token_env", &out->token_env); !s.ok()) return s;
    if (YAML::Node l = r["labels"]) {
      if (!l.IsSequence()) return Error(l, "'labels' must be a list of ticket labels");
      for (const YAML::Node& n : l) {
        std::string label;
        if (absl::Status s = String(n, "labels", &label); !s.ok()) return s;
        if (label.empty() || label.find_first_of(" \t\n") != std::string::npos) {
          return Error(n, "a ticket label must be a word without spaces");
        }
        out->ticket_labels.push_back(label);
      }
    }
    if (YAML::Node pr = r["priorities"]) {
      if (!jira) return Error(pr, "'priorities' is for jira receivers only");
      if (absl::Status s = CheckKeys(pr, kSeverities, "priorities"); !s.ok()) return s;
      for (const auto& kv : pr) {
        const size_t severity = static_cast<size_t>(kv.first.Scalar()[1] - '0');
        if (absl::Status s = String(kv.second, "priorities", &out->priorities[severity]); !s.ok())
          return s;
      }
    }
    if (YAML::Node n = r["summary"]) {
      if (absl::Status s = Text(n, "summary", &out->summary_template); !s.ok()) return s;
    }
    if (YAML::Node n = r["description"]) {
      if (absl::Status s = Text(n, "description", &out->description_template); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ReadRoutes(const YAML::Node& routes, NotifyConfig* c) const {
    if (!routes.IsMap()) return Error(routes, "'notify.routes' must be a mapping");
    std::vector<std::string> names;
    for (const NotifyReceiver& r : c->receivers) names.push_back(r.name);
    bool any = false;
    for (const auto& kv : routes) {
      const std::string key = kv.first.Scalar();
      const bool severity =
          std::find(kSeverities.begin(), kSeverities.end(), key) != kSeverities.end();
      if (!severity && !IsLabelName(key)) {
        return Error(kv.first, StrCat("route key '", key,
                                      "' is neither a severity (P1..P4) nor an alert name"));
      }
      if (!severity && key.size() == 2 && (key[0] == 'P' || key[0] == 'p')) {
        return Error(kv.first, StrCat("'", key, "' is not a severity; use P1, P2, P3 or P4"));
      }
      std::vector<std::string>& route =
          severity ? c->routes[static_cast<size_t>(key[1] - '0')] : c->alert_routes[key];
      if (!severity) {
        const YAML::Mark m = kv.first.Mark();
        c->alert_route_pos[key] =
            m.line < 0 ? file_ : StrCat(file_, ":", m.line + 1, ":", m.column + 1);
      }
      std::vector<YAML::Node> items;
      if (kv.second.IsScalar()) {
        items.push_back(kv.second);
      } else if (kv.second.IsSequence()) {
        for (const YAML::Node& n : kv.second) items.push_back(n);
      } else {
        return Error(kv.second, "a route must be a list of receiver names");
      }
      for (const YAML::Node& n : items) {
        std::string name;
        if (absl::Status s = String(n, "routes", &name); !s.ok()) return s;
        if (c->FindReceiver(name) == nullptr) {
          std::string s = Suggest(name, names);
          return Error(n, StrCat("unknown receiver '", name, "'",
                                 s.empty() ? StrCat(" (declared: ", StrJoin(names, ", "), ")")
                                           : StrCat("; did you mean '", s, "'?")));
        }
        if (std::find(route.begin(), route.end(), name) != route.end()) {
          return Error(n, StrCat("receiver '", name, "' is routed twice for ", key));
        }
        route.push_back(name);
        any = true;
      }
    }
    if (!any) return Error(routes, "no severity or alert is routed to any receiver");
    return absl::OkStatus();
  }

  std::string file_;
};

}  // namespace

absl::Status CheckAlertRoutes(const NotifyConfig& c, const std::vector<std::string>& alerts) {
  for (const auto& [name, receivers] : c.alert_routes) {
    if (std::find(alerts.begin(), alerts.end(), name) != alerts.end()) continue;
    auto pos = c.alert_route_pos.find(name);
    const std::string s = Suggest(name, alerts);
    return absl::InvalidArgumentError(
        StrCat(pos == c.alert_route_pos.end() ? std::string("notify") : pos->second, ": route '",
               name, "' is neither a severity nor an alert of the rules",
               s.empty() ? std::string() : StrCat("; did you mean '", s, "'?")));
  }
  return absl::OkStatus();
}

absl::StatusOr<NotifyConfig> ParseNotifyConfig(const YAML::Node& node, const std::string& file) {
  NotifyConfig config;
  NotifyReader reader(file);
  try {
    if (absl::Status s = reader.Read(node, &config); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        StrCat(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return config;
}

}  // namespace vigil
