// FieldPresence: which fields the rules read some accepted event carried.
#include "operators/parse/field_presence.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vigil {
namespace {

class FieldPresenceTest : public ::testing::Test {
 protected:
  FieldPresenceTest() {
    for (const char* f : {"type", "latency_ms", "cahce_hit", "meta.region"}) fields_.Intern(f);
  }
  // An event carrying `present` (by path), every other slot missing.
  Event With(const std::vector<std::pair<std::string, Value>>& present) {
    Event ev;
    ev.slots.assign(static_cast<size_t>(fields_.size()), Value::Missing());
    for (const auto& [path, v] : present) ev.slots[*fields_.Find(path)] = v;
    return ev;
  }
  FieldTable fields_;
};

TEST_F(FieldPresenceTest, AFieldIsSeenOnceAnEventCarriesItNullIncluded) {
  FieldPresence p(fields_);
  EXPECT_EQ(p.Unseen(),
            (std::vector<std::string>{"cahce_hit", "latency_ms", "meta.region", "type"}));
  EXPECT_TRUE(p.Note(With({{"type", Value::String("message")}, {"latency_ms", Value::Number(5)}})));
  EXPECT_EQ(p.Unseen(), (std::vector<std::string>{"cahce_hit", "meta.region"}));
  // Nothing new: false.
  EXPECT_FALSE(p.Note(With({{"type", Value::String("message")}})));
  // null is carried; missing is not.
  EXPECT_TRUE(p.Note(With({{"meta.region", Value::Null()}})));
  EXPECT_EQ(p.Unseen(), (std::vector<std::string>{"cahce_hit"}));
  EXPECT_TRUE(p.seen(*fields_.Find("meta.region")));
  EXPECT_FALSE(p.seen(*fields_.Find("cahce_hit")));
  EXPECT_EQ(
      p.All(),
      (std::vector<std::pair<std::string, bool>>{
          {"type", true}, {"latency_ms", true}, {"cahce_hit", false}, {"meta.region", true}}));
  EXPECT_TRUE(p.Note(With({{"cahce_hit", Value::Bool(false)}})));
  EXPECT_TRUE(p.Unseen().empty());
  EXPECT_FALSE(p.Note(With({{"cahce_hit", Value::Bool(true)}})));
}

TEST_F(FieldPresenceTest, MarkSeenCarriesWhatOtherRulesHadSeen) {
  FieldPresence p(fields_);
  p.MarkSeen("latency_ms");
  p.MarkSeen("latency_ms");
  p.MarkSeen("not_a_rule_field");
  EXPECT_EQ(p.Unseen(), (std::vector<std::string>{"cahce_hit", "meta.region", "type"}));
  EXPECT_FALSE(p.Note(With({{"latency_ms", Value::Number(1)}})));
}

// A schema that declares the events has refused misspelt fields when the
// rules loaded: nothing to report at run time.
TEST_F(FieldPresenceTest, NothingIsTrackedWhenTheSchemaDeclaresTheEvents) {
  ASSERT_FALSE(fields_.Declare("latency_ms", Type::kNumber).has_value());
  fields_.SetDeclaring();
  FieldPresence p(fields_);
  EXPECT_TRUE(p.Unseen().empty());
  EXPECT_TRUE(p.All().empty());
  EXPECT_FALSE(p.Note(With({{"latency_ms", Value::Number(5)}})));
}

}  // namespace
}  // namespace vigil
