// operators/warehouse/warehouse_sql.h
//
// The SQL of the warehouse tables: their DDL, the idempotent writes of a
// batch of rows, and the retention deletes, for PostgreSQL and for Redshift
// (deploy/sql/ holds the same DDL for a DBA to run by hand).
//
//   <table>          (metric, labels, window_start) is the key: a window
//                    written again (a replay, a restart from a checkpoint)
//                    replaces its row; a complete window is never replaced
//                    by a partial one.
//   <alerts_table>   (alert, labels, state, at) is the key: a transition
//                    written again is left as it is.
//
// PostgreSQL keeps labels as jsonb and writes with INSERT ... ON CONFLICT.
// Redshift has neither: labels are a VARCHAR holding the JSON object (keys
// in the rule's `by:` order, as in the results file; JSON_PARSE reads it as
// SUPER), and a batch goes through a temporary staging table, deleting the
// rows it replaces and inserting the others, in the writer's transaction.
// The Redshift statements are also valid PostgreSQL, which is how the tests
// run them.
//
// Example:
//   WarehouseTables t;                        // vigil_windows, vigil_alerts
//   conn->Exec(CreateTablesSql(t));
//   std::vector<std::string> rows = {WindowRowSql(t, r, "3f2a…", now)};
//   conn->Exec(WriteWindowsSql(t, rows));
#ifndef VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_SQL_H_
#define VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_SQL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/dataflow/sink.h"

namespace vigil {

enum class WarehouseDialect { kPostgresql, kRedshift };

struct WarehouseTables {
  std::string windows = "vigil_windows";  // optionally schema-qualified: "metrics.windows"
  std::string alerts = "vigil_alerts";
  WarehouseDialect dialect = WarehouseDialect::kPostgresql;
};

// Whether `name` is a table name the warehouse takes: letters, digits and
// '_', not starting with a digit, with at most one '.' between a schema and
// a table.
bool ValidTableName(std::string_view name);

std::string CreateTablesSql(const WarehouseTables& t);

// One row as an SQL tuple "(...)" of the table's written columns.
std::string WindowRowSql(const WarehouseTables& t, const WindowResult& r,
                         std::string_view fingerprint, TimeMs written_at);
std::string AlertRowSql(const WarehouseTables& t, const AlertNotice& n,
                        std::string_view fingerprint, TimeMs written_at);
// The windows table's key of a window's row as the database stores it:
// label values that differ only in what a database cannot hold (a NUL,
// invalid UTF-8) have one key, so a batch holds one row of them.
std::string WindowRowKey(const WindowResult& r);

// The statements that write `rows` (tuples of the functions above), to run
// inside the caller's transaction.
std::string WriteWindowsSql(const WarehouseTables& t, const std::vector<std::string>& rows);
std::string WriteAlertsSql(const WarehouseTables& t, const std::vector<std::string>& rows);

// Deletes at most `limit` windows that ended, and alert transitions that
// happened, before `before`; run repeatedly until fewer are deleted
// (Redshift deletes them all at once: `limit` does not apply).
std::string RetentionWindowsSql(const WarehouseTables& t, TimeMs before, size_t limit);
std::string RetentionAlertsSql(const WarehouseTables& t, TimeMs before, size_t limit);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_WAREHOUSE_WAREHOUSE_SQL_H_
