// tests/windows/pane_store_harness.h
//
// Helpers shared by the PaneStore tests: windows fired by CloseUpTo copied
// out, events folded in the way the metric operator does, and encoding.
#ifndef VIGIL_TESTS_WINDOWS_PANE_STORE_HARNESS_H_
#define VIGIL_TESTS_WINDOWS_PANE_STORE_HARNESS_H_

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/codec.h"
#include "base/hash.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "windows/pane_store.h"

namespace vigil {
namespace pane_store_test {

inline constexpr DurationMs kSecond = 1000;
inline constexpr DurationMs kMinute = 60 * kSecond;
inline constexpr DurationMs kHour = 60 * kMinute;

// One emitted window, copied out of the WindowView (which only lives for the
// duration of the callback).
struct Fired {
  std::string group;
  TimeMs start;
  TimeMs end;
  AccSet acc;
};

// Fires windows up to `frontier` and returns them sorted by (group, end),
// after checking that each group's windows came out in order of end.
inline std::vector<Fired> Close(PaneStore& store, TimeMs frontier) {
  std::vector<Fired> out;
  std::map<std::string, TimeMs> last_end;
  store.CloseUpTo(frontier, [&](const WindowView& w) {
    const std::string group(w.group);
    auto it = last_end.find(group);
    EXPECT_TRUE(it == last_end.end() || it->second < w.end)
        << "group " << group << " emitted end " << w.end << " out of order";
    last_end[group] = w.end;
    out.push_back(Fired{group, w.start, w.end, w.acc});
  });
  std::sort(out.begin(), out.end(), [](const Fired& a, const Fired& b) {
    return std::tie(a.group, a.end) < std::tie(b.group, b.end);
  });
  return out;
}

// Folds one event into an accumulator set the way the metric operator does;
// predicates are "value is even".
inline void Feed(AccSet* set, TimeMs t, int value) {
  for (Accumulator& acc : *set) {
    switch (acc.kind()) {
      case AggKind::kCount:
      case AggKind::kRatio:
      case AggKind::kRate:
        acc.AddPredicate(value % 2 == 0);
        break;
      case AggKind::kLast:
        acc.AddLast(value, t);
        break;
      case AggKind::kDistinct:
        acc.AddHash(HashInt64(value));
        break;
      default:
        acc.AddNumber(value);
    }
  }
}

inline void Add(PaneStore& store, std::string_view group, TimeMs t, int value = 2) {
  Feed(store.Pane(group, t), t, value);
}

inline std::string EncodeStore(const PaneStore& store) {
  Encoder enc;
  store.Encode(&enc);
  return enc.Release();
}

inline AccSet CountProto() { return {Accumulator(AggKind::kCount)}; }

inline double CountOf(const Fired& f) { return *f.acc.at(0).Result(0); }

}  // namespace pane_store_test
}  // namespace vigil

#endif  // VIGIL_TESTS_WINDOWS_PANE_STORE_HARNESS_H_
