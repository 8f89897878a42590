#include "runtime/allocator.h"

#include <malloc.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "base/strings.h"

namespace vigil {
namespace {

constexpr std::string_view kMarker = "VIGIL_ALLOCATOR";

struct Tunable {
  std::string_view name;
  std::string_view value;
};
constexpr Tunable kTunables[] = {
    {"glibc.malloc.hugetlb", "1"},
    {"glibc.malloc.mmap_threshold", "33554432"},  // 32 MiB
    {"glibc.malloc.trim_threshold", "67108864"},  // 64 MiB
};

bool Names(const std::string& tunables, std::string_view name) {
  for (std::string_view item : StrSplit(tunables, ':')) {
    if (item.substr(0, item.find('=')) == name) return true;
  }
  return false;
}

// The kernel names a process after the file it executes, so the restart
// through /proc/self/exe (the very file running, even when an upgrade has
// replaced or removed its path since) would leave it named "exe" in ps,
// pgrep, top and the journal. It takes back the name it was started under:
// the last part of argv[0], which is what the shell, systemd and container
// runtimes execute (the kernel keeps 15 characters of it).
void KeepName(char** argv) {
  if (argv == nullptr || argv[0] == nullptr) return;
  char current[16] = {};
  if (prctl(PR_GET_NAME, current) != 0 || std::string_view(current) != "exe") return;
  const std::string_view path = argv[0];
  const std::string name(path.substr(path.rfind('/') + 1).substr(0, 15));
  if (!name.empty()) prctl(PR_SET_NAME, name.c_str());
}

}  // namespace

std::string AllocatorTunables(const std::string& current) {
  std::string out = current;
  for (const Tunable& t : kTunables) {
    if (Names(current, t.name)) continue;
    StrAppend(&out, out.empty() ? "" : ":", t.name, "=", t.value);
  }
  return out;
}

std::string AllocatorDescription() {
  const char* marker = std::getenv(std::string(kMarker).c_str());
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string_view value = marker ? marker : "";
  if (value == "tuned") {
    // Set by vigil's own restart, or inherited from a vigil: tuned only if
    // the tunables came along.
    if (tunables != nullptr && Names(tunables, kTunables[0].name)) {
      return StrCat("tuned (GLIBC_TUNABLES=", tunables, ")");
    }
    return StrCat("glibc defaults (", kMarker, "=tuned without vigil's GLIBC_TUNABLES)");
  }
  if (value == "default") return StrCat("glibc defaults (", kMarker, "=default)");
  return "glibc defaults, huge pages off (could not restart itself tuned)";
}

void TuneAllocator(char** argv) {
  // "default" keeps glibc's defaults; "tuned" is the restart's own mark
  // (so it restarts once); any other value is not a setting and is ignored.
  const char* marker = std::getenv(std::string(kMarker).c_str());
  if (marker != nullptr &&
      (std::string_view(marker) == "default" || std::string_view(marker) == "tuned")) {
    KeepName(argv);
    return;
  }
  const char* current = std::getenv("GLIBC_TUNABLES");
  const std::string tunables = AllocatorTunables(current ? current : "");
  if (setenv("GLIBC_TUNABLES", tunables.c_str(), 1) == 0 &&
      setenv(std::string(kMarker).c_str(), "tuned", 1) == 0) {
    execv("/proc/self/exe", argv);
  }
  // No exec: at least keep fetch buffers on the heap.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace vigil
