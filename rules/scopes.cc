#include "rules/scopes.h"

#include <algorithm>

#include "windows/strings.h"

namespace vigil {

std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    // Levenshtein distance, two rows.
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1,
                           prev[j - 1] + (word[i - 1] == c[j - 1] ? 0 : 1)});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  return best;
}

std::optional<Resolved> ValueScope::ResolveName(const ExprNode& name, ExprError* err) {
  *err = {name.pos, StrCat("field '", name.text,
                                 "' must be inside an aggregate, e.g. avg(", name.text,
                                 ") or last(", name.text, ")")};
  return std::nullopt;
}

bool ValueScope::CompileArg(const ExprNode& arg, Type want, Program* out, ExprError* err) {
  EventScope scope(fields_);
  return ExprCompiler(&scope).Compile(arg, want, out, err);
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

std::string UnknownAggregateMessage(std::string_view name) {
  if (name.size() >= 2 && (name[0] == 'p' || name[0] == 'P') &&
      std::all_of(name.begin() + 1, name.end(), ::isdigit)) {
    return StrCat("unknown function '", name, "'; did you mean quantile(0.",
                        name.substr(1), ", x)?");
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

std::optional<Resolved> ValueScope::ResolveCall(const ExprNode& call, ExprError* err) {
  const AggSignature* sig = nullptr;
  for (const auto& a : kAggregates) {
    if (a.name == call.text) sig = &a;
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
                                   sig->max_args == 1 && sig->min_args == 1 ? "" : "s", ", got ",
                                   n)};
    return std::nullopt;
  }
  AggregateCall agg{sig->kind, 0, false, Program(), ""};
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
    if (!CompileArg(*call.args[n - 1], sig->arg_type, &agg.arg, err)) return std::nullopt;
    agg.arg_source = ExprToString(*call.args[n - 1]);
  }
  aggregates_->push_back(std::move(agg));
  return Resolved{static_cast<int>(aggregates_->size() - 1), Type::kNumber};
}

std::optional<Resolved> AlertScope::ResolveName(const ExprNode& name, ExprError* err) {
  std::vector<std::string> names;
  for (size_t i = 0; i < metrics_->size(); ++i) {
    if ((*metrics_)[i].name == name.text) {
      auto it = std::find(used_->begin(), used_->end(), static_cast<int>(i));
      if (it == used_->end()) {
        used_->push_back(static_cast<int>(i));
        it = used_->end() - 1;
      }
      return Resolved{static_cast<int>(it - used_->begin()), Type::kNumber};
    }
    names.push_back((*metrics_)[i].name);
  }
  std::string s = Suggest(name.text, names);
  *err = {name.pos, StrCat("unknown metric '", name.text, "'",
                                 s.empty() ? "" : StrCat("; did you mean '", s, "'?"))};
  return std::nullopt;
}

std::optional<Resolved> AlertScope::ResolveCall(const ExprNode& call, ExprError* err) {
  *err = {call.pos, StrCat("unknown function '", call.text,
                                 "' in an alert condition; alert conditions compare metrics")};
  return std::nullopt;
}

}  // namespace vigil
