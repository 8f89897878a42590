#include "rules/history.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace vigil {

namespace {

struct FnName {
  HistoryFn fn;
  std::string_view name;
};

constexpr FnName kFunctions[] = {
    {HistoryFn::kAvgOver, "avg_over"}, {HistoryFn::kStddevOver, "stddev_over"},
    {HistoryFn::kZscore, "zscore"},    {HistoryFn::kOffset, "offset"},
    {HistoryFn::kGrowth, "growth"},    {HistoryFn::kDeclining, "declining"},
    {HistoryFn::kAbsent, "absent"},
};

}  // namespace

std::string_view HistoryFnName(HistoryFn fn) {
  for (const FnName& f : kFunctions) {
    if (f.fn == fn) return f.name;
  }
  return "";
}

std::optional<HistoryFn> FindHistoryFn(std::string_view name) {
  for (const FnName& f : kFunctions) {
    if (f.name == name) return f.fn;
  }
  return std::nullopt;
}

std::vector<std::string> HistoryFnNames() {
  std::vector<std::string> names;
  for (const FnName& f : kFunctions) names.emplace_back(f.name);
  return names;
}

DurationMs HistoryRetention(const HistoryInput& in, DurationMs slide) {
  switch (in.fn) {
    case HistoryFn::kNone:
      return 0;
    case HistoryFn::kDeclining:
      return static_cast<DurationMs>(in.count) * slide;
    default:
      return in.span;
  }
}

std::optional<double> MetricHistory::At(TimeMs end) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), end,
                             [](const HistoryPoint& p, TimeMs t) { return p.end < t; });
  if (it == points_.end() || it->end != end) return std::nullopt;
  return it->value;
}

MetricHistory::Moments MetricHistory::Over(TimeMs lo, TimeMs hi) const {
  auto first = std::upper_bound(points_.begin(), points_.end(), lo,
                                [](TimeMs t, const HistoryPoint& p) { return t < p.end; });
  Moments m;
  double sum = 0;
  for (auto it = first; it != points_.end() && it->end <= hi; ++it) {
    sum += it->value;
    ++m.n;
  }
  if (m.n == 0) return m;
  m.mean = sum / static_cast<double>(m.n);
  // Two passes: the one-pass formula loses the deviation of large, steady
  // values (request counts) to cancellation.
  double squares = 0;
  for (auto it = first; it != points_.end() && it->end <= hi; ++it) {
    squares += (it->value - m.mean) * (it->value - m.mean);
  }
  m.stddev = std::sqrt(squares / static_cast<double>(m.n));
  return m;
}

bool MetricHistory::Declining(int n, TimeMs end, const WindowSpec& window) const {
  std::optional<double> later = At(end);
  if (!later) return false;
  TimeMs at = end;
  for (int k = 1; k <= n; ++k) {
    at = window.PrevEnd(at);
    std::optional<double> earlier = At(at);
    if (!earlier || !(*later < *earlier)) return false;
    later = earlier;
  }
  return true;
}

Value MetricHistory::Eval(const HistoryInput& in, TimeMs end, TimeMs now,
                          const WindowSpec& window) const {
  auto number = [](std::optional<double> v) {
    return v && std::isfinite(*v) ? Value::Number(*v) : Value::Missing();
  };
  switch (in.fn) {
    case HistoryFn::kNone:
      return number(At(end));
    case HistoryFn::kAvgOver:
    case HistoryFn::kStddevOver: {
      Moments m = Over(end - in.span, end);
      if (m.n == 0) return Value::Missing();
      return Value::Number(in.fn == HistoryFn::kAvgOver ? m.mean : m.stddev);
    }
    case HistoryFn::kZscore: {
      std::optional<double> current = At(end);
      Moments m = Over(end - in.span, end);
      if (!current || m.n < 2 || m.stddev == 0) return Value::Missing();
      return number((*current - m.mean) / m.stddev);
    }
    case HistoryFn::kOffset:
      return number(At(end - in.span));
    case HistoryFn::kGrowth: {
      std::optional<double> current = At(end);
      std::optional<double> before = At(end - in.span);
      if (!current || !before || *before == 0) return Value::Missing();
      return number(*current / *before - 1);
    }
    case HistoryFn::kDeclining:
      return Value::Bool(Declining(in.count, end, window));
    case HistoryFn::kAbsent: {
      auto first = std::upper_bound(points_.begin(), points_.end(), now - in.span,
                                    [](TimeMs t, const HistoryPoint& p) { return t < p.end; });
      return Value::Bool(first == points_.end() || first->end > now);
    }
  }
  return Value::Missing();
}

void MetricHistory::Encode(Encoder* enc) const {
  enc->PutVarint(points_.size());
  for (const HistoryPoint& p : points_) {
    enc->PutSigned(p.end);
    enc->PutDouble(p.value);
  }
}

bool MetricHistory::Decode(Decoder* dec) {
  points_.clear();
  const uint64_t n = dec->GetVarint();
  for (uint64_t i = 0; i < n && dec->ok(); ++i) {
    const TimeMs end = dec->GetSigned();
    points_.push_back({end, dec->GetDouble()});
  }
  return dec->ok();
}

}  // namespace vigil
