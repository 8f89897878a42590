#include "rules/template.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/strings.h"
#include "base/time.h"

namespace vigil {
namespace {

// The offset of the conversion character of a printf format with exactly
// one number verb and nothing unsafe, or npos.
size_t NumberVerb(std::string_view f) {
  size_t verb = std::string_view::npos;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (i + 1 < f.size() && f[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < f.size() && std::string_view("-+ #0123456789.").find(f[j]) != std::string_view::npos)
      ++j;
    if (j >= f.size() || std::string_view("fFeEgGd").find(f[j]) == std::string_view::npos ||
        verb != std::string_view::npos) {
      return std::string_view::npos;
    }
    verb = j;
    i = j;
  }
  return verb;
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return StrCat(v);
  static constexpr const char* kBig[] = {"", "k", "M", "G", "T", "P"};
  static constexpr const char* kSmall[] = {"", "m", "u", "n", "p"};
  double a = std::fabs(v);
  char buf[64];
  if (a >= 1) {
    int i = 0;
    while (a >= 1000 && i < 5) a /= 1000, v /= 1000, ++i;
    std::snprintf(buf, sizeof buf, "%.4g%s", v, kBig[i]);
  } else {
    int i = 0;
    while (a < 1 && i < 4) a *= 1000, v *= 1000, ++i;
    std::snprintf(buf, sizeof buf, "%.4g%s", v, kSmall[i]);
  }
  return buf;
}

}  // namespace

std::optional<Template> Template::Parse(std::string_view text,
                                        const std::vector<std::string>& known_labels,
                                        ExprError* err) {
  Template t;
  t.source_ = std::string(text);
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    Part part;
    if (open == std::string_view::npos) {
      part.literal = std::string(text.substr(pos));
      t.parts_.push_back(std::move(part));
      return t;
    }
    part.literal = std::string(text.substr(pos, open - pos));
    size_t close = text.find("}}", open);
    if (close == std::string_view::npos) {
      *err = {open, "unterminated '{{' in template"};
      return std::nullopt;
    }
    std::string_view action = Strip(text.substr(open + 2, close - open - 2));
    const size_t action_pos = text.find(action, open);
    part.has_action = true;
    std::string_view head = action;
    std::string_view pipe;
    if (size_t bar = action.find('|'); bar != std::string_view::npos) {
      head = Strip(action.substr(0, bar));
      pipe = Strip(action.substr(bar + 1));
    }
    if (head == "$value" || head == ".Value") {
      part.is_value = true;
    } else if (ConsumePrefix(&head, "$labels.") || ConsumePrefix(&head, ".Labels.")) {
      if (std::find(known_labels.begin(), known_labels.end(), head) == known_labels.end()) {
        *err = {action_pos, StrCat("label '", head, "' is not among this alert's labels (",
                                   StrJoin(known_labels, ", "), ")")};
        return std::nullopt;
      }
      part.label = std::string(head);
    } else {
      *err = {action_pos,
              StrCat("unknown template variable '", head, "'; use $value or $labels.<name>")};
      return std::nullopt;
    }
    if (!pipe.empty()) {
      if (!part.is_value) {
        *err = {action_pos, "functions apply to $value only"};
        return std::nullopt;
      }
      if (pipe == "humanize") {
        part.func = Func::kHumanize;
      } else if (pipe == "humanizePercentage") {
        part.func = Func::kHumanizePercentage;
      } else if (pipe == "humanizeDuration") {
        part.func = Func::kHumanizeDuration;
      } else if (ConsumePrefix(&pipe, "printf")) {
        std::string_view f = Strip(pipe);
        const size_t verb = f.size() < 2 || f.front() != '"' || f.back() != '"'
                                ? std::string_view::npos
                                : NumberVerb(f.substr(1, f.size() - 2));
        if (verb == std::string_view::npos) {
          *err = {action_pos,
                  "printf needs one quoted format with a single number verb, e.g. "
                  "printf \"%.2f\""};
          return std::nullopt;
        }
        part.func = Func::kPrintf;
        part.format = std::string(f.substr(1, f.size() - 2));
        // %d prints the rounded value, which is passed as a long long. Only
        // the verb itself decides: letters in the literal text ("%d errors")
        // are not part of the conversion.
        if (part.format[verb] == 'd') {
          part.format.insert(verb, "ll");
          part.integer = true;
        }
      } else {
        *err = {action_pos, StrCat("unknown template function '", pipe,
                                   "'; known: humanize, humanizePercentage, "
                                   "humanizeDuration, printf")};
        return std::nullopt;
      }
    }
    t.parts_.push_back(std::move(part));
    pos = close + 2;
  }
}

std::string Template::Render(double value, const Labels& labels) const {
  std::string out;
  for (const Part& p : parts_) {
    out += p.literal;
    if (!p.has_action) continue;
    if (!p.is_value) {
      auto it = labels.find(p.label);
      if (it != labels.end()) out += it->second;
      continue;
    }
    switch (p.func) {
      case Func::kNone: {
        Value v = Value::Number(value);
        AppendValueText(v, &out);
        break;
      }
      case Func::kHumanize:
        out += Humanize(value);
        break;
      case Func::kHumanizePercentage: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4g%%", value * 100);
        out += buf;
        break;
      }
      case Func::kHumanizeDuration:
        out += std::isfinite(value) ? FormatDuration(static_cast<DurationMs>(std::llround(value)))
                                    : StrCat(value);
        break;
      case Func::kPrintf: {
        char buf[128];
        if (p.integer) {
          std::snprintf(buf, sizeof buf, p.format.c_str(),
                        static_cast<long long>(std::llround(value)));
        } else {
          std::snprintf(buf, sizeof buf, p.format.c_str(), value);
        }
        out += buf;
        break;
      }
    }
  }
  return out;
}

}  // namespace vigil
