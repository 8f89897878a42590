#include "rules/silence.h"

#include <algorithm>

#include "absl/time/civil_time.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/strings.h"

namespace vigil {

std::optional<LabelMatcher> MakeLabelMatcher(std::string name, LabelMatcher::Op op,
                                             std::string value, std::string* error) {
  LabelMatcher m;
  m.name = std::move(name);
  m.op = op;
  m.value = std::move(value);
  if (m.name.empty()) {
    *error = "a matcher needs a label name";
    return std::nullopt;
  }
  if (op == LabelMatcher::Op::kRe || op == LabelMatcher::Op::kNotRe) {
    // RE2, the syntax of Alertmanager's (Go's) regexp: its time is linear
    // in the label's length, with no backtracking and no recursion, so a
    // long label value cannot stall or crash the job.
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(m.value, options);
    if (!re->ok()) {
      *error = StrCat("bad regular expression \"", m.value, "\": ", re->error());
      return std::nullopt;
    }
    m.re = std::move(re);
  }
  return m;
}

std::optional<LabelMatcher> ParseLabelMatcher(std::string_view text, std::string* error) {
  text = Strip(text);
  size_t i = 0;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
    ++i;
  }
  const std::string name(text.substr(0, i));
  std::string_view rest = Strip(text.substr(i));
  LabelMatcher::Op op;
  if (rest.starts_with("=~")) {
    op = LabelMatcher::Op::kRe;
  } else if (rest.starts_with("!~")) {
    op = LabelMatcher::Op::kNotRe;
  } else if (rest.starts_with("!=")) {
    op = LabelMatcher::Op::kNe;
  } else if (rest.starts_with("=")) {
    op = LabelMatcher::Op::kEq;
  } else {
    *error =
        StrCat("a matcher is name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\"",
               name.empty() ? "" : StrCat("; '", name, "' has no operator"));
    return std::nullopt;
  }
  rest = Strip(rest.substr(op == LabelMatcher::Op::kEq ? 1 : 2));
  std::string value;
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
    for (size_t k = 1; k + 1 < rest.size(); ++k) {
      if (rest[k] == '\\' && k + 2 < rest.size()) ++k;
      value.push_back(rest[k]);
    }
  } else {
    value = std::string(rest);  // unquoted, as Alertmanager also accepts
  }
  return MakeLabelMatcher(name, op, std::move(value), error);
}

bool LabelMatcher::Matches(const Labels& labels) const {
  auto it = labels.find(name);
  const std::string& v = it == labels.end() ? std::string() : it->second;
  switch (op) {
    case Op::kEq:
      return v == value;
    case Op::kNe:
      return v != value;
    case Op::kRe:
      return re2::RE2::FullMatch(v, *re);
    case Op::kNotRe:
      return !re2::RE2::FullMatch(v, *re);
  }
  return false;
}

std::string LabelMatcher::ToString() const {
  const char* ops[] = {"=", "!=", "=~", "!~"};
  std::string out = StrCat(name, ops[static_cast<int>(op)]);
  AppendJsonString(value, &out);
  return out;
}

namespace {

bool InRanges(const std::vector<std::pair<int, int>>& ranges, int v) {
  if (ranges.empty()) return true;
  return std::any_of(ranges.begin(), ranges.end(),
                     [v](const auto& r) { return v >= r.first && v <= r.second; });
}

int DaysInMonth(absl::CivilDay day) {
  const absl::CivilMonth month(day);
  return static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
}

}  // namespace

bool TimeInterval::Contains(TimeMs t) const {
  const absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixMillis(t), zone);
  const absl::CivilDay day(cs);
  const int minute = cs.hour() * 60 + cs.minute();
  if (!minutes.empty() && std::none_of(minutes.begin(), minutes.end(), [minute](const auto& r) {
        return minute >= r.first && minute < r.second;
      })) {
    return false;
  }
  const int weekday = (static_cast<int>(absl::GetWeekday(day)) + 1) % 7;  // Monday=0 in absl
  if (!InRanges(weekdays, weekday)) return false;
  if (!days_of_month.empty()) {
    const int dom = cs.day(), last = DaysInMonth(day);
    const bool hit = std::any_of(days_of_month.begin(), days_of_month.end(), [&](const auto& r) {
      const int lo = r.first < 0 ? last + 1 + r.first : r.first;
      const int hi = r.second < 0 ? last + 1 + r.second : r.second;
      return dom >= lo && dom <= hi;
    });
    if (!hit) return false;
  }
  return InRanges(months, cs.month()) && InRanges(years, static_cast<int>(cs.year()));
}

bool SilenceDef::Active(TimeMs t) const {
  if (t < starts_at || t >= ends_at) return false;
  if (intervals.empty()) return true;
  return std::any_of(intervals.begin(), intervals.end(),
                     [t](const TimeInterval& i) { return i.Contains(t); });
}

