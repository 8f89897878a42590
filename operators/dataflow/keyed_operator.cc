#include "operators/dataflow/keyed_operator.h"

#include "operators/dataflow/join_operator.h"
#include "operators/dataflow/session_operator.h"

namespace vigil {

std::unique_ptr<KeyedOperator> MakeKeyedOperator(const StreamDef& def) {
  if (def.kind == StreamKind::kJoin) return std::make_unique<JoinOperator>(def);
  return std::make_unique<SessionOperator>(def);
}

}  // namespace vigil
