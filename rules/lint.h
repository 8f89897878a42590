// rules/lint.h
//
// Warnings about rule files that load but probably do not mean what their
// author thinks. `vigil check` prints them as `file:line:col: warning: ...`
// and still exits 0 (1 with --strict):
//   - a metric no alert uses and that is not marked `export: true`;
//   - a stream no metric reads (`from:`);
//   - a `for:` shorter than the alert's evaluation interval (it fires at the
//     first true evaluation, never pending) or no multiple of it (rounded up
//     to whole evaluations), at the `for:` line;
//   - a threshold outside [0, 1] on a ratio metric, which can never (or
//     always) hold: 5 where 0.05 was meant;
//   - a `resolve:` that holds where `expr:` holds too (the alert resolves
//     and fires again every round), with values at which both hold;
//   - a metric whose name on /metrics Prometheus' naming lint rejects
//     (abbreviated or non-base units, reserved suffixes), with the `unit:`
//     that fixes it (rules/metric_names.h).
//
// Example:
//   for (const Diagnostic& w : LintRules(*loaded.rules)) std::cerr << w.ToString() << "\n";
#ifndef VIGIL_RULES_LINT_H_
#define VIGIL_RULES_LINT_H_

#include <vector>

#include "rules/rule_set.h"

namespace vigil {

std::vector<Diagnostic> LintRules(const RuleSet& rules);

}  // namespace vigil

#endif  // VIGIL_RULES_LINT_H_
