// base/files.h
//
// Reading a whole (small) file: rule, job and config files.
//
// Example:
//   std::optional<std::string> text = ReadWholeFile("deploy/job.yaml");
//   if (!text) return absl::NotFoundError("cannot open the job file");
#ifndef VIGIL_BASE_FILES_H_
#define VIGIL_BASE_FILES_H_

#include <optional>
#include <string>

namespace vigil {

// The file's bytes; nullopt when it cannot be opened or read, or is a
// directory.
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace vigil

#endif  // VIGIL_BASE_FILES_H_
