#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "base/strings.h"

namespace vigil {

namespace {

std::string SizeText(size_t bytes) {
  if (bytes % (size_t{1} << 20) == 0) return StrCat(bytes >> 20, " MiB");
  if (bytes % 1024 == 0) return StrCat(bytes >> 10, " KiB");
  return StrCat(bytes, " bytes");
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError("it is a directory");
  }
  std::string bytes;
  if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) <= max_bytes) {
    bytes.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::DataLossError(std::strerror(err));
    }
    if (n == 0) break;
    if (bytes.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return absl::ResourceExhaustedError(StrCat("it is larger than ", SizeText(max_bytes)));
    }
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace vigil
