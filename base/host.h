// base/host.h
//
// The machine the process runs on: its name (gethostname), e.g. the pod name
// in Kubernetes (scale-out instance ids, StatefulSet ordinals, dry-run
// consumer groups), and the cores the process may use (the default number
// of workers).
//
// Example:
//   std::string host = HostName();   // "vigil-2"; "" when unknown
//   int cores = UsableCores();       // 2 under `taskset -c 0,1`
#ifndef VIGIL_BASE_HOST_H_
#define VIGIL_BASE_HOST_H_

#include <string>

namespace vigil {

std::string HostName();

// The CPUs the process may run on (its affinity mask, which taskset and
// container CPU sets narrow), else the machine's; at least 1.
int UsableCores();

}  // namespace vigil

#endif  // VIGIL_BASE_HOST_H_
