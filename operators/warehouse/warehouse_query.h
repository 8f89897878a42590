// operators/warehouse/warehouse_query.h
//
// Reading windows back from the results database (warehouse_sql.h): one
// metric's windows that start in [from, to), in the StoredWindow form that
// window results files also read back as (runtime/window_results_file.h).
// Runs on its own connection; the caller filters labels and thins steps.
//
// Example:
//   absl::StatusOr<std::vector<StoredWindow>> w =
//       QueryWarehouse("postgresql://vigil@db/metrics", "latency_p95_ms", from, to);
#ifndef VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_QUERY_H_
#define VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_QUERY_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"

namespace vigil {

// A closed window as stored: in a results file or a database table.
struct StoredWindow {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;  // as stored
  TimeMs start = 0, end = 0;
  double value = 0;  // NaN where the store holds null (a window without a value)
  bool partial = false;
};

// `url` as WarehouseSink takes it (its table and dialect parameters
// apply). Windows ordered by labels, then start. The error names the
// database without its password.
absl::StatusOr<std::vector<StoredWindow>> QueryWarehouse(const std::string& url,
                                                         std::string_view metric, TimeMs from,
                                                         TimeMs to);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_QUERY_H_
