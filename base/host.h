// base/host.h
//
// The name of the machine the process runs on (gethostname), e.g. the pod
// name in Kubernetes: scale-out instance ids, StatefulSet ordinals, dry-run
// consumer groups.
//
// Example:
//   std::string host = HostName();   // "vigil-2"; "" when unknown
#ifndef VIGIL_BASE_HOST_H_
#define VIGIL_BASE_HOST_H_

#include <string>

namespace vigil {

std::string HostName();

}  // namespace vigil

#endif  // VIGIL_BASE_HOST_H_
