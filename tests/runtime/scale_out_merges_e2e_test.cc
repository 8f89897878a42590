// Several merge instances split the partials partitions, end to end over
// the Kafka protocol on loopback: the state the instances hand over when
// they stop, which no instance takes over, is closed by every merge
// instance, each counting only the groups whose panes it reads.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/runtime/scale_out_e2e.h"

namespace vigil::scale_out_test {
namespace {

// The partials partitions a merge's log says it was given.
std::set<std::string> Assigned(const std::string& log) {
  std::set<std::string> out;
  const std::string text = ReadFile(log);
  const std::regex line("assigned ([^\\n]*)");
  for (std::sregex_iterator it(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it) {
    const std::string names = (*it)[1];
    const std::regex part("partials/\\d+");
    for (std::sregex_iterator p(names.begin(), names.end(), part); p != std::sregex_iterator();
         ++p) {
      out.insert(p->str());
    }
  }
  return out;
}

// The lines of every file of a --record-dir.
size_t RecordLines(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) n += Lines(ReadFile(e.path().string())).size();
  }
  return n;
}

TEST_F(ScaleOutE2eTest, TwoMergeInstancesCloseTheHandedOverStateOnceBetweenThem) {
  const Pair pair = StartPair();
  if (HasFailure()) return;
  Result gen = Sh(kVigil + kGen + " --to " + Url("events") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  ASSERT_TRUE(WaitFor(
      [&] { return StatusRecords(pair.base_a) + StatusRecords(pair.base_b) == kEvents; }, 60));
  // Both stop with their sessions and waiting join events open: the last
  // to go hands them over, and no instance takes them over.
  ::kill(pair.a, SIGTERM);
  ::kill(pair.b, SIGTERM);
  EXPECT_EQ(WaitExit(pair.a), 0) << ReadFile(Path("a.log"));
  EXPECT_EQ(WaitExit(pair.b), 0) << ReadFile(Path("b.log"));
  const std::string stopped = ReadFile(Path("a.log")) + ReadFile(Path("b.log"));
  ASSERT_NE(stopped.find("handing over the open state of "), std::string::npos) << stopped;
  RunSingle();

  // Two bounded merges in one consumer group, started together: each is
  // given one of the two partials partitions (the development broker, as
  // a real one, waits 3 s for more members before a new group's first
  // assignment).
  auto merge = [&](const std::string& name) {
    return Spawn(kVigil + " run --merge " + Url("partials") +
                     " --exit-at-end --output json --results " + Path(name + ".ndjson") +
                     " --record-dir " + Path(name + "_records") + " --dead-letter " +
                     Path(name + "_dead.ndjson") + " --http off --no-progress" + kGroupProps,
                 Path(name + ".log"));
  };
  const pid_t m0 = merge("m0");
  ChildGuard guard0(m0);
  const pid_t m1 = merge("m1");
  ChildGuard guard1(m1);
  ASSERT_EQ(WaitExit(m0), 0) << ReadFile(Path("m0.log"));
  ASSERT_EQ(WaitExit(m1), 0) << ReadFile(Path("m1.log"));
  const std::set<std::string> parts0 = Assigned(Path("m0.log")), parts1 = Assigned(Path("m1.log"));
  ASSERT_EQ(parts0.size(), 1u) << ReadFile(Path("m0.log"));
  ASSERT_EQ(parts1.size(), 1u) << ReadFile(Path("m1.log"));
  ASSERT_NE(*parts0.begin(), *parts1.begin());
  for (const std::string name : {"m0", "m1"}) {
    const std::string log = ReadFile(Path(name + ".log"));
    EXPECT_NE(log.find("closing the open state of "), std::string::npos) << log;
    EXPECT_NE(log.find("reads 1 of the 2 partials partitions"), std::string::npos) << log;
  }

  // Between them, every window of one instance, each once: none twice
  // with part of its value.
  std::vector<std::string> merged = Windows(Path("m0.ndjson"), kUserKeyed);
  const std::vector<std::string> other = Windows(Path("m1.ndjson"), kUserKeyed);
  EXPECT_FALSE(merged.empty());
  EXPECT_FALSE(other.empty());
  merged.insert(merged.end(), other.begin(), other.end());
  std::sort(merged.begin(), merged.end());
  const std::vector<std::string> single = Windows(Path("single.ndjson"), kUserKeyed);
  EXPECT_GT(single.size(), 500u);
  EXPECT_EQ(merged, single);
  // The records of the joins closed at the end are written once, by the
  // merge reading partition 0.
  const std::string writer = *parts0.begin() == "partials/0" ? "m0" : "m1";
  const std::string quiet = writer == "m0" ? "m1" : "m0";
  EXPECT_NE(ReadFile(Path(quiet + ".log")).find("the one reading partition 0 writes its records"),
            std::string::npos);
  EXPECT_EQ(RecordLines(Path(quiet + "_records")), 0u);
  EXPECT_GT(RecordLines(Path(writer + "_records")), 0u) << ReadFile(Path(writer + ".log"));
}

}  // namespace
}  // namespace vigil::scale_out_test
