#include "operators/warehouse/warehouse_sql.h"

#include <cmath>
#include <map>

#include "base/strings.h"
#include "operators/warehouse/pg_connection.h"

namespace vigil {
namespace {

bool Redshift(const WarehouseTables& t) { return t.dialect == WarehouseDialect::kRedshift; }

// "metrics.windows" -> "windows": how statements refer to a table's columns.
std::string_view Unqualified(std::string_view table) {
  const size_t dot = table.find('.');
  return dot == std::string_view::npos ? table : table.substr(dot + 1);
}

std::string Timestamp(TimeMs t) { return PgQuote(FormatTimestamp(t)); }

// A double as SQL: shortest round-trip text; NaN as NULL, infinities as
// PostgreSQL's 'Infinity' (NULL on Redshift, which has none).
std::string Number(const WarehouseTables& t, double v) {
  if (std::isnan(v)) return "NULL";
  if (std::isinf(v)) return Redshift(t) ? "NULL" : (v > 0 ? "'Infinity'" : "'-Infinity'");
  std::string out;
  AppendJsonNumber(v, &out);
  return out;
}

constexpr char kWindowColumns[] =
    "metric, labels, window_start, window_end, value, partial, rules_fingerprint, written_at";
constexpr char kAlertColumns[] =
    "alert, labels, state, at, severity, value, summary, rules_fingerprint, written_at";

std::string Values(const std::vector<std::string>& rows) {
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) StrAppend(&out, i ? ",\n" : "", rows[i]);
  return out;
}

// The key columns of `a` equal to those of `b`.
std::string WindowKey(std::string_view a, std::string_view b) {
  return StrCat(a, ".metric = ", b, ".metric AND ", a, ".labels = ", b, ".labels AND ", a,
                ".window_start = ", b, ".window_start");
}
std::string AlertKey(std::string_view a, std::string_view b) {
  return StrCat(a, ".alert = ", b, ".alert AND ", a, ".labels = ", b, ".labels AND ", a,
                ".state = ", b, ".state AND ", a, ".at = ", b, ".at");
}

// Redshift: the batch into a staging table; out with the rows it replaces
// (those `replace` holds for, when given), in with the others.
std::string Staged(const std::string& table, const char* columns,
                   std::string (*key)(std::string_view, std::string_view),
                   const std::string& replace, const std::vector<std::string>& rows) {
  const std::string_view name = Unqualified(table);
  const std::string stage = StrCat("vigil_stage_", name);
  std::string sql = StrCat("CREATE TEMP TABLE ", stage, " (LIKE ", table, ");\n", "INSERT INTO ",
                           stage, " (", columns, ") VALUES\n", Values(rows), ";\n");
  if (!replace.empty()) {
    StrAppend(&sql, "DELETE FROM ", table, " USING ", stage, " WHERE ", key(name, stage), " AND (",
              replace, ");\n");
  }
  StrAppend(&sql, "INSERT INTO ", table, " (", columns, ") SELECT ", columns, " FROM ", stage,
            " WHERE NOT EXISTS (SELECT 1 FROM ", table, " w WHERE ", key("w", stage), ");\n",
            "DROP TABLE ", stage, ";\n");
  return sql;
}

}  // namespace

bool ValidTableName(std::string_view name) {
  int dots = 0;
  bool start = true;
  for (char c : name) {
    if (c == '.') {
      if (start || ++dots > 1) return false;
      start = true;
      continue;
    }
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && !start)) return false;
    start = false;
  }
  return !start && name.size() <= 127;
}

std::string CreateTablesSql(const WarehouseTables& t) {
  const bool rs = Redshift(t);
  const char* text = rs ? "VARCHAR(256)" : "text";
  const char* labels = rs ? "VARCHAR(65535)" : "jsonb";
  const char* long_text = rs ? "VARCHAR(65535)" : "text";
  std::string sql = StrCat(
      "CREATE TABLE IF NOT EXISTS ", t.windows, " (\n  metric ", text, " NOT NULL,\n", "  labels ",
      labels, " NOT NULL,\n", "  window_start timestamptz NOT NULL,\n",
      "  window_end timestamptz NOT NULL,\n", "  value double precision,\n",
      "  partial boolean NOT NULL,\n", "  rules_fingerprint ", text, " NOT NULL,\n",
      "  written_at timestamptz NOT NULL,\n", "  PRIMARY KEY (metric, labels, window_start)\n);\n");
  if (!rs) {
    StrAppend(&sql, "CREATE INDEX IF NOT EXISTS ", Unqualified(t.windows), "_window_end ON ",
              t.windows, " (window_end);\n");
  }
  StrAppend(&sql, "CREATE TABLE IF NOT EXISTS ", t.alerts, " (\n  alert ", text, " NOT NULL,\n",
            "  labels ", labels, " NOT NULL,\n", "  state ", text, " NOT NULL,\n",
            "  at timestamptz NOT NULL,\n", "  severity ", text, " NOT NULL,\n",
            "  value double precision,\n", "  summary ", long_text, " NOT NULL,\n",
            "  rules_fingerprint ", text, " NOT NULL,\n", "  written_at timestamptz NOT NULL,\n",
            "  PRIMARY KEY (alert, labels, state, at)\n);\n");
  if (!rs) {
    StrAppend(&sql, "CREATE INDEX IF NOT EXISTS ", Unqualified(t.alerts), "_at ON ", t.alerts,
              " (at);\n");
  }
  return sql;
}