bool SilenceDef::Matches(const Labels& labels) const {
  return std::all_of(matchers.begin(), matchers.end(),
                     [&](const LabelMatcher& m) { return m.Matches(labels); });
}

void SilenceBook::SetRuleSilences(std::vector<SilenceDef> silences) {
  absl::MutexLock lock(&mu_);
  rule_ = std::move(silences);
}

std::string SilenceBook::Add(SilenceDef silence) {
  absl::MutexLock lock(&mu_);
  // s1, s2, ...: the next id no silence of the rule files is named.
  auto taken = [this](const std::string& id) {
    return std::any_of(rule_.begin(), rule_.end(),
                       [&](const SilenceDef& r) { return r.name == id; });
  };
  do {
    silence.name = StrCat("s", next_id_++);
  } while (taken(silence.name));
  adhoc_.push_back(std::move(silence));
  ++changes_;
  return adhoc_.back().name;
}

bool SilenceBook::Expire(std::string_view id, TimeMs at) {
  absl::MutexLock lock(&mu_);
  for (SilenceDef& s : adhoc_) {
    if (s.name != id) continue;
    s.ends_at = std::min(s.ends_at, std::max(at, s.starts_at));
    ++changes_;
    return true;
  }
  return false;
}

std::string SilenceBook::Match(const Labels& labels, TimeMs t) const {
  absl::MutexLock lock(&mu_);
  for (const std::vector<SilenceDef>* list : {&rule_, &adhoc_}) {
    for (const SilenceDef& s : *list) {
      if (s.Active(t) && s.Matches(labels)) return s.name;
    }
  }
  return "";
}

std::vector<SilenceDef> SilenceBook::List(TimeMs now) {
  absl::MutexLock lock(&mu_);
  constexpr DurationMs kKeepEnded = 3'600'000;
  adhoc_.erase(std::remove_if(adhoc_.begin(), adhoc_.end(),
                              [now](const SilenceDef& s) {
                                return now != kMinTime && s.ends_at + kKeepEnded < now;
                              }),
               adhoc_.end());
  std::vector<SilenceDef> out = rule_;
  out.insert(out.end(), adhoc_.begin(), adhoc_.end());
  return out;
}

size_t SilenceBook::RuleSilenceCount() const {
  absl::MutexLock lock(&mu_);
  return rule_.size();
}

bool SilenceBook::empty() const {
  absl::MutexLock lock(&mu_);
  return rule_.empty() && adhoc_.empty();
}

uint64_t SilenceBook::changes() const {
  absl::MutexLock lock(&mu_);
  return changes_;
}

std::string SilenceBook::EncodeAdHoc() const {
  absl::MutexLock lock(&mu_);
  Encoder enc;
  enc.PutVarint(next_id_);
  enc.PutVarint(adhoc_.size());
  for (const SilenceDef& s : adhoc_) {
    enc.PutString(s.name);
    enc.PutSigned(s.starts_at);
    enc.PutSigned(s.ends_at);
    enc.PutString(s.comment);
    enc.PutString(s.created_by);
    enc.PutVarint(s.matchers.size());
    for (const LabelMatcher& m : s.matchers) {
      enc.PutString(m.name);
      enc.PutByte(static_cast<uint8_t>(m.op));
      enc.PutString(m.value);
    }
  }
  return enc.Release();
}

bool SilenceBook::DecodeAdHoc(std::string_view data) {
  Decoder dec(data);
  const uint64_t next = dec.GetVarint();
  std::vector<SilenceDef> silences;
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    SilenceDef s;
    s.name = std::string(dec.GetString());
    s.starts_at = dec.GetSigned();
    s.ends_at = dec.GetSigned();
    s.comment = std::string(dec.GetString());
    s.created_by = std::string(dec.GetString());
    // A pattern an older version took (ECMAScript: lookahead, back
    // references) that RE2 refuses drops that silence, not the checkpoint.
    std::string unusable;
    for (uint64_t k = dec.GetVarint(), j = 0; j < k && dec.ok(); ++j) {
      std::string name(dec.GetString());
      const uint8_t op = dec.GetByte();
      std::string value(dec.GetString());
      std::string error;
      if (op > static_cast<uint8_t>(LabelMatcher::Op::kNotRe)) return false;
      std::optional<LabelMatcher> m =
          MakeLabelMatcher(std::move(name), static_cast<LabelMatcher::Op>(op), value, &error);
      if (!m) {
        unusable = error;
        continue;
      }
      s.matchers.push_back(std::move(*m));
    }
    if (!unusable.empty()) {
      Log(StrCat("silence ", s.name, " from the checkpoint is dropped: ", unusable));
      continue;
    }
    silences.push_back(std::move(s));
  }
  if (!dec.ok() || !dec.empty()) return false;
  absl::MutexLock lock(&mu_);
  adhoc_ = std::move(silences);
  next_id_ = std::max<uint64_t>(next, 1);
  return true;
}

}  // namespace vigil
