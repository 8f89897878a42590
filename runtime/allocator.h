// runtime/allocator.h
//
// How vigil sets up glibc's allocator for a stream job's memory: millions of
// small session records, sketches and index slots read in random order, and
// librdkafka's fetch buffers of a few MiB each.
//
// - Transparent huge pages for the heap (glibc.malloc.hugetlb=1): a random
//   walk over a few hundred MiB of session state misses the TLB far less
//   with 2 MiB pages, and growing the heap faults 512 times less often,
//   for ~10 MiB more memory. On a VM that hands free memory back to its
//   host, each new 2 MiB page is faulted in from the host again while the
//   heap grows: a replay can cost more than it saves (docs/operations.md,
//   "Memory and the allocator").
// - Blocks below 32 MiB stay on the heap and up to 64 MiB of freed heap is
//   kept for reuse (glibc.malloc.mmap_threshold, trim_threshold), so each
//   decompressed fetch does not fault its pages in again.
//
// glibc reads its tunables once, when a process starts, so vigil starts
// itself again (exec of /proc/self/exe, same arguments) with GLIBC_TUNABLES
// set, and keeps its name (`vigil` in ps, pgrep and /proc/PID/comm, not
// `exe`). Tunables the user set already are kept; VIGIL_ALLOCATOR=default
// leaves glibc's defaults alone (run under valgrind with it). If the exec
// fails, only the thresholds are set (mallopt) and the job runs as usual.
//
// Example (first thing in main):
//   vigil::TuneAllocator(argv);   // returns only in the tuned process
#ifndef VIGIL_RUNTIME_ALLOCATOR_H_
#define VIGIL_RUNTIME_ALLOCATOR_H_

#include <string>

namespace vigil {

// GLIBC_TUNABLES for vigil: `current` (the inherited value, maybe empty)
// with vigil's settings added for every tunable it does not name yet.
std::string AllocatorTunables(const std::string& current);

// What this process runs with, for `vigil --version`: "tuned
// (GLIBC_TUNABLES=…)", or "glibc defaults" and why.
std::string AllocatorDescription();

// Re-executes the process with AllocatorTunables unless it was done or
// VIGIL_ALLOCATOR says not to; returns if it does not.
void TuneAllocator(char** argv);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_ALLOCATOR_H_
