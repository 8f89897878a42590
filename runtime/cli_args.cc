#include "runtime/cli_args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/scopes.h"

namespace vigil::cli {

namespace {
std::vector<std::string>* g_flag_sink = nullptr;
}  // namespace

void SetFlagSink(std::vector<std::string>* sink) { g_flag_sink = sink; }

int Failed(const absl::Status& why) {
  std::fprintf(stderr, "vigil: %s\n", std::string(why.message()).c_str());
  return 1;
}

int Usage(const std::string& error) {
  if (g_flag_sink != nullptr) return 2;
  std::fprintf(stderr,
               "vigil: %s\nRun 'vigil help' for the commands, 'vigil COMMAND --help' "
               "for one's flags.\n",
               error.c_str());
  return 2;
}

std::string Args::Unknown(std::string_view command) const {
  if (g_flag_sink != nullptr) g_flag_sink->insert(g_flag_sink->end(), known_.begin(), known_.end());
  const std::string& arg = args_[pos_];
  std::vector<std::string> known = known_;
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  const std::string flag = arg.substr(0, arg.find('='));
  if (!arg.starts_with("-")) {
    return StrCat(std::string(command), " takes flags only, not ", arg,
                  command == "run" ? StrCat("; did you mean --input ", arg, "?") : "");
  }
  const std::string s = Suggest(flag, known);
  return StrCat("unknown flag for ", std::string(command), ": ", arg,
                s.empty() ? std::string() : StrCat("; did you mean ", s, "?"));
}

bool ParseNumber(const std::string& s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

bool GeneratorFlag(Args& a, GeneratorOptions* g, GeneratorFlagsSeen* seen, std::string* error) {
  std::string v;
  if (a.Value("--seed", &v, error)) {
    // A whole number, as the job file's seed: 1.5 or -1 would silently be
    // another seed's events.
    uint64_t seed = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
    if (error->empty() && (v.empty() || ec != std::errc() || end != v.data() + v.size())) {
      *error = "--seed needs a whole number from 0 to 18446744073709551615";
    }
    g->seed = seed;
  } else if (a.Value("--rate", &v, error)) {
    if (error->empty() && !ParseNumber(v, &g->rate)) *error = "--rate needs a number";
  } else if (a.Value("--duration", &v, error)) {
    auto dur = ParseDuration(v);
    if (error->empty() && !dur) *error = StrCat("--duration: bad duration '", v, "'");
    g->duration = dur.value_or(0);
  } else if (a.Value("--jitter", &v, error)) {
    auto dur = ParseDuration(v);
    if (error->empty() && !dur) *error = StrCat("--jitter: bad duration '", v, "'");
    g->max_jitter = dur.value_or(0);
  } else if (a.Value("--start", &v, error)) {
    if (v == "now") {
      seen->start_now = true;
    } else if (auto t = ParseRfc3339(v)) {
      // Events before 1970 or after 9999 are dead-lettered (bad_ts) by vigil itself.
      if ((*t < 0 || *t > 253402300799999) && error->empty()) {
        *error = StrCat("--start: '", v, "' is outside years 1970 to 9999, where events can be");
      }
      g->start = *t;
      seen->start_now = false;
    } else if (error->empty()) {
      *error = StrCat("--start: '", v, "' is not 'now' or an RFC 3339 time");
    }
  } else if (a.Value("--incident", &v, error)) {
    absl::StatusOr<Incident> inc = ParseIncident(v);
    if (v == "none") {  // no incident: empties the defaults' or the job file's list
      if (!std::exchange(seen->incident, true)) g->incidents.clear();
    } else if (!inc.ok()) {
      if (error->empty()) *error = StrCat("--incident: ", std::string(inc.status().message()));
    } else {
      if (!std::exchange(seen->incident, true)) g->incidents.clear();
      g->incidents.push_back(*inc);
    }
  } else if (a.Value("--month", &v, error)) {
    absl::StatusOr<MonthProfile> month = ParseMonthProfile(v);
    if (!month.ok()) {
      if (error->empty()) *error = StrCat("--month: ", std::string(month.status().message()));
    } else {
      if (!std::exchange(seen->month, true)) g->months.clear();
      g->months.push_back(*month);
    }
  } else if (a.Flag("--epoch-millis")) {
    g->epoch_millis = true;
  } else {
    return false;
  }
  return true;
}

void DurationFlag(std::string_view flag, const std::string& v, DurationMs* out, std::string* err) {
  std::optional<DurationMs> d = ParseDuration(v);
  if (!d && err->empty()) *err = StrCat(flag, ": bad duration '", v, "' (e.g. 500ms, 30s, 5m)");
  *out = d.value_or(0);
}

void TimeFlag(const std::string& v, TimeMs* out, std::string* err) {
  std::optional<TimeMs> t = ParseRfc3339(v);
  if (!t && err->empty()) *err = StrCat("'", v, "' is not an RFC 3339 time with a zone");
  *out = t.value_or(0);
}

void RangeBoundFlag(const std::string& v, TimeMs* out, std::string* err) {
  TimeFlag(v, out, err);
  if (err->empty() && BeyondMillis(v)) ++*out;
}

bool KafkaPropertyFlag(Args& a, std::vector<std::pair<std::string, std::string>>* out,
                       std::string* err) {
  std::string v;
  if (!a.Value("-X", &v, err) && !a.Value("--kafka-property", &v, err)) return false;
  const size_t eq = v.find('=');
  if (eq == std::string::npos || eq == 0) {
    if (err->empty()) *err = StrCat("Kafka property '", v, "' is not KEY=VALUE");
    return true;
  }
  out->emplace_back(v.substr(0, eq), v.substr(eq + 1));
  return true;
}

}  // namespace vigil::cli
