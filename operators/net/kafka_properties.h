// operators/net/kafka_properties.h
//
// Properties passed to librdkafka as they are (security.protocol, sasl.*,
// ssl.*, ...), by the consumer, the writers and the partials reader alike.
//
// Example:
//   KafkaProperties p = {{"security.protocol", "SASL_SSL"}};
#ifndef VIGIL_OPERATORS_NET_KAFKA_PROPERTIES_H_
#define VIGIL_OPERATORS_NET_KAFKA_PROPERTIES_H_

#include <string>
#include <utility>
#include <vector>

namespace vigil {

using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_KAFKA_PROPERTIES_H_
