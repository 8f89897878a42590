#include "operators/net/xml_text.h"

#include <utility>

#include "base/strings.h"

namespace vigil {

std::string XmlText(std::string_view xml, std::string_view tag) {
  const std::string open = StrCat("<", tag, ">"), close = StrCat("</", tag, ">");
  const size_t a = xml.find(open);
  if (a == std::string_view::npos) return "";
  const size_t b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) return "";
  std::string out;
  const std::string_view raw = xml.substr(a + open.size(), b - a - open.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool known = false;
    for (const auto& [entity, c] : kEntities) {
      if (raw.substr(i, entity.size()) == entity) {
        out.push_back(c);
        i += entity.size() - 1;
        known = true;
        break;
      }
    }
    if (!known) out.push_back('&');
  }
  return out;
}

}  // namespace vigil
