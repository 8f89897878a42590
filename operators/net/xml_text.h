// operators/net/xml_text.h
//
// The text of an element in the small XML answers of AWS APIs (S3 errors
// and listings, STS): enough for flat, known shapes, not a general parser.
//
// Example:
//   XmlText("<Error><Code>NoSuchKey</Code></Error>", "Code");   // "NoSuchKey"
#ifndef VIGIL_OPERATORS_NET_XML_TEXT_H_
#define VIGIL_OPERATORS_NET_XML_TEXT_H_

#include <string>
#include <string_view>

namespace vigil {

// The text of the first <tag>…</tag> in `xml`, the five predefined entities
// decoded; "" when absent.
std::string XmlText(std::string_view xml, std::string_view tag);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_XML_TEXT_H_