namespace {

// The labels column of a window: a JSON object of its by: labels.
std::string WindowLabels(const WindowResult& r) {
  std::string labels = "{";
  for (size_t i = 0; i < r.labels.size() && i < r.def->by.size(); ++i) {
    if (i) labels.push_back(',');
    AppendJsonString(r.def->by[i], &labels);
    labels.push_back(':');
    // jsonb refuses \u0000.
    std::string value = r.labels[i];
    std::erase(value, '\0');
    AppendJsonString(value, &labels);
  }
  labels.push_back('}');
  return labels;
}

}  // namespace

std::string WindowRowSql(const WarehouseTables& t, const WindowResult& r,
                         std::string_view fingerprint, TimeMs written_at) {
  return StrCat("(", PgQuote(r.def->name), ", ", PgQuote(WindowLabels(r)), ", ", Timestamp(r.start),
                ", ", Timestamp(r.end), ", ", Number(t, r.value), ", ",
                r.partial ? "true" : "false", ", ", PgQuote(fingerprint), ", ",
                Timestamp(written_at), ")");
}

std::string WindowRowKey(const WindowResult& r) {
  return StrCat(r.def->name, "\x1f", ValidUtf8(WindowLabels(r)), "\x1f", r.start);
}

std::string AlertRowSql(const WarehouseTables& t, const AlertNotice& n,
                        std::string_view fingerprint, TimeMs written_at) {
  std::string labels;
  std::map<std::string, std::string> without_name;
  for (const auto& [k, v] : n.labels) {
    if (k == "alertname") continue;
    std::string value = v;
    std::erase(value, '\0');  // jsonb refuses \u0000
    without_name[k] = std::move(value);
  }
  AppendJsonObject(without_name, &labels);
  std::string summary;
  for (const auto& [k, v] : n.annotations) {
    if (k == "summary") summary = v;
  }
  return StrCat("(", PgQuote(n.def->name), ", ", PgQuote(labels), ", ",
                PgQuote(TransitionName(n.transition)), ", ", Timestamp(n.at), ", ",
                PgQuote(SeverityName(n.def->severity)), ", ", Number(t, n.value), ", ",
                PgQuote(summary), ", ", PgQuote(fingerprint), ", ", Timestamp(written_at), ")");
}

std::string WriteWindowsSql(const WarehouseTables& t, const std::vector<std::string>& rows) {
  if (rows.empty()) return "";
  if (Redshift(t)) {
    const std::string_view name = Unqualified(t.windows);
    return Staged(t.windows, kWindowColumns, WindowKey,
                  StrCat(name, ".partial OR NOT vigil_stage_", name, ".partial"), rows);
  }
  const std::string_view name = Unqualified(t.windows);
  return StrCat("INSERT INTO ", t.windows, " (", kWindowColumns, ") VALUES\n", Values(rows),
                "\nON CONFLICT (metric, labels, window_start) DO UPDATE SET window_end = "
                "EXCLUDED.window_end, value = EXCLUDED.value, partial = EXCLUDED.partial, "
                "rules_fingerprint = EXCLUDED.rules_fingerprint, written_at = EXCLUDED.written_at"
                " WHERE ",
                name, ".partial OR NOT EXCLUDED.partial;\n");
}

std::string WriteAlertsSql(const WarehouseTables& t, const std::vector<std::string>& rows) {
  if (rows.empty()) return "";
  if (Redshift(t)) {
    return Staged(t.alerts, kAlertColumns, AlertKey, "", rows);
  }
  return StrCat("INSERT INTO ", t.alerts, " (", kAlertColumns, ") VALUES\n", Values(rows),
                "\nON CONFLICT (alert, labels, state, at) DO NOTHING;\n");
}

namespace {

std::string Retention(const WarehouseTables& t, const std::string& table, const char* column,
                      TimeMs before, size_t limit) {
  if (Redshift(t)) {
    return StrCat("DELETE FROM ", table, " WHERE ", column, " < ", Timestamp(before), ";");
  }
  return StrCat("DELETE FROM ", table, " WHERE ctid IN (SELECT ctid FROM ", table, " WHERE ",
                column, " < ", Timestamp(before), " LIMIT ", limit, ");");
}

}  // namespace

std::string RetentionWindowsSql(const WarehouseTables& t, TimeMs before, size_t limit) {
  return Retention(t, t.windows, "window_end", before, limit);
}

std::string RetentionAlertsSql(const WarehouseTables& t, TimeMs before, size_t limit) {
  return Retention(t, t.alerts, "at", before, limit);
}

}  // namespace vigil
