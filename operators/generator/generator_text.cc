#include "operators/generator/generator_text.h"

#include "base/strings.h"

namespace vigil::generator_internal {

namespace {

// Phrasings per intent; "{t}" is the topic ("our products" without one).
constexpr std::string_view kUser[kIntentCount][TurnText::kPhrasings] = {
    {"I'm looking for something in {t}", "Show me popular {t} items", "Any new arrivals in {t}?"},
    {"Does this {t} item come with a warranty?", "What are the dimensions of this one?",
     "Is this available in other colours?"},
    {"What is your {t} policy?", "How does {t} work here?", "Can you explain {t}?"},
    {"Where is my order?", "My package hasn't arrived yet", "When will my order be delivered?"},
    {"I want to return an item", "How do I send this back?", "Can I get a refund for my order?"},
    {"What would you recommend in {t}?", "Suggest a gift in {t}", "What's good in {t} under $50?"},
    {"Hi there!", "Thanks, that's all", "Are you a bot?"},
    {"I want to talk to a person", "Let me speak to an agent",
     "This isn't working, get me a human"},
};

constexpr std::string_view kResponse[kIntentCount][TurnText::kPhrasings] = {
    {"Here are some popular picks in {t}.", "These {t} items are trending this week.",
     "I found a few new arrivals in {t} for you."},
    {"Yes, it comes with a one-year manufacturer warranty.", "It measures 30 x 20 x 10 cm.",
     "It comes in black, white and blue."},
    {"Our {t} policy: most requests are handled within 30 days; the help page has the details.",
     "For {t}, start from your orders page and follow the steps there.",
     "Sure: {t} is covered in our help centre, and I can walk you through it."},
    {"Your order is on its way and should arrive in 2 days.",
     "It shipped yesterday; here is the tracking link.", "It's out for delivery today."},
    {"You can return it within 30 days; I've started the return for you.",
     "Print the label from your orders page and drop the parcel off.",
     "Your refund will be issued once we receive the item."},
    {"You might like these top-rated {t} picks.", "Here are three gift ideas in {t}.",
     "These {t} items are well reviewed and under $50."},
    {"Hello! How can I help you today?", "You're welcome, have a great day!",
     "I'm the shop's virtual assistant."},
    {"I'm connecting you with a member of our team.", "An agent will join this chat shortly.",
     "Let me hand you over to a colleague."},
};

std::string Fill(std::string_view text, Topic topic) {
  const std::string_view name = topic == kNoTopic ? "our products" : kTopicNames[topic];
  std::string out;
  const size_t at = text.find("{t}");
  if (at == std::string_view::npos) return std::string(text);
  StrAppend(&out, text.substr(0, at), name, text.substr(at + 3));
  return out;
}

}  // namespace

TurnText::TurnText()
    : failed_(JsonString("Sorry, something went wrong on our side. Please try again in a moment.")),
      refused_(JsonString("I can't help with that, but I can connect you with our team.")) {
  user_.resize(static_cast<size_t>(kIntentCount) * kTopicCount * kPhrasings);
  response_.resize(user_.size());
  for (int i = 0; i < kIntentCount; ++i) {
    for (int t = 0; t < kTopicCount; ++t) {
      for (unsigned p = 0; p < kPhrasings; ++p) {
        const size_t at = Index(static_cast<Intent>(i), static_cast<Topic>(t), p);
        user_[at] = JsonString(Fill(kUser[i][p], static_cast<Topic>(t)));
        response_[at] = JsonString(Fill(kResponse[i][p], static_cast<Topic>(t)));
      }
    }
  }
}

unsigned TurnText::Pick(std::string_view id, unsigned number) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : id) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  h = (h ^ number) * 16777619u;
  return h % kPhrasings;
}

}  // namespace vigil::generator_internal
