#include "rules/scopes.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "base/strings.h"
#include "base/time.h"

namespace vigil {

std::optional<Resolved> ValueScope::ResolveName(const ExprNode& name, ExprError* err) {
  *err = {name.pos, StrCat("field '", name.text, "' must be inside an aggregate, e.g. avg(",
                           name.text, ") or last(", name.text, ")")};
  return std::nullopt;
}

bool ValueScope::CompileArg(const ExprNode& arg, Type want, Program* out, ExprError* err,
                            Type* type) {
  if (!stream_.empty()) {
    StreamScope scope(fields_, stream_);
    return ExprCompiler(&scope).Compile(arg, want, out, err, type);
  }
  EventScope scope(fields_);
  return ExprCompiler(&scope).Compile(arg, want, out, err, type);
}

std::optional<Resolved> StreamScope::ResolveName(const ExprNode& name, ExprError* err) {
  if (std::optional<int> slot = fields_->Find(name.text)) {
    return Resolved{*slot, fields_->expected(*slot)};
  }
  std::vector<std::string> names;
  for (int i = 0; i < fields_->size(); ++i) names.push_back(fields_->path(i));
  std::string s = Suggest(name.text, names);
  *err = {name.pos, StrCat("stream '", stream_, "' has no field '", name.text, "'",
                           s.empty() ? StrCat("; its fields: ", StrJoin(names, ", "))
                                     : StrCat("; did you mean '", s, "'?"))};
  return std::nullopt;
}

std::optional<Resolved> StreamScope::ResolveCall(const ExprNode& call, ExprError* err) {
  *err = {call.pos, StrCat("unknown function '", call.text, "' over a record of stream '", stream_,
                           "'; use its fields, literals and operators")};
  return std::nullopt;
}

std::optional<std::string> StreamScope::Expect(int slot, Type type) {
  const Type have = fields_->expected(slot);
  if (type == Type::kAny || have == Type::kAny || have == type) return fields_->Expect(slot, type);
  return StrCat("field '", fields_->path(slot), "' of stream '", stream_, "' is a ", TypeName(have),
                ", used here as a ", TypeName(type));
}

namespace {

struct AggSignature {
  std::string_view name;
  AggKind kind;
  int min_args;
  int max_args;
  Type arg_type;  // of the last argument
};

constexpr AggSignature kAggregates[] = {
    {"count", AggKind::kCount, 0, 1, Type::kBool},
    {"sum", AggKind::kSum, 1, 1, Type::kNumber},
    {"avg", AggKind::kAvg, 1, 1, Type::kNumber},
    {"min", AggKind::kMin, 1, 1, Type::kNumber},
    {"max", AggKind::kMax, 1, 1, Type::kNumber},
    {"ratio", AggKind::kRatio, 1, 1, Type::kBool},
    {"rate", AggKind::kRate, 0, 1, Type::kBool},
    {"last", AggKind::kLast, 1, 1, Type::kAny},
    {"distinct", AggKind::kDistinct, 1, 1, Type::kAny},
    {"quantile", AggKind::kQuantile, 2, 2, Type::kNumber},
};

// Beside those, in a stream's emit.
constexpr AggSignature kSessionAggregates[] = {
    {"first", AggKind::kFirst, 1, 1, Type::kAny},
    {"any", AggKind::kAny, 1, 1, Type::kBool},
    {"all", AggKind::kAll, 1, 1, Type::kBool},
};

std::string UnknownAggregateMessage(std::string_view name) {
  if (name.size() >= 2 && (name[0] == 'p' || name[0] == 'P') &&
      std::all_of(name.begin() + 1, name.end(), ::isdigit)) {
    return StrCat("unknown function '", name, "'; did you mean quantile(0.", name.substr(1),
                  ", x)?");
  }
  if (name == "first" || name == "any" || name == "all") {
    return StrCat("'", name, "' is an aggregate of session streams, not of a metric");
  }
  std::vector<std::string> names;
  for (const auto& a : kAggregates) names.emplace_back(a.name);
  std::string s = Suggest(name, names);
  return StrCat("unknown aggregate '", name, "'",
                s.empty() ? "; known: count, sum, avg, min, max, ratio, rate, last, "
                            "distinct, quantile"
                          : StrCat("; did you mean '", s, "'?"));
}

}  // namespace

// A metric's last() is a number: a boolean's is 1 or 0, and a string has
// none. A string argument is an error; an event field it reads plainly
// must not be a string in any record either (wrong_type).
bool ValueScope::LastReadsNumbers(const ExprNode& arg, Type arg_type, const Program& compiled,
                                  ExprError* err) {
  if (arg_type == Type::kString) {
    *err = {arg.pos,
            "last() in a metric keeps a number or a boolean (read as 1 or 0), not a string; a "
            "session stream's last() keeps strings"};
    return false;
  }
  const int slot = compiled.LoadedSlot();
  if (slot < 0 || !stream_.empty()) return true;
  if (std::optional<std::string> e = fields_->ExpectNotString(slot)) {
    *err = {arg.pos, *e};
    return false;
  }
  return true;
}

std::optional<Resolved> ValueScope::ResolveCall(const ExprNode& call, ExprError* err) {
  const AggSignature* sig = nullptr;
  for (const auto& a : kAggregates) {
    if (a.name == call.text) sig = &a;
  }
  if (mode_ == Mode::kSession) {
    for (const auto& a : kSessionAggregates) {
      if (a.name == call.text) sig = &a;
    }
    if (sig != nullptr && sig->kind == AggKind::kRate) {
      *err = {call.pos,
              "'rate' is per second of a window; over a session use count() or "
              "count(...) / duration_ms in a metric"};
      return std::nullopt;
    }
  }
  if (sig == nullptr) {
    *err = {call.pos, UnknownAggregateMessage(call.text)};
    return std::nullopt;
  }
  const int n = static_cast<int>(call.args.size());
  if (n < sig->min_args || n > sig->max_args) {
    std::string want = sig->min_args == sig->max_args
                           ? StrCat(sig->min_args)
                           : StrCat(sig->min_args, " or ", sig->max_args);
    *err = {call.pos, StrCat("'", call.text, "' takes ", want, " argument",
                             sig->max_args == 1 && sig->min_args == 1 ? "" : "s", ", got ", n)};
    return std::nullopt;
  }
  AggregateCall agg{sig->kind, 0, false, Program(), ""};
  Type arg_type = Type::kAny;
  if (sig->kind == AggKind::kQuantile) {
    const ExprNode& q = *call.args[0];
    if (q.op != ExprOp::kLiteral || q.literal_type != Type::kNumber || q.literal.num <= 0 ||
        q.literal.num > 1) {
      *err = {q.pos, "the quantile must be a number in (0, 1], e.g. quantile(0.99, latency_ms)"};
      return std::nullopt;
    }
    agg.q = q.literal.num;
  }
  if (n > 0) {
    agg.has_arg = true;
    if (!CompileArg(*call.args[n - 1], sig->arg_type, &agg.arg, err, &arg_type)) {
      return std::nullopt;
    }
    agg.arg_source = ExprToString(*call.args[n - 1]);
    if (mode_ == Mode::kMetric && sig->kind == AggKind::kLast &&
        !LastReadsNumbers(*call.args[n - 1], arg_type, agg.arg, err)) {
      return std::nullopt;
    }
  }
  aggregates_->push_back(std::move(agg));
  Type result = Type::kNumber;
  if (mode_ == Mode::kSession) {
    if (sig->kind == AggKind::kAny || sig->kind == AggKind::kAll) result = Type::kBool;
    // first and last keep the field's value: a string stays a string.
    if (sig->kind == AggKind::kFirst || sig->kind == AggKind::kLast) result = arg_type;
  }
  return Resolved{static_cast<int>(aggregates_->size() - 1), result};
}

namespace {

constexpr std::string_view kHistoryList =
    "avg_over, stddev_over, zscore, offset, growth, declining and absent";

std::string UnknownHistoryMessage(std::string_view name) {
  if (name == "avg" || name == "stddev") {
    return StrCat("'", name,
                  "' over one window belongs in a metric's value; over a metric's "
                  "history use ",
                  name, "_over(m, 1h)");
  }
  const bool aggregate = name == "first" || name == "any" || name == "all" ||
                         std::any_of(std::begin(kAggregates), std::end(kAggregates),
                                     [name](const AggSignature& a) { return a.name == name; });
  if (aggregate) {
    return StrCat("aggregate '", name, "' belongs in a metric's value; alert conditions use ",
                  "metric names and ", kHistoryList);
  }
  std::string s = Suggest(name, HistoryFnNames());
  return StrCat("unknown function '", name, "'",
                s.empty() ? StrCat("; alert conditions know ", kHistoryList)
                          : StrCat("; did you mean '", s, "'?"));
}

std::string HistoryExample(HistoryFn fn) {
  return StrCat(HistoryFnName(fn), fn == HistoryFn::kDeclining ? "(m, 3)" : "(m, 1h)");
}

}  // namespace

std::optional<int> AlertScope::FindMetric(const ExprNode& name, ExprError* err) const {
  std::vector<std::string> names;
  for (size_t i = 0; i < metrics_->size(); ++i) {
    if ((*metrics_)[i].name == name.text) return static_cast<int>(i);
    names.push_back((*metrics_)[i].name);
  }
  std::string s = Suggest(name.text, names);
  *err = {name.pos, StrCat("unknown metric '", name.text, "'",
                           s.empty() ? "" : StrCat("; did you mean '", s, "'?"))};
  return std::nullopt;
}

int AlertScope::Slot(int m, const HistoryInput& in) {
  if (history_ != nullptr) history_->resize(used_->size());
  for (size_t i = 0; i < used_->size(); ++i) {
    const HistoryInput have = history_ != nullptr ? (*history_)[i] : HistoryInput{};
    if ((*used_)[i] == m && have == in) return static_cast<int>(i);
  }
  used_->push_back(m);
  if (history_ != nullptr) history_->push_back(in);
  return static_cast<int>(used_->size() - 1);
}

std::optional<Resolved> AlertScope::ResolveName(const ExprNode& name, ExprError* err) {
  std::optional<int> m = FindMetric(name, err);
  if (!m) return std::nullopt;
  return Resolved{Slot(*m, HistoryInput{}), Type::kNumber};
}

bool AlertScope::ReadSpan(HistoryFn fn, const ExprNode& arg, const MetricDef& metric,
                          HistoryInput* in, ExprError* err) const {
  const std::string_view name = HistoryFnName(fn);
  const DurationMs slide = metric.window.slide();
  if (fn == HistoryFn::kDeclining) {
    const double n = arg.literal.num;
    if (arg.op != ExprOp::kLiteral || arg.literal_type != Type::kNumber || n < 1 ||
        n != std::floor(n) || n > static_cast<double>(kMaxHistoryWindows)) {
      *err = {arg.pos, StrCat("the second argument of 'declining' is a number of windows, a "
                              "whole number from 1 to ",
                              kMaxHistoryWindows, " as in ", HistoryExample(fn), "; got '",
                              ExprToString(arg), "'")};
      return false;
    }
    in->count = static_cast<int>(n);
    return true;
  }
  if (arg.op != ExprOp::kLiteral || arg.literal_type != Type::kDuration || arg.literal.num <= 0) {
    *err = {arg.pos, StrCat("the second argument of '", name,
                            "' must be a duration such as 1h, "
                            "as in ",
                            HistoryExample(fn), "; got '", ExprToString(arg), "'")};
    return false;
  }
  in->span = static_cast<DurationMs>(arg.literal.num);
  if ((fn == HistoryFn::kOffset || fn == HistoryFn::kGrowth) && metric.window.calendar()) {
    *err = {arg.pos, StrCat("'", name, "' compares with the window that ended exactly ",
                            FormatDuration(in->span), " earlier, which the calendar windows of '",
                            metric.name,
                            "' do not have (days, weeks and months vary in length); use "
                            "declining(), avg_over() or zscore()")};
    return false;
  }
  if ((fn == HistoryFn::kOffset || fn == HistoryFn::kGrowth) && in->span % slide != 0) {
    *err = {arg.pos, StrCat("'", name, "' needs a multiple of the window slide of '", metric.name,
                            "' (", FormatDuration(slide), "): no window ends exactly ",
                            FormatDuration(in->span), " before another")};
    return false;
  }
  if (fn == HistoryFn::kZscore && !metric.window.calendar() && in->span <= slide) {
    *err = {arg.pos, StrCat("'zscore' over ", FormatDuration(in->span), " sees one window of '",
                            metric.name, "' (one ends every ", FormatDuration(slide),
                            ") and needs two or more for a deviation; use a span longer than ",
                            FormatDuration(slide))};
    return false;
  }
  if (in->span / slide > kMaxHistoryWindows) {
    *err = {arg.pos, StrCat("'", name, "' over ", FormatDuration(in->span), " would keep ",
                            in->span / slide, " windows of '", metric.name, "' per group; at most ",
                            kMaxHistoryWindows, " are kept")};
    return false;
  }
  return true;
}

std::optional<Resolved> AlertScope::ResolveCall(const ExprNode& call, ExprError* err) {
  std::optional<HistoryFn> fn = FindHistoryFn(call.text);
  if (history_ == nullptr) {
    *err = {call.pos, StrCat("unknown function '", call.text,
                             "' in an alert condition; alert conditions compare metrics")};
    return std::nullopt;
  }
  if (!fn) {
    *err = {call.pos, UnknownHistoryMessage(call.text)};
    return std::nullopt;
  }
  if (call.args.size() != 2) {
    *err = {call.pos, StrCat("'", call.text, "' takes 2 arguments, as in ", HistoryExample(*fn),
                             "; got ", call.args.size())};
    return std::nullopt;
  }
  const ExprNode& name = *call.args[0];
  if (name.op != ExprOp::kName) {
    *err = {name.pos, StrCat("the first argument of '", call.text, "' must be a metric name, ",
                             "as in ", HistoryExample(*fn), "; got '", ExprToString(name), "'")};
    return std::nullopt;
  }
  std::optional<int> m = FindMetric(name, err);
  if (!m) return std::nullopt;
  HistoryInput in{*fn};
  if (!ReadSpan(*fn, *call.args[1], (*metrics_)[*m], &in, err)) return std::nullopt;
  return Resolved{Slot(*m, in), HistoryFnIsBool(*fn) ? Type::kBool : Type::kNumber};
}

}  // namespace vigil
