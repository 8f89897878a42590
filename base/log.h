// base/log.h
//
// vigil's diagnostics on stderr. Log writes one line, "vigil: MESSAGE",
// whole (one write under a lock, so lines of different threads never
// interleave). A job on a terminal keeps a progress line in place at the
// bottom (ShowProgress); a message first ends that line, so it is never
// overwritten or split.
//
// Example:
//   Log(StrCat("rules reloaded: ", n, " metrics"));   // vigil: rules reloaded: 23 metrics
//   Logf("archive: %s", why.c_str());
//   ShowProgress("1000 records, ...", /*final=*/false);
#ifndef VIGIL_BASE_LOG_H_
#define VIGIL_BASE_LOG_H_

#include <string_view>

namespace vigil {

void Log(std::string_view message);
// Log with a printf format: Logf("archive: %s", why.c_str()).
void Logf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Rewrites the progress line in place; `final`: ends it with a newline.
// Call only when stderr is a terminal.
void ShowProgress(std::string_view text, bool final);

}  // namespace vigil

#endif  // VIGIL_BASE_LOG_H_
