#include "windows/window_spec.h"

#include <numeric>
#include <vector>

#include "base/strings.h"

namespace vigil {

WindowSpec::WindowSpec(Kind kind, DurationMs size, DurationMs slide)
    : kind_(kind), size_(size), slide_(slide), pane_(std::gcd(size, slide)) {}

WindowSpec WindowSpec::Tumbling(DurationMs size) { return WindowSpec(Kind::kTumbling, size, size); }

WindowSpec WindowSpec::Sliding(DurationMs size, DurationMs slide) {
  return WindowSpec(Kind::kSliding, size, slide);
}

absl::StatusOr<WindowSpec> WindowSpec::Parse(std::string_view text) {
  std::vector<std::string_view> words = SplitWords(text);
  auto duration = [](std::string_view w) -> absl::StatusOr<DurationMs> {
    std::optional<DurationMs> d = ParseDuration(w);
    if (!d || *d <= 0) {
      return absl::InvalidArgumentError(
          StrCat("bad duration '", w, "' (expected e.g. 30s, 5m, 1h, 1d)"));
    }
    return *d;
  };
  if (words.size() == 2 && words[0] == "tumbling") {
    absl::StatusOr<DurationMs> size = duration(words[1]);
    if (!size.ok()) return size.status();
    return Tumbling(*size);
  }
  if (words.size() == 4 && words[0] == "sliding" && words[2] == "every") {
    absl::StatusOr<DurationMs> size = duration(words[1]);
    if (!size.ok()) return size.status();
    absl::StatusOr<DurationMs> slide = duration(words[3]);
    if (!slide.ok()) return slide.status();
    if (*slide > *size) {
      return absl::InvalidArgumentError(
          StrCat("slide ", words[3], " is longer than the window ", words[1]));
    }
    const WindowSpec spec = Sliding(*size, *slide);
    if (spec.panes_per_window() > kMaxPanesPerWindow) {
      return absl::InvalidArgumentError(StrCat(
          "window '", spec.ToString(), "' needs ", spec.panes_per_window(), " panes of ",
          FormatDuration(spec.pane()), " per window (the gcd of size and slide); the limit is ",
          kMaxPanesPerWindow, ": use a longer slide"));
    }
    return spec;
  }
  return absl::InvalidArgumentError(StrCat(
      "bad window '", text, "' (expected 'tumbling <size>' or 'sliding <size> every <slide>')"));
}

std::string WindowSpec::ToString() const {
  if (kind_ == Kind::kTumbling) return StrCat("tumbling ", FormatDuration(size_));
  return StrCat("sliding ", FormatDuration(size_), " every ", FormatDuration(slide_));
}

}  // namespace vigil
