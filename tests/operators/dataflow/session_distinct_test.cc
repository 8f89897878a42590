// distinct() in session streams: a session keeps its first few values'
// hashes in its cells and moves them to a sketch at the next new value.
// Whatever the path (added, merged from two sessions, restored from a
// checkpoint at any point), each record's count must be that of a brute
// force over the events, with and without a quantile beside it (which
// gives every session its sketches from the start).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;
constexpr TimeMs kGap = 30 * kMin;

// The stream, with a quantile beside the distinct when `with_quantile`.
std::string Rules(bool with_quantile) {
  return std::string(R"yaml(
streams:
  - stream: visitors
    key: user_id
    window: session 30m
    emit:
      visits: distinct(session_id)
      events: count()
)yaml") + (with_quantile ? "      p50: quantile(0.5, latency_ms)\n" : "");
}

struct Visit {
  std::string user;
  TimeMs ts;
  int session;
};

std::string Json(const Visit& v) {
  return StrCat(R"({"ts":)", v.ts, R"(,"type":"message","user_id":")", v.user,
                R"(","session_id":"s)", v.session, R"(","latency_ms":)", 100 + v.session, "}");
}

// "user@ts visits=N events=M": the expected records, each user's events
// split into sessions where two consecutive times are kGap or more apart.
std::vector<std::string> BruteForce(const std::vector<Visit>& visits) {
  std::map<std::string, std::vector<Visit>> by_user;
  for (const Visit& v : visits) by_user[v.user].push_back(v);
  std::vector<std::string> out;
  for (auto& [user, vs] : by_user) {
    std::sort(vs.begin(), vs.end(), [](const Visit& a, const Visit& b) { return a.ts < b.ts; });
    std::set<int> ids;
    size_t events = 0;
    for (size_t i = 0; i < vs.size(); ++i) {
      ids.insert(vs[i].session);
      ++events;
      if (i + 1 == vs.size() || vs[i + 1].ts - vs[i].ts >= kGap) {
        out.push_back(
            StrCat(user, "@", vs[i].ts + kGap - 1, " visits=", ids.size(), " events=", events));
        ids.clear();
        events = 0;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SessionDistinctTest : public ::testing::TestWithParam<bool> {
 protected:
  SessionDistinctTest() : h(Rules(GetParam())) {}

  void Feed(SessionOperator& op, const Visit& v) { op.Add(h.Parse(Json(v))); }
  std::vector<std::string> CloseAll(SessionOperator& op) {
    std::vector<std::string> out;
    op.Close(kMaxTime - kGap - 1, [&](const Event& r) {
      const auto& f = op.def().fields;
      std::string line = StrCat(r.slots[kStreamKeySlot].str, "@", r.ts);
      for (const char* name : {"visits", "events"}) {
        StrAppend(&line, " ", name, "=", r.slots[*f.Find(name)].num);
      }
      out.push_back(line);
    });
    std::sort(out.begin(), out.end());
    return out;
  }
  // RestoredSessions, and a restored operator encodes its state to the
  // same bytes.
  std::unique_ptr<SessionOperator> RoundTrip(const SessionOperator& op) {
    std::string bytes;
    std::unique_ptr<SessionOperator> restored = RestoredSessions(op, &bytes);
    if (restored == nullptr) return nullptr;
    Encoder again;
    restored->EncodeState(&again);
    EXPECT_EQ(again.Release(), bytes);
    return restored;
  }

  OperatorHarness h;
};

TEST_P(SessionDistinctTest, CountsAcrossTheInlineLimitAddedOrMerged) {
  SessionOperator op(h.rules->streams[0]);
  std::vector<Visit> visits;
  auto add = [&](const std::string& user, TimeMs ts, int session) {
    visits.push_back({user, ts, session});
    Feed(op, visits.back());
  };
  // a: 0 to 6 distinct values with repeats, one session each hour apart.
  for (int n = 0; n <= 6; ++n) {
    for (int i = 0; i < 2 * n; ++i) add("a", n * 60 * kMin + i * kMin, i % n + 1);
  }
  // b: two sessions of 2 values each (one shared) bridged by a late
  // event: 3 values, inline on both sides.
  add("b", 0, 1);
  add("b", 1000, 2);
  add("b", 50 * kMin, 2);
  add("b", 50 * kMin + 1000, 3);
  add("b", 25 * kMin, 2);
  // c: 5 values (spilled) bridged to 2 inline ones, one shared; d: the
  // reverse order of the same.
  for (int i = 0; i < 5; ++i) add("c", i * 1000, i);
  add("c", 50 * kMin, 4);
  add("c", 50 * kMin + 1000, 9);
  add("c", 25 * kMin, 0);
  add("d", 0, 4);
  add("d", 1000, 9);
  for (int i = 0; i < 5; ++i) add("d", 50 * kMin + i * 1000, i);
  add("d", 25 * kMin, 0);
  // e: two spilled sessions bridged.
  for (int i = 0; i < 5; ++i) add("e", i * 1000, i);
  for (int i = 3; i < 9; ++i) add("e", 50 * kMin + i * 1000, i);
  add("e", 25 * kMin, 20);
  std::unique_ptr<SessionOperator> restored = RoundTrip(op);
  ASSERT_NE(restored, nullptr);
  const std::vector<std::string> expected = BruteForce(visits);
  EXPECT_EQ(CloseAll(op), expected);
  EXPECT_EQ(CloseAll(*restored), expected);
  // The hand count for the merges: b 3, c 6, d 6, e 10.
  for (const char* line : {"b@4800999 visits=3 events=5", "c@4800999 visits=6 events=8",
                           "d@4803999 visits=6 events=8", "e@4807999 visits=10 events=12"}) {
    EXPECT_NE(std::find(expected.begin(), expected.end(), line), expected.end()) << line;
  }
}

TEST_P(SessionDistinctTest, RandomVisitsMatchABruteForceThroughCheckpoints) {
  // 40 users, out-of-order events that often bridge sessions, a session
  // id pool that puts some users past the inline limit; the state goes
  // through a checkpoint every 500 events.
  std::mt19937 rng(7);
  std::vector<Visit> visits;
  for (int i = 0; i < 4000; ++i) {
    const int user = static_cast<int>(rng() % 40);
    const TimeMs ts = static_cast<TimeMs>(rng() % (6000 * kMin));  // ~1 an hour a user
    const int pool = 1 + user % 7;                                 // 1 to 7 distinct ids
    visits.push_back({StrCat("u", user), ts, static_cast<int>(rng() % pool)});
  }
  auto op = std::make_unique<SessionOperator>(h.rules->streams[0]);
  uint64_t merged = 0;
  for (size_t i = 0; i < visits.size(); ++i) {
    Feed(*op, visits[i]);
    if (i % 500 == 499) {
      merged += op->merged_sessions();
      op = RoundTrip(*op);
      ASSERT_NE(op, nullptr);
    }
  }
  EXPECT_GT(merged, 50u);
  const std::vector<std::string> expected = BruteForce(visits);
  EXPECT_GT(expected.size(), 40u * 20);
  EXPECT_EQ(CloseAll(*op), expected);
}

TEST(SessionDistinctDecodeTest, AStateWhoseSketchIsOfAnotherKindIsRefused) {
  // The same layout (one sketch, no cells but the distinct's) and another
  // aggregate: a checkpoint of one is no state of the other.
  OperatorHarness h(R"yaml(
streams:
  - stream: a
    key: user_id
    window: session 30m
    emit:
      n: distinct(session_id)
  - stream: b
    key: user_id
    window: session 30m
    emit:
      n: quantile(0.5, latency_ms)
)yaml");
  SessionOperator a(h.rules->streams[0]);
  SessionOperator b(h.rules->streams[1]);
  a.Add(h.Parse(Json({"u1", 1000, 1})));
  b.Add(h.Parse(Json({"u1", 1000, 1})));
  for (auto [from, to] : {std::pair(&a, &b), std::pair(&b, &a)}) {
    Encoder enc;
    from->EncodeState(&enc);
    const std::string bytes = enc.Release();
    SessionOperator fresh(to->def());
    Decoder dec(bytes);
    EXPECT_FALSE(fresh.DecodeState(&dec));
    EXPECT_EQ(fresh.open_sessions(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutAQuantile, SessionDistinctTest, ::testing::Bool(),
                         [](const auto& info) {
                           return std::string(info.param ? "WithQuantile" : "DistinctOnly");
                         });

}  // namespace
}  // namespace vigil
