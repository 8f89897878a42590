#include "rules/alert_display.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "re2/re2.h"
#include "rules/expr_parser.h"
#include "rules/template.h"

namespace vigil {
namespace {

Template Parsed(std::string_view text) {
  ExprError error;
  return *Template::Parse(text, {}, &error);
}

// The template that formats `$value` the way `f` says; null for plain numbers.
const Template* FormatTemplate(ValueFormat f) {
  static const Template* const kPercent = new Template(Parsed("{{ $value | humanizePercentage }}"));
  static const Template* const kDuration = new Template(Parsed("{{ $value | humanizeDuration }}"));
  static const Template* const kBytes = new Template(Parsed("{{ $value | humanize1024 }}B"));
  switch (f) {
    case ValueFormat::kPercent:
      return kPercent;
    case ValueFormat::kSeconds:
    case ValueFormat::kMilliseconds:
      return kDuration;
    case ValueFormat::kBytes:
      return kBytes;
    case ValueFormat::kNumber:
      break;
  }
  return nullptr;
}

ValueFormat UnitFormat(MetricUnit unit) {
  switch (unit) {
    case MetricUnit::kMilliseconds:
      return ValueFormat::kMilliseconds;
    case MetricUnit::kSeconds:
      return ValueFormat::kSeconds;
    case MetricUnit::kBytes:
      return ValueFormat::kBytes;
    case MetricUnit::kRatio:
      return ValueFormat::kPercent;
    case MetricUnit::kNone:
      break;
  }
  return ValueFormat::kNumber;
}

// The format the alert's summary applies to $value, if it applies one.
std::optional<ValueFormat> SummaryFormat(const AlertDef& alert) {
  static const re2::RE2 kPiped(R"(\$value\s*\|\s*(humanize\w*))");
  static const re2::RE2 kCalled(R"((humanize\w*)\s+\$value)");
  for (const auto& [name, tmpl] : alert.annotations) {
    if (name != "summary") continue;
    std::string fn;
    if (!re2::RE2::PartialMatch(tmpl.source(), kPiped, &fn) &&
        !re2::RE2::PartialMatch(tmpl.source(), kCalled, &fn)) {
      return std::nullopt;
    }
    if (fn == "humanizePercentage") return ValueFormat::kPercent;
    if (fn == "humanizeDuration") return ValueFormat::kSeconds;
    if (fn == "humanize1024") return ValueFormat::kBytes;
  }
  return std::nullopt;
}

bool IsComparison(ExprOp op) {
  return op == ExprOp::kLt || op == ExprOp::kLe || op == ExprOp::kGt || op == ExprOp::kGe ||
         op == ExprOp::kEq || op == ExprOp::kNe;
}

// A number literal, or the negation of one.
std::optional<double> Number(const ExprNode& n) {
  if (n.op == ExprOp::kNeg && n.args.size() == 1) {
    std::optional<double> v = Number(*n.args[0]);
    return v ? std::optional(-*v) : std::nullopt;
  }
  if (n.op != ExprOp::kLiteral || n.literal_type == Type::kDuration || !n.literal.is_number()) {
    return std::nullopt;
  }
  return n.literal.num;
}

std::string_view Flipped(ExprOp op) {
  switch (op) {
    case ExprOp::kLt:
      return ">";
    case ExprOp::kLe:
      return ">=";
    case ExprOp::kGt:
      return "<";
    case ExprOp::kGe:
      return "<=";
    default:
      return ExprOpSymbol(op);
  }
}

// Pre-order, arguments left to right: source order.
std::optional<AlertThreshold> FirstThreshold(const RuleSet& rules, const ExprNode& n) {
  if (IsComparison(n.op) && n.args.size() == 2) {
    for (int side = 0; side < 2; ++side) {
      const ExprNode& name = *n.args[side];
      std::optional<double> value = Number(*n.args[1 - side]);
      if (name.op != ExprOp::kName || !value) continue;
      std::optional<int> m = rules.FindMetric(name.text);
      if (!m) continue;
      return AlertThreshold{*m, std::string(side == 0 ? ExprOpSymbol(n.op) : Flipped(n.op)),
                            *value};
    }
  }
  for (const auto& arg : n.args) {
    if (std::optional<AlertThreshold> t = FirstThreshold(rules, *arg)) return t;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ValueFormatName(ValueFormat f) {
  switch (f) {
    case ValueFormat::kPercent:
      return "percent";
    case ValueFormat::kSeconds:
      return "seconds";
    case ValueFormat::kMilliseconds:
      return "milliseconds";
    case ValueFormat::kBytes:
      return "bytes";
    case ValueFormat::kNumber:
      break;
  }
  return "number";
}

std::string FormatValue(double v, ValueFormat f) {
  if (const Template* t = FormatTemplate(f)) {
    return t->Render(f == ValueFormat::kMilliseconds ? v / 1000 : v, {});
  }
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    return StrCat(static_cast<int64_t>(v));
  }
  return absl::StrFormat("%.4g", v);
}

DisplayFormats DisplayFormats::Of(const RuleSet& rules) {
  DisplayFormats out;
  out.metric.reserve(rules.metrics.size());
  for (const MetricDef& m : rules.metrics) out.metric.push_back(UnitFormat(m.unit));
  // A metric without a unit shows as the summaries of the alerts on it do.
  for (const AlertDef& a : rules.alerts) {
    const int m = ValueMetric(a);
    const std::optional<ValueFormat> summary = SummaryFormat(a);
    if (m >= 0 && summary && rules.metrics[m].unit == MetricUnit::kNone) out.metric[m] = *summary;
  }
  out.alert.reserve(rules.alerts.size());
  for (const AlertDef& a : rules.alerts) {
    const int m = ValueMetric(a);
    out.alert.push_back(SummaryFormat(a).value_or(m >= 0 ? out.metric[m] : ValueFormat::kNumber));
  }
  return out;
}

std::optional<AlertThreshold> FindThreshold(const RuleSet& rules, const AlertDef& alert) {
  ExprParse parsed = ParseExpr(alert.expr_source);
  if (!parsed.ok()) return std::nullopt;
  return FirstThreshold(rules, *parsed.node);
}

int ValueMetric(const AlertDef& alert) {
  if (alert.metrics.empty() || alert.metrics.Input(0).fn != HistoryFn::kNone) return -1;
  return alert.metrics[0];
}

}  // namespace vigil
