// operators/generator/generator_text.h
//
// TurnText holds what the generator writes as a turn's `user_message` and
// `response`: a few plausible phrasings per intent, naming the turn's topic
// where the intent has one, JSON-quoted once at construction. A turn's
// phrasing is picked from its session id and turn number, not from the
// traffic model's random stream, so adding text changed no other field of
// any event. Failed turns get the apology the bot sends on errors, and
// guardrail turns its refusal.
//
// Example:
//   TurnText text;
//   text.UserMessage(kFaq, kShipping, 2);   // "\"Can you explain shipping?\""
//   text.Response(kFaq, kShipping, TurnText::kAnswered, 2);
#ifndef VIGIL_OPERATORS_GENERATOR_GENERATOR_TEXT_H_
#define VIGIL_OPERATORS_GENERATOR_GENERATOR_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

#include "operators/generator/generator_traffic.h"
#include "operators/generator/generator_writer.h"

namespace vigil::generator_internal {

class TurnText {
 public:
  static constexpr unsigned kPhrasings = 3;
  enum Outcome : uint8_t { kAnswered, kFailed, kRefused };

  TurnText();
  // JSON strings, quotes included; `pick` is taken modulo kPhrasings.
  std::string_view UserMessage(Intent intent, Topic topic, unsigned pick) const {
    return user_[Index(intent, topic, pick)];
  }
  std::string_view Response(Intent intent, Topic topic, Outcome outcome, unsigned pick) const {
    if (outcome == kFailed) return failed_;
    if (outcome == kRefused) return refused_;
    return response_[Index(intent, topic, pick)];
  }
  // The phrasing of turn `number` of the session whose quoted id is `id`.
  static unsigned Pick(std::string_view id, unsigned number);

 private:
  static size_t Index(Intent intent, Topic topic, unsigned pick) {
    return (static_cast<size_t>(intent) * kTopicCount + topic) * kPhrasings + pick % kPhrasings;
  }

  std::vector<std::string> user_;
  std::vector<std::string> response_;
  std::string failed_;
  std::string refused_;
};

}  // namespace vigil::generator_internal

#endif  // VIGIL_OPERATORS_GENERATOR_GENERATOR_TEXT_H_
