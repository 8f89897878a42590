#include "base/host.h"

#include <unistd.h>

namespace vigil {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace vigil
