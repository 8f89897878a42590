// base/prefetch.h
//
// PrefetchLine asks the CPU to start loading the cache line holding `p`; it
// never faults and never changes results. Unlike a bare __builtin_prefetch,
// it survives GCC's -O2, which drops a prefetch whose address comes out of a
// side-effect-free lookup loop (a hash probe, say); the empty asm statement
// using the address keeps it.
//
// Example:
//   PrefetchLine(&slots[home]);   // the probe a few events from now hits
#ifndef VIGIL_BASE_PREFETCH_H_
#define VIGIL_BASE_PREFETCH_H_

namespace vigil {

inline void PrefetchLine(const void* p) {
  __builtin_prefetch(p);
  asm volatile("" : : "r"(p));
}

}  // namespace vigil

#endif  // VIGIL_BASE_PREFETCH_H_
