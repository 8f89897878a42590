#include "runtime/cli.h"

#include <cstdio>

namespace vigil {

int RunCli(int, char**) {
  std::fprintf(stderr, "vigil: no command\n");
  return 2;
}

}  // namespace vigil
