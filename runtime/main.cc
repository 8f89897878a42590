#include "runtime/allocator.h"
#include "runtime/cli.h"

int main(int argc, char** argv) {
  vigil::TuneAllocator(argv);  // may start vigil again, tuned
  return vigil::RunCli(argc, argv);
}
