// rules/source_pos.h
//
// Where something is in a rule or job file, for diagnostics: `file:line:col`.
#ifndef VIGIL_RULES_SOURCE_POS_H_
#define VIGIL_RULES_SOURCE_POS_H_

#include <string>

namespace vigil {

struct SourcePos {
  std::string file;
  int line = 0;  // 1-based
  int col = 0;   // 1-based
};

}  // namespace vigil

#endif  // VIGIL_RULES_SOURCE_POS_H_
