#include "rules/yaml_keys.h"

#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using ::testing::ElementsAre;

std::vector<std::string> Found(const std::string& yaml) {
  std::vector<std::string> out;
  for (const DuplicateKey& d : FindDuplicateKeys(YAML::Load(yaml))) {
    out.push_back(
        StrCat(d.key, " ", d.first.line, ":", d.first.col, " ", d.second.line, ":", d.second.col));
  }
  return out;
}

TEST(YamlKeysTest, FindsRepeatedKeysInEveryMappingWithBothPositions) {
  EXPECT_THAT(Found("a: 1\nb: 2\n"), ElementsAre());
  EXPECT_THAT(Found("a: 1\nb: 2\na: 3\n"), ElementsAre("a 1:1 3:1"));
  // Three times: each repetition against the first.
  EXPECT_THAT(Found("a: 1\na: 2\na: 3\n"), ElementsAre("a 1:1 2:1", "a 1:1 3:1"));
  // Inside sequences of mappings and flow mappings, at any depth.
  EXPECT_THAT(Found("xs:\n  - {k: 1, k: 2}\n  - m:\n      n: 1\n      n: 2\n"),
              ElementsAre("k 2:6 2:12", "n 4:7 5:7"));
  // The same key in two different mappings is no repetition.
  EXPECT_THAT(Found("- {k: 1}\n- {k: 2}\n"), ElementsAre());
}

TEST(YamlKeysTest, TwoAlertsSectionsAreAnErrorNotALostSection) {
  EXPECT_THAT(Errors("alerts:\n"
                     "  - alert: A\n"
                     "    severity: P1\n"
                     "    expr: m > 0\n"
                     "metrics: [{metric: m, window: tumbling 1m, value: count()}]\n"
                     "alerts:\n"
                     "  - alert: B\n"
                     "    severity: P1\n"
                     "    expr: m > 0\n"),
              ElementsAre("r.yaml:6:1: duplicate key 'alerts': it is also at line 1, column 1; "
                          "the keys of a mapping must be unique: merge the two"));
  EXPECT_THAT(Errors("metrics:\n"
                     "  - metric: n\n"
                     "    window: tumbling 1m\n"
                     "    value: count()\n"
                     "    window: tumbling 5m\n"),
              ElementsAre(::testing::StartsWith(
                  "r.yaml:5:5: duplicate key 'window': it is also at line 3, column 5;")));
}

TEST(YamlKeysTest, NestedAliasesAreWalkedOnceNotExpanded) {
  // Twelve levels of nine aliases each: 9^12 (282 billion) nodes expanded,
  // 12 sequences walked. The duplicate key in the anchored mapping is
  // reported once, where it is written.
  std::string yaml = "a: &a [{k: 1, k: 2}, x]\n";
  std::string prev = "a";
  for (char level = 'b'; level <= 'm'; ++level) {
    const std::string name(1, level);
    StrAppend(&yaml, name, ": &", name, " [");
    for (int i = 0; i < 9; ++i) StrAppend(&yaml, i ? "," : "", "*", prev);
    yaml += "]\n";
    prev = name;
  }
  EXPECT_THAT(Found(yaml), ElementsAre("k 1:9 1:15"));
  // As a rule file: the unknown keys are errors, at once.
  EXPECT_THAT(Errors(yaml), ::testing::Contains(::testing::HasSubstr("unknown")));
}

TEST(YamlKeysTest, DuplicateKeysErrorListsEveryOneAsFileLineCol) {
  EXPECT_TRUE(DuplicateKeysError("j.yaml", YAML::Load("a: 1\n")).ok());
  const absl::Status s = DuplicateKeysError("j.yaml", YAML::Load("a: 1\nb: {c: 1, c: 2}\na: 2\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const std::string message(s.message());
  const std::vector<std::string_view> lines = StrSplit(message, '\n');
  ASSERT_EQ(lines.size(), 2u) << s;
  EXPECT_THAT(lines[0], ::testing::StartsWith(
                            "j.yaml:2:11: duplicate key 'c': it is also at line 2, column 5;"));
  EXPECT_THAT(lines[1], ::testing::StartsWith(
                            "j.yaml:3:1: duplicate key 'a': it is also at line 1, column 1;"));
}

}  // namespace
}  // namespace vigil
