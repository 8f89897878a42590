#include "windows/session_windows.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

constexpr DurationMs kSecond = 1000;
constexpr DurationMs kMinute = 60 * kSecond;

constexpr DurationMs kGap = 30 * kMinute;

// Each session's state: the event times it holds, in arrival order.
using Times = std::vector<TimeMs>;

struct Closed {
  std::string key;
  TimeMs start, last;
  Times times;
  bool operator==(const Closed&) const = default;
};

class SessionWindowsTest : public ::testing::Test {
 protected:
  SessionWindows<Times> s{kGap, [](Times& into, Times&& from) {
                            into.insert(into.end(), from.begin(), from.end());
                          }};
  void Add(const std::string& key, TimeMs t) {
    s.Add(key, t, [] { return Times{}; })->push_back(t);
  }
  std::vector<Closed> Close(TimeMs frontier) {
    std::vector<Closed> out;
    s.CloseUpTo(frontier, [&](std::string_view key, TimeMs start, TimeMs last, Times& t) {
      out.push_back({std::string(key), start, last, t});
    });
    return out;
  }
};

TEST_F(SessionWindowsTest, EventsLessThanTheGapApartShareASession) {
  Add("a", 0);
  Add("a", kGap - 1);  // one millisecond inside the gap
  EXPECT_EQ(s.session_count(), 1u);
  // Open until last + gap = 2 * kGap - 1.
  EXPECT_TRUE(Close(2 * kGap - 2).empty());
  EXPECT_EQ(Close(2 * kGap - 1), (std::vector<Closed>{{"a", 0, kGap - 1, {0, kGap - 1}}}));
  EXPECT_EQ(s.session_count(), 0u);
  EXPECT_EQ(s.key_count(), 0u);
}

TEST_F(SessionWindowsTest, ASilenceOfExactlyTheGapStartsANewSession) {
  Add("a", 0);
  Add("a", kGap);
  EXPECT_EQ(s.session_count(), 2u);
  EXPECT_EQ(Close(kGap), (std::vector<Closed>{{"a", 0, 0, {0}}}));
  EXPECT_EQ(Close(2 * kGap), (std::vector<Closed>{{"a", kGap, kGap, {kGap}}}));
}

TEST_F(SessionWindowsTest, AnOutOfOrderEventBridgingTwoSessionsMergesThem) {
  Add("a", 0);
  Add("a", 50 * kMinute);  // 50 minutes later: a second session
  EXPECT_EQ(s.session_count(), 2u);
  Add("a", 25 * kMinute);  // late, less than 30 minutes from both
  EXPECT_EQ(s.session_count(), 1u);
  EXPECT_EQ(s.merged_count(), 1u);
  // The first session's old end (30m) is not an end any more.
  EXPECT_TRUE(Close(30 * kMinute).empty());
  EXPECT_EQ(Close(80 * kMinute),
            (std::vector<Closed>{{"a", 0, 50 * kMinute, {0, 50 * kMinute, 25 * kMinute}}}));
}

TEST_F(SessionWindowsTest, AnEarlierEventExtendsTheStart) {
  Add("a", 40 * kMinute);
  Add("a", 20 * kMinute);  // 20 minutes earlier: same session
  Add("a", 0);             // 20 minutes before that: same again
  EXPECT_EQ(s.session_count(), 1u);
  EXPECT_EQ(Close(70 * kMinute),
            (std::vector<Closed>{{"a", 0, 40 * kMinute, {40 * kMinute, 20 * kMinute, 0}}}));
}

TEST_F(SessionWindowsTest, AnOutOfOrderEventFarFromOthersIsItsOwnSession) {
  Add("a", 100 * kMinute);
  Add("a", 0);
  EXPECT_EQ(s.session_count(), 2u);
  // The earlier session closes first although it arrived second.
  EXPECT_EQ(Close(kGap), (std::vector<Closed>{{"a", 0, 0, {0}}}));
  EXPECT_EQ(Close(130 * kMinute), (std::vector<Closed>{{"a", 100 * kMinute, 100 * kMinute,
                                                        {100 * kMinute}}}));
}

TEST_F(SessionWindowsTest, ClosesInOrderOfEndThenKey) {
  Add("b", 0);
  Add("a", 0);
  Add("c", -kMinute);
  Add("a", 10 * kMinute);
  EXPECT_EQ(Close(kMaxTime - kGap),
            (std::vector<Closed>{{"c", -kMinute, -kMinute, {-kMinute}},
                                 {"b", 0, 0, {0}},
                                 {"a", 0, 10 * kMinute, {0, 10 * kMinute}}}));
}

TEST_F(SessionWindowsTest, KeysAreForgottenWhenTheirSessionsClose) {
  for (int i = 0; i < 1000; ++i) Add("k" + std::to_string(i), i * kSecond);
  EXPECT_EQ(s.key_count(), 1000u);
  // Sessions ending up to 499 s + gap.
  EXPECT_EQ(Close(kGap + 499 * kSecond).size(), 500u);
  EXPECT_EQ(s.key_count(), 500u);
  EXPECT_EQ(s.session_count(), 500u);
  // A key that keeps being active is never closed early.
  for (int i = 0; i < 100; ++i) Add("k999", 999 * kSecond + i * kMinute);
  EXPECT_EQ(Close(kGap + 999 * kSecond).size(), 499u);
  EXPECT_EQ(s.key_count(), 1u);
  std::vector<Closed> last = Close(kMaxTime - kGap);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].times.size(), 101u);
  EXPECT_EQ(s.key_count(), 0u);
}

TEST_F(SessionWindowsTest, RestoreRebuildsWhatForEachSaw) {
  Add("a", 0);
  Add("a", 10 * kMinute);
  Add("b", 5 * kMinute);
  Add("b", 100 * kMinute);
  std::vector<Closed> saved;
  s.ForEach([&](std::string_view key, const SessionWindows<Times>::Session& ss) {
    saved.push_back({std::string(key), ss.start, ss.last, ss.state});
  });
  ASSERT_EQ(saved.size(), 3u);
  SessionWindows<Times> copy(kGap, [](Times&, Times&&) {});
  for (const Closed& c : saved) copy.Restore(c.key, c.start, c.last, c.times);
  std::vector<Closed> want = Close(kMaxTime - kGap);
  std::vector<Closed> got;
  copy.CloseUpTo(kMaxTime - kGap, [&](std::string_view key, TimeMs start, TimeMs last, Times& t) {
    got.push_back({std::string(key), start, last, t});
  });
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace vigil
