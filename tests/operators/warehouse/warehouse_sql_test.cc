// The warehouse's URL parameters, table names, redaction, quoting and the
// exact SQL of a row; the statements themselves run against a real server
// in warehouse_sink_test.cc.
#include "operators/warehouse/warehouse_sql.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "operators/warehouse/pg_connection.h"
#include "operators/warehouse/warehouse_sink.h"

namespace vigil {
namespace {

TEST(WarehouseUrlTest, TakesVigilsParametersAndLeavesTheRestToLibpq) {
  absl::StatusOr<WarehouseUrl> u = ParseWarehouseUrl(
      "postgresql://vigil:pw@db:5432/metrics?sslmode=require&table=m.windows"
      "&alerts_table=m.alerts&dialect=redshift&retention=90d&connect_timeout=3");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->libpq_url,
            "postgresql://vigil:pw@db:5432/metrics?sslmode=require&connect_timeout=3");
  EXPECT_EQ(u->tables.windows, "m.windows");
  EXPECT_EQ(u->tables.alerts, "m.alerts");
  EXPECT_EQ(u->tables.dialect, WarehouseDialect::kRedshift);
  EXPECT_EQ(u->retention, 90LL * 86'400'000);

  absl::StatusOr<WarehouseUrl> plain = ParseWarehouseUrl("postgres://127.0.0.1/metrics");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->libpq_url, "postgres://127.0.0.1/metrics");
  EXPECT_EQ(plain->tables.windows, "vigil_windows");
  EXPECT_EQ(plain->tables.alerts, "vigil_alerts");
  EXPECT_EQ(plain->tables.dialect, WarehouseDialect::kPostgresql);
  EXPECT_EQ(plain->retention, 0);
}

TEST(WarehouseUrlTest, BadParametersAreNamed) {
  auto message = [](const char* url) {
    return std::string(ParseWarehouseUrl(url).status().message());
  };
  EXPECT_EQ(message("postgresql://h/db?table=x;drop"),
            "results URL: table=x;drop is not a table name (letters, digits and _, optionally "
            "schema.table)");
  EXPECT_EQ(message("postgresql://h/db?dialect=mysql"),
            "results URL: dialect=mysql: the dialects are postgresql and redshift");
  EXPECT_EQ(message("postgresql://h/db?retention=soon"),
            "results URL: retention=soon is not a duration such as 90d (0: keep everything)");
  ASSERT_TRUE(ParseWarehouseUrl("postgresql://h/db?retention=0").ok());
  EXPECT_EQ(ParseWarehouseUrl("postgresql://h/db?retention=0")->retention, 0);
  EXPECT_EQ(message("postgresql://h/db?table=t&alerts_table=t"),
            "results URL: table and alerts_table are both t");
  EXPECT_EQ(message("mysql://h/db"), "results URL: a database URL starts with postgresql://");
  EXPECT_TRUE(IsWarehouseUrl("postgres://h/db"));
  EXPECT_FALSE(IsWarehouseUrl("results.ndjson"));
}

TEST(WarehouseSqlTest, TableNames) {
  EXPECT_TRUE(ValidTableName("vigil_windows"));
  EXPECT_TRUE(ValidTableName("metrics.windows_2"));
  EXPECT_FALSE(ValidTableName(""));
  EXPECT_FALSE(ValidTableName("2windows"));
  EXPECT_FALSE(ValidTableName("a.b.c"));
  EXPECT_FALSE(ValidTableName("a."));
  EXPECT_FALSE(ValidTableName(".a"));
  EXPECT_FALSE(ValidTableName("a b"));
  EXPECT_FALSE(ValidTableName("a\"b"));
}

TEST(WarehouseSqlTest, PasswordsNeverShow) {
  EXPECT_EQ(RedactPgUrl("postgresql://vigil:s3cr@t@db:5432/m?sslmode=require"),
            "postgresql://vigil:***@db:5432/m?sslmode=require");
  EXPECT_EQ(RedactPgUrl("postgresql://db/m?user=v&password=abc&sslmode=require"),
            "postgresql://db/m?user=v&password=***&sslmode=require");
  EXPECT_EQ(RedactPgUrl("postgresql://vigil@db/m"), "postgresql://vigil@db/m");
  EXPECT_EQ(RedactPgUrl("postgresql:///m?host=/run/postgresql"),
            "postgresql:///m?host=/run/postgresql");
}

TEST(WarehouseSqlTest, QuotesStrings) {
  EXPECT_EQ(PgQuote("it's"), "'it''s'");
  EXPECT_EQ(PgQuote(std::string("a\0b", 3)), "'ab'");
  EXPECT_EQ(PgQuote("back\\slash"), "'back\\slash'");
}

TEST(WarehouseSqlTest, ARowIsItsColumnsInOrder) {
  MetricDef def;
  def.name = "latency_p95_ms";
  def.by = {"intent", "model"};
  WindowResult r;
  r.def = &def;
  r.labels = {"faq", "o'brien"};
  r.start = 1772323200000;  // 2026-03-01T00:00:00Z
  r.end = r.start + 300'000;
  r.value = 812.5;
  WarehouseTables t;
  EXPECT_EQ(WindowRowSql(t, r, "abc", r.end + 1500),
            "('latency_p95_ms', '{\"intent\":\"faq\",\"model\":\"o''brien\"}', "
            "'2026-03-01T00:00:00.000Z', '2026-03-01T00:05:00.000Z', 812.5, false, 'abc', "
            "'2026-03-01T00:05:01.500Z')");
  r.partial = true;
  r.value = std::nan("");
  EXPECT_NE(WindowRowSql(t, r, "abc", 0).find(", NULL, true, "), std::string::npos);
  r.value = std::numeric_limits<double>::infinity();
  EXPECT_NE(WindowRowSql(t, r, "abc", 0).find(", 'Infinity', true, "), std::string::npos);
  t.dialect = WarehouseDialect::kRedshift;
  EXPECT_NE(WindowRowSql(t, r, "abc", 0).find(", NULL, true, "), std::string::npos);
}

TEST(WarehouseSqlTest, AlertRowsLeaveTheNameOutOfTheLabels) {
  AlertDef def;
  def.name = "LatencyP95High";
  def.severity = Severity::kP2;
  AlertNotice n;
  n.def = &def;
  n.transition = Transition::kFiring;
  n.at = 1772323200000;
  n.value = 3100;
  n.labels = {{"alertname", "LatencyP95High"}, {"severity", "P2"}, {"intent", "faq"}};
  n.annotations = {{"summary", "p95 latency is 3.1 s"}, {"runbook", "x"}};
  EXPECT_EQ(AlertRowSql(WarehouseTables(), n, "abc", n.at),
            "('LatencyP95High', '{\"intent\":\"faq\",\"severity\":\"P2\"}', 'firing', "
            "'2026-03-01T00:00:00.000Z', 'P2', 3100, 'p95 latency is 3.1 s', 'abc', "
            "'2026-03-01T00:00:00.000Z')");
}

}  // namespace
}  // namespace vigil
