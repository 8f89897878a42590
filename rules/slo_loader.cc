// `slos:` entries: validated where the user wrote them, then compiled into
// metrics that share one pane store and the burn-rate alerts over them
// (rules/rule_set.h, SloDef).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>

#include "rules/file_loader.h"

namespace vigil {
namespace {

const std::vector<std::string> kSloKeys = {"slo",        "objective", "window",     "good",
                                           "valid",      "from",      "by",         "alerting",
                                           "burn_rates", "labels",    "annotations"};
const std::vector<std::string> kBurnKeys = {"long", "short", "factor", "alert"};

constexpr DurationMs kDay = 86'400'000;

// The SRE Workbook's table: page on 2% of a 30-day budget in an hour or 5%
// in six hours, ticket on 10% in three days.
std::vector<BurnRateRule> DefaultBurnRates() {
  return {{3'600'000, 300'000, 14.4, true},
          {6 * 3'600'000, 1'800'000, 6, true},
          {3 * kDay, 6 * 3'600'000, 1, false}};
}

// "99.5%" or 0.995.
std::optional<double> ParseObjective(std::string_view s) {
  s = Strip(s);
  const bool percent = !s.empty() && s.back() == '%';
  if (percent) s.remove_suffix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  if (percent) v /= 100;
  if (!(v > 0 && v < 1)) return std::nullopt;
  return v;
}

// chat-latency -> ChatLatency (alert names), chat_latency (metric names).
std::string Camel(std::string_view name) {
  std::string out;
  bool up = true;
  for (char c : name) {
    if (c == '-' || c == '_') {
      up = true;
      continue;
    }
    out.push_back(up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    up = false;
  }
  return out;
}
std::string Snake(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

// The shortest text that reads back as `v`: 14.4, 0.995, 10.
std::string Number(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Durations for people: whole days as days ("30d", not "4w2d").
std::string DurationText(DurationMs d) {
  return d % kDay == 0 ? StrCat(d / kDay, "d") : FormatDuration(d);
}

std::string WindowText(DurationMs size, DurationMs pane) {
  if (size == pane) return StrCat("tumbling ", FormatDuration(size));
  return StrCat("sliding ", FormatDuration(size), " every ", FormatDuration(pane));
}

bool ValidSloName(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Compiles a `good:` or `valid:` condition where it stands, so that a
// mistake is reported at its own position before it is built into metrics.
bool CheckCondition(FileLoader& f, const YAML::Node& n, const char* key, RuleSet* rules,
                    const std::string& from) {
  if (!f.Scalar(n, key, false, "an SLO")) return false;
  Program scratch;
  if (!from.empty()) {
    std::optional<int> idx = rules->FindStream(from);
    if (!idx) return true;  // reported by the metric, at 'from'
    StreamScope scope(&rules->streams[*idx].fields, from);
    return CompileExpr(f, n[key], &scope, Type::kBool, &scratch);
  }
  EventScope scope(&rules->fields);
  return CompileExpr(f, n[key], &scope, Type::kBool, &scratch);
}

bool LoadBurnRates(FileLoader& f, const YAML::Node& n, const SloDef& slo,
                   std::vector<BurnRateRule>* out) {
  if (!n) {
    *out = DefaultBurnRates();
    return true;
  }
  if (!n.IsSequence() || n.size() == 0) {
    f.Error(n, "'burn_rates' must be a list of {long, short, factor, alert: page|ticket}");
    return false;
  }
  bool ok = true;
  for (const auto& item : n) {
    if (!item.IsMap()) {
      f.Error(item, "a burn rate is a mapping {long: 1h, short: 5m, factor: 14.4, alert: page}");
      ok = false;
      continue;
    }
    f.CheckKeys(item, kBurnKeys, "burn rate");
    BurnRateRule r;
    for (const char* key : {"long", "short"}) {
      std::optional<std::string> d = f.Scalar(item, key, true, "a burn rate");
      std::optional<DurationMs> ms = d ? ParseDuration(*d) : std::nullopt;
      if (d && (!ms || *ms <= 0)) f.Error(item[key], StrCat("'", *d, "' is not a duration"));
      if (!ms || *ms <= 0) {
        ok = false;
        continue;
      }
      (std::string_view(key) == "long" ? r.long_window : r.short_window) = *ms;
    }
    std::optional<std::string> factor = f.Scalar(item, "factor", true, "a burn rate");
    const char* fs = factor ? factor->c_str() : "";
    char* end = nullptr;
    r.factor = std::strtod(fs, &end);
    if (factor && (end == fs || *end != '\0' || !(r.factor > 0))) {
      f.Error(item["factor"],
              "'factor' must be a number above 0 (14.4: the budget of 30 days "
              "spent in about 2)");
      ok = false;
    } else if (factor && !slo.CanFire(r.factor)) {
      const bool all = r.factor * slo.ErrorBudget() == 1;
      f.Error(item["factor"],
              StrCat("a burn rate of ", *factor, " needs ",
                     all ? "every event" : "more than all events", " to be bad with objective ",
                     Number(slo.objective * 100), "%, and a pair fires only above its factor; ",
                     "it can never fire (at most ", Number(1 / slo.ErrorBudget()), ")"));
      ok = false;
    }
    if (std::optional<std::string> a = f.Scalar(item, "alert", true, "a burn rate")) {
      if (*a != "page" && *a != "ticket") {
        f.Error(item["alert"], "'alert' must be page or ticket");
        ok = false;
      }
      r.page = *a == "page";
    } else {
      ok = false;
    }
    if (r.long_window > 0 && r.short_window >= r.long_window) {
      f.Error(item["short"], "the short window must be shorter than the long one");
      ok = false;
    }
    if (r.long_window > slo.window) {
      f.Error(item["long"], StrCat("the long window is longer than the SLO's window (",
                                   DurationText(slo.window), ")"));
      ok = false;
    }
    out->push_back(r);
  }
  return ok;
}

// The synthesized definition of one SLO metric: the user's `where`, `by`
// and `from` nodes (their positions kept), a generated value.
YAML::Node MetricNode(const YAML::Node& n, const std::string& name, const std::string& help,
                      const std::string& window, const std::string& value) {
  YAML::Node m(YAML::NodeType::Map);
  m["metric"] = name;
  m["help"] = help;
  if (n["valid"]) m["where"] = n["valid"];
  if (n["from"]) m["from"] = n["from"];
  if (n["by"]) m["by"] = n["by"];
  m["window"] = window;
  m["value"] = value;
  m["export"] = "true";
  return m;
}

// The error budget as an exact fraction: ErrorBudget() keeps 12 decimals.
std::optional<MetricDef::RatioDivisor> BudgetFraction(const SloDef& slo) {
  constexpr uint64_t kScale = 1'000'000'000'000;
  const auto budget = static_cast<uint64_t>(std::llround(slo.ErrorBudget() * 1e12));
  if (budget == 0) return std::nullopt;  // an objective within 1e-12 of 100%
  const uint64_t g = std::gcd(budget, kScale);
  return MetricDef::RatioDivisor{budget / g, kScale / g};
}

// Adds one metric; its index, or -1 after an error (already reported).
int AddMetric(FileLoader& f, const YAML::Node& node, const SloDef& slo, RuleSet* rules) {
  const size_t before = rules->metrics.size();
  LoadMetric(f, node, rules);
  if (rules->metrics.size() == before) return -1;
  rules->metrics.back().pane_group = StrCat("slo:", slo.name);
  rules->metrics.back().pos = slo.pos;
  return static_cast<int>(before);
}

YAML::Node AlertNode(const YAML::Node& n, const SloDef& slo, bool page, const std::string& severity,
                     const std::string& expr) {
  YAML::Node a(YAML::NodeType::Map);
  a["alert"] = StrCat(Camel(slo.name), page ? "FastBurn" : "SlowBurn");
  a["severity"] = severity;
  a["expr"] = expr;
  YAML::Node labels(YAML::NodeType::Map);
  if (YAML::Node l = n["labels"]; l && l.IsMap()) {
    for (const auto& kv : l) labels[kv.first.Scalar()] = kv.second;
  } else if (l) {
    labels = l;  // not a mapping: reported by the alert's loader
  }
  if (labels.IsMap()) {
    labels["slo"] = slo.name;
    labels["burn"] = page ? "page" : "ticket";
  }
  a["labels"] = labels;
  YAML::Node ann(YAML::NodeType::Map);
  if (YAML::Node u = n["annotations"]; u && u.IsMap()) {
    for (const auto& kv : u) ann[kv.first.Scalar()] = kv.second;
  } else if (u) {
    ann = u;
  }
  if (ann.IsMap() && !ann["summary"]) {
    ann["summary"] =
        StrCat("SLO ", slo.name, ": the error budget burns {{ $value | printf \"%.1f\" }}",
               " times too fast (objective ", Number(slo.objective * 100), "% over ",
               DurationText(slo.window), ")");
  }
  a["annotations"] = ann;
  return a;
}

// The severities of an SLO's two alert kinds.
struct SloSeverities {
  std::string page = "P1";
  std::string ticket = "P3";
};

// An SLO's settings: objective, window, good/valid, burn rates, alerting.
bool LoadSloSettings(FileLoader& f, const YAML::Node& n, RuleSet* rules, SloDef* slo,
                     SloSeverities* severities) {
  bool ok = true;
  if (std::optional<std::string> o = f.Scalar(n, "objective", true, "an SLO")) {
    std::optional<double> v = ParseObjective(*o);
    if (!v) {
      f.Error(n["objective"],
              "'objective' must be a share of good events above 0 and below 100%, "
              "e.g. 99.5% or 0.995");
      ok = false;
    } else if (const double budget = (1 - *v) * 1e12;
               std::llround(budget) == 0 || std::abs(budget - std::llround(budget)) > 0.01) {
      // SloDef::ErrorBudget() keeps 12 decimals: a finer objective's budget
      // would round (to 0 from 99.99999999999995% on, and no alert fires).
      f.Error(n["objective"],
              "'objective' may have at most 12 decimals as a share (10 as a percentage, e.g. "
              "99.9999999999%): the error budget, 100% less the objective, is kept to 12 "
              "decimals, and this one's would round");
      ok = false;
    } else {
      slo->objective = *v;
    }
  } else {
    ok = false;
  }
  if (std::optional<std::string> w = f.Scalar(n, "window", false, "an SLO")) {
    std::optional<DurationMs> d = ParseDuration(*w);
    if (!d || *d <= 0) {
      f.Error(n["window"], StrCat("'", *w, "' is not a duration (the SLO's window, e.g. 30d)"));
      ok = false;
    } else {
      slo->window = *d;
    }
  }
  const std::string from = n["from"] && n["from"].IsScalar() ? n["from"].Scalar() : "";
  if (!n["good"]) {
    f.Error(n, "an SLO needs 'good': the condition an event meets when it is good");
    ok = false;
  } else {
    ok &= CheckCondition(f, n, "good", rules, from);
  }
  if (n["valid"]) ok &= CheckCondition(f, n, "valid", rules, from);
  ok &= LoadBurnRates(f, n["burn_rates"], *slo, &slo->burn_rates);
  if (YAML::Node a = n["alerting"]) {
    if (!a.IsMap()) {
      f.Error(a, "'alerting' must be a mapping {page: P1, ticket: P3}");
      return false;
    }
    f.CheckKeys(a, {"page", "ticket"}, "alerting");
    for (const char* kind : {"page", "ticket"}) {
      if (!a[kind]) continue;
      const std::string sev = a[kind].Scalar();
      if (sev != "P1" && sev != "P2" && sev != "P3" && sev != "P4") {
        f.Error(a[kind], StrCat("severity '", sev, "' must be one of P1, P2, P3, P4"));
        ok = false;
      }
      (std::string_view(kind) == "page" ? severities->page : severities->ticket) = sev;
      const bool page = std::string_view(kind) == "page";
      if (ok && std::none_of(slo->burn_rates.begin(), slo->burn_rates.end(),
                             [&](const BurnRateRule& r) { return r.page == page; })) {
        f.Error(a[kind], StrCat("alerting: ", kind, " names a severity, but burn_rates: has no ",
                                kind, " pair (alert: ", kind,
                                "), so no such alert would exist; add one or remove ", kind, ":"));
        ok = false;
      }
    }
  }
  return ok;
}

// One pane for every window of the SLO: the largest duration that divides
// them all (and a day, for the daily budget). False (reported) when the
// SLO's window holds too many of them.
bool ChooseSloPane(FileLoader& f, const YAML::Node& n, SloDef* slo) {
  DurationMs pane = std::gcd(slo->window, kDay);
  DurationMs longest = std::max(slo->window, kDay);
  for (const BurnRateRule& r : slo->burn_rates) {
    pane = std::gcd(pane, std::gcd(r.long_window, r.short_window));
    longest = std::max({longest, r.long_window, r.short_window});
  }
  slo->pane = pane;
  if (longest / pane <= WindowSpec::kMaxPanesPerWindow) return true;
  // The longest window these panes allow, in whole days.
  const DurationMs most = pane * WindowSpec::kMaxPanesPerWindow / kDay * kDay;
  f.Error(n["window"] ? n["window"] : n["slo"],
          StrCat("the SLO's windows (", DurationText(slo->window),
                 ", a day for the daily budget, and the burn-rate windows) share panes of ",
                 FormatDuration(pane), " (the longest duration that divides them all), and ",
                 DurationText(longest), " is ", longest / pane, " of them (at most ",
                 WindowSpec::kMaxPanesPerWindow, "): ",
                 longest == slo->window && most >= kDay
                     ? StrCat("make the window at most ", DurationText(most), ", or make ")
                     : "make ",
                 "every window a multiple of a longer duration (e.g. whole hours)"));
  return false;
}

// The SLO's metrics: SLI, budget remaining, a burn rate per window of its
// pairs (and a day), the exhaustion forecast. Fills *burn_metric with the
// burn rates' names by window; false when one failed (reported).
bool AddSloMetrics(FileLoader& f, const YAML::Node& n, RuleSet* rules, SloDef* slo,
                   std::map<DurationMs, std::string>* burn_metric) {
  SloDef& s = *slo;
  const DurationMs pane = s.pane;
  const std::string good = n["good"].Scalar();
  const std::string budget = Number(s.ErrorBudget());
  const std::string bad_ratio = StrCat("ratio(not (", good, "))");
  const std::string prefix = StrCat("slo_", Snake(s.name), "_");
  const std::string slo_window = WindowText(s.window, pane);
  s.sli_metric =
      AddMetric(f,
                MetricNode(n, prefix + "sli",
                           StrCat("SLO ", s.name, ": share of valid events that are good over ",
                                  DurationText(s.window)),
                           slo_window, StrCat("1 - ", bad_ratio)),
                s, rules);
  s.remaining_metric =
      AddMetric(f,
                MetricNode(n, prefix + "error_budget_remaining",
                           StrCat("SLO ", s.name, ": share of the error budget of the last ",
                                  DurationText(s.window), " left (negative: overspent)"),
                           slo_window, StrCat("1 - ", bad_ratio, " / ", budget)),
                s, rules);
  std::vector<DurationMs> burn_windows = {kDay};
  for (const BurnRateRule& r : s.burn_rates) {
    for (DurationMs w : {r.long_window, r.short_window}) {
      if (std::find(burn_windows.begin(), burn_windows.end(), w) == burn_windows.end()) {
        burn_windows.push_back(w);
      }
    }
  }
  for (DurationMs w : burn_windows) {
    const std::string name = StrCat(prefix, "burn_rate_", FormatDuration(w));
    const int idx = AddMetric(
        f,
        MetricNode(n, name,
                   StrCat("SLO ", s.name, ": error budget burn rate over ", DurationText(w),
                          " (1: the budget lasts exactly the SLO's window)"),
                   WindowText(w, pane), StrCat(bad_ratio, " / ", budget)),
        s, rules);
    if (idx < 0) return false;
    rules->metrics[idx].ratio_divisor = BudgetFraction(s);
    (*burn_metric)[w] = name;
    if (w == kDay) {
      s.daily_metric = idx;
      rules->metrics[idx].slo_daily = s.name;
      rules->metrics[idx].slo_window = s.window;
    }
    if (w == s.burn_rates[0].long_window) s.forecast_burn_metric = idx;
  }
  // Every value reads the one aggregate ratio(not (good)), so that an event
  // costs one predicate and one accumulator, as one metric does.
  // The forecast: computed from the two metrics above when their windows
  // close (operators/dataflow/metric_operator.cc); its own value program
  // is never run.
  s.forecast_metric =
      AddMetric(f,
                MetricNode(n, prefix + "budget_exhaustion_seconds",
                           StrCat("SLO ", s.name,
                                  ": seconds until the error budget is spent at the burn "
                                  "rate of the last ",
                                  DurationText(s.burn_rates[0].long_window), " (0: spent)"),
                           slo_window, bad_ratio),
                s, rules);
  if (s.sli_metric < 0 || s.remaining_metric < 0 || s.forecast_metric < 0) return false;
  MetricDef& forecast = rules->metrics[s.forecast_metric];
  forecast.forecast = {s.remaining_metric, s.forecast_burn_metric, s.window};
  for (const std::string& label : rules->metrics[s.sli_metric].by) s.by.push_back(label);
  return true;
}

// The SLO's `labels:` and `by:`, which its two alerts share: checked once,
// where they are written (the alerts are built without positions). False
// after an error.
bool CheckSloLabels(FileLoader& f, const YAML::Node& n) {
  bool ok = true;
  std::vector<std::string> by;
  if (YAML::Node b = n["by"]; b && b.IsSequence()) {
    for (const auto& item : b) {
      if (!item.IsScalar()) continue;
      if (item.Scalar() == "slo" || item.Scalar() == "burn") {
        f.Error(item, StrCat("'", item.Scalar(),
                             "' is a label vigil sets on an SLO's alerts; group by another field"));
        ok = false;
      }
      by.push_back(item.Scalar());
    }
  }
  YAML::Node labels = n["labels"];
  if (!labels || !labels.IsMap()) return ok;  // not a mapping: the alert's loader says so
  for (const auto& kv : labels) {
    const std::string key = kv.first.Scalar();
    if (!ValidLabelName(key)) {
      f.Error(kv.first, StrCat("bad label name '", key, "'"));
      ok = false;
    } else if (key == "alertname" || key == "severity" || key == "slo" || key == "burn" ||
               std::find(by.begin(), by.end(), key) != by.end()) {
      f.Error(kv.first, StrCat("label '", key,
                               "' is set by vigil on an SLO's alerts and cannot be overridden"));
      ok = false;
    }
  }
  return ok;
}

// The alerts: one per kind, firing while both windows of any of its pairs
// burn faster than the pair's factor.
void AddSloAlerts(FileLoader& f, const YAML::Node& n, const SloDef& slo,
                  const SloSeverities& severities,
                  const std::map<DurationMs, std::string>& burn_metric, RuleSet* rules) {
  if (!CheckSloLabels(f, n)) return;
  for (bool is_page : {true, false}) {
    std::vector<std::string> pairs;
    for (const BurnRateRule& r : slo.burn_rates) {
      if (r.page != is_page) continue;
      pairs.push_back(StrCat("(", burn_metric.at(r.long_window), " > ", Number(r.factor), " and ",
                             burn_metric.at(r.short_window), " > ", Number(r.factor), ")"));
    }
    if (pairs.empty()) continue;
    if (n["alerting"] && !n["alerting"][is_page ? "page" : "ticket"]) continue;
    LoadAlert(f,
              AlertNode(n, slo, is_page, is_page ? severities.page : severities.ticket,
                        StrJoin(pairs, " or ")),
              rules);
  }
}

}  // namespace

void LoadSlo(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each entry of 'slos' must be a mapping with 'slo', 'objective' and 'good'");
    return;
  }
  f.CheckKeys(n, kSloKeys, "SLO");
  SloDef slo;
  std::optional<std::string> name = f.Scalar(n, "slo", true, "an SLO");
  if (!name) return;
  slo.name = *name;
  slo.pos = f.PosOf(n["slo"]);
  if (!ValidSloName(slo.name)) {
    f.Error(n["slo"], StrCat("SLO name '", slo.name,
                             "' must start with a letter and hold "
                             "letters, digits, '-' and '_'"));
    return;
  }
  for (const SloDef& other : rules->slos) {
    if (Snake(other.name) == Snake(slo.name)) {
      f.Error(n["slo"], StrCat("SLO '", slo.name, "' is already defined at ", other.pos.file, ":",
                               other.pos.line, ":", other.pos.col));
      return;
    }
  }
  SloSeverities severities;
  if (!LoadSloSettings(f, n, rules, &slo, &severities) || !ChooseSloPane(f, n, &slo)) return;
  // What is wrong in the metrics and alerts it builds (a name another one
  // has, a template in a label) is reported at the SLO's name.
  FileLoader::BuiltAt at(f, slo.pos);
  std::map<DurationMs, std::string> burn_metric;
  if (!AddSloMetrics(f, n, rules, &slo, &burn_metric)) return;
  AddSloAlerts(f, n, slo, severities, burn_metric, rules);
  rules->slos.push_back(std::move(slo));
}

}  // namespace vigil
