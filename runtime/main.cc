#include <malloc.h>

#include <cstdlib>

#include "runtime/cli.h"

int main(int argc, char** argv) {
  // librdkafka decompresses each fetched batch into a fresh buffer of a few
  // MiB. With glibc's defaults such buffers are mmap'ed, or their memory
  // trimmed back to the kernel once freed, so every batch pays for page
  // faults again (~10% of a Kafka job's CPU). Keep blocks below 32 MiB on
  // the heap and up to 64 MiB of freed heap for reuse. MALLOC_* environment
  // variables still override these.
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 64 << 20);
  return vigil::RunCli(argc, argv);
}
