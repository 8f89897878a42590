// base/files.h
//
// Reading a whole (small) file: rule, job and test files. A read stops past
// a limit, so that a rule file named /dev/zero or a multi-gigabyte log given
// by mistake is an error, not an allocation without bound.
//
// Example:
//   absl::StatusOr<std::string> text = ReadWholeFile("deploy/job.yaml");
//   if (!text.ok()) {
//     return absl::NotFoundError(StrCat("deploy/job.yaml: cannot read the job file: ",
//                                       text.status().message()));
//   }
#ifndef VIGIL_BASE_FILES_H_
#define VIGIL_BASE_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace vigil {

// The largest rule, job or test file read (the reference rules are 30 KB).
inline constexpr size_t kMaxTextFileBytes = size_t{16} << 20;

// The file's bytes. Otherwise an error whose message completes "cannot read
// the X file: ": the system's reason ("No such file or directory"), "it is
// a directory", or "it is larger than 16 MiB" when more than `max_bytes`
// bytes could be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes = kMaxTextFileBytes);

}  // namespace vigil

#endif  // VIGIL_BASE_FILES_H_
