// WarehouseSink against a real PostgreSQL server (Debian's, started by the
// test on loopback): rows exactly as written, once whatever is written
// again, in both dialects (the Redshift statements run on PostgreSQL too);
// one transaction per checkpoint; an outage retried until nothing is
// lost; the state of a checkpoint written by the next job; a refused row
// that does not take its batch with it; retention by event time; the
// bound on waiting rows; and errors that name the database without its
// password.
#include "operators/warehouse/warehouse_sink.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/operators/warehouse/postgres_server.h"

namespace vigil {
namespace {

constexpr TimeMs kT0 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr TimeMs kMinute = 60'000;

template <class Pred>
bool WaitFor(Pred ready, double seconds) {
  for (int i = 0; i < static_cast<int>(seconds * 50); ++i) {
    if (ready()) return true;
    ::usleep(20000);
  }
  return ready();
}

class WarehouseSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = ::testing::TempDir() + "/warehouse_" + std::to_string(::getpid()) +
                            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string why;
    pg_ = PostgresServer::Create(dir, &why);
    ASSERT_TRUE(pg_) << why;
    latency_.name = "latency_p95_ms";
    latency_.by = {"intent"};
    errors_.name = "error_rate";
    alert_.name = "LatencyP95High";
    alert_.severity = Severity::kP2;
  }
  std::unique_ptr<WarehouseSink> Sink(const std::string& params = "",
                                      std::optional<std::string> restored = std::nullopt,
                                      bool seal_on_checkpoint = false) {
    WarehouseSink::Options o;
    o.url = pg_->url() + params;
    o.fingerprint = "f1";
    o.seal_on_checkpoint = seal_on_checkpoint;
    o.linger = 50;
    o.retry_initial = 50;
    o.retry_max = 200;
    o.close_timeout = 20000;
    o.restored = std::move(restored);
    absl::StatusOr<std::unique_ptr<WarehouseSink>> s = WarehouseSink::Create(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  WindowResult Window(const MetricDef& def, std::vector<std::string> labels, TimeMs start,
                      double value, bool partial = false) {
    WindowResult r;
    r.def = &def;
    r.labels = std::move(labels);
    r.start = start;
    r.end = start + 5 * kMinute;
    r.value = value;
    r.partial = partial;
    return r;
  }
  AlertNotice Alert(Transition t, TimeMs at, double value) {
    AlertNotice n;
    n.def = &alert_;
    n.transition = t;
    n.at = at;
    n.value = value;
    n.labels = {{"alertname", alert_.name}, {"severity", "P2"}};
    n.annotations = {{"summary", "p95 latency is high"}};
    return n;
  }
  std::string Windows(const std::string& table = "vigil_windows") {
    return pg_->Psql(
        "SELECT metric, labels::text, to_char(window_start AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI'), value, partial, rules_fingerprint FROM " +
        table + " ORDER BY metric, labels::text, window_start");
  }
  std::unique_ptr<PostgresServer> pg_;
  MetricDef latency_, errors_;
  AlertDef alert_;
};

class WarehouseDialectTest : public WarehouseSinkTest,
                             public ::testing::WithParamInterface<const char*> {};

TEST_P(WarehouseDialectTest, WritesEachRowOnceAndACompleteWindowWins) {
  const std::string params = GetParam();
  std::unique_ptr<WarehouseSink> sink = Sink(params);
  ASSERT_TRUE(sink);
  sink->OnWindow(Window(latency_, {"faq"}, kT0, 812.5));
  sink->OnWindow(Window(latency_, {"billing"}, kT0, 640));
  sink->OnWindow(Window(errors_, {}, kT0, 0.015));
  sink->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 0.02, /*partial=*/true));
  sink->OnAlert(Alert(Transition::kFiring, kT0 + 5 * kMinute, 3100));
  ASSERT_TRUE(sink->Close().ok());
  const std::string want =
      "error_rate|{}|2026-03-01T00:00|0.015|f|f1\n"
      "error_rate|{}|2026-03-01T00:05|0.02|t|f1\n"
      "latency_p95_ms|{\"intent\": \"billing\"}|2026-03-01T00:00|640|f|f1\n"
      "latency_p95_ms|{\"intent\": \"faq\"}|2026-03-01T00:00|812.5|f|f1\n";
  const bool redshift = params.find("redshift") != std::string::npos;
  auto unspaced = [](std::string s) {
    for (size_t p = s.find("\": \""); p != std::string::npos; p = s.find("\": \""))
      s.erase(p + 2, 1);
    return s;
  };
  // jsonb prints a space after the colon; Redshift's VARCHAR keeps the text.
  EXPECT_EQ(Windows(), redshift ? unspaced(want) : want);
  EXPECT_EQ(pg_->Psql("SELECT alert, labels::text, state, value, summary FROM vigil_alerts"),
            redshift ? "LatencyP95High|{\"severity\":\"P2\"}|firing|3100|p95 latency is high\n"
                     : "LatencyP95High|{\"severity\": \"P2\"}|firing|3100|p95 latency is high\n");
  EXPECT_EQ(sink->stats().windows, 4u);
  EXPECT_EQ(sink->stats().alerts, 1u);

  // Written again, as a replay or a restart would: the partial window is
  // now complete, the complete one arrives as a partial (kept), the alert
  // again (kept once).
  std::unique_ptr<WarehouseSink> again = Sink(params);
  again->OnWindow(Window(latency_, {"faq"}, kT0, 900, /*partial=*/true));
  again->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 0.025));
  again->OnAlert(Alert(Transition::kFiring, kT0 + 5 * kMinute, 3100));
  ASSERT_TRUE(again->Close().ok());
  const std::string want2 =
      "error_rate|{}|2026-03-01T00:00|0.015|f|f1\n"
      "error_rate|{}|2026-03-01T00:05|0.025|f|f1\n"
      "latency_p95_ms|{\"intent\": \"billing\"}|2026-03-01T00:00|640|f|f1\n"
      "latency_p95_ms|{\"intent\": \"faq\"}|2026-03-01T00:00|812.5|f|f1\n";
  EXPECT_EQ(Windows(), redshift ? unspaced(want2) : want2);
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_alerts"), "1\n");
}

// Label values that differ only in what the database cannot hold (a NUL,
// invalid UTF-8) are one row: the last written, in one batch as across
// batches, and the batch's other rows are written with it.
TEST_P(WarehouseDialectTest, ValuesTheDatabaseCannotTellApartAreOneRow) {
  std::unique_ptr<WarehouseSink> sink = Sink(GetParam());
  ASSERT_TRUE(sink);
  sink->OnWindow(Window(latency_, {"faq"}, kT0, 1));
  sink->OnWindow(Window(latency_, {std::string("a\0b", 3)}, kT0, 2));
  sink->OnWindow(Window(latency_, {"ab"}, kT0, 3));
  sink->OnWindow(Window(latency_, {"x\xff"}, kT0, 4, /*partial=*/true));
  sink->OnWindow(Window(latency_, {"x\xfe"}, kT0, 5, /*partial=*/true));
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(pg_->Psql("SELECT labels::text, value, partial FROM vigil_windows ORDER BY value"),
            std::string(GetParam()).empty()
                ? "{\"intent\": \"faq\"}|1|f\n{\"intent\": \"ab\"}|3|f\n"
                  "{\"intent\": \"x\xef\xbf\xbd\"}|5|t\n"
                : "{\"intent\":\"faq\"}|1|f\n{\"intent\":\"ab\"}|3|f\n"
                  "{\"intent\":\"x\xef\xbf\xbd\"}|5|t\n");
  EXPECT_EQ(sink->stats().windows, 3u);
}

INSTANTIATE_TEST_SUITE_P(Dialects, WarehouseDialectTest, ::testing::Values("", "?dialect=redshift"),
                         [](const auto& info) {
                           return info.index == 0 ? "postgresql" : "redshift";
                         });

TEST_F(WarehouseSinkTest, TablesAreNamedAndCreatedInTheirSchema) {
  pg_->Psql("CREATE SCHEMA metrics");
  std::unique_ptr<WarehouseSink> sink = Sink("?table=metrics.windows&alerts_table=metrics.alerts");
  sink->OnWindow(Window(errors_, {}, kT0, 0.5));
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(Windows("metrics.windows"), "error_rate|{}|2026-03-01T00:00|0.5|f|f1\n");
  EXPECT_EQ(pg_->Psql("SELECT to_regclass('vigil_windows') IS NULL"), "t\n");
}

// deploy/sql/postgresql.sql, for a DBA to run, makes the tables the sink
// makes.
TEST_F(WarehouseSinkTest, TheShippedDdlIsTheOneTheSinkRuns) {
  const std::string file = std::string(VIGIL_SOURCE_DIR) + "/deploy/sql/postgresql.sql";
  std::ifstream in(file);
  const std::string ddl((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(ddl.empty()) << file;
  pg_->Psql("CREATE SCHEMA shipped; CREATE SCHEMA made; SET search_path TO shipped; " + ddl);
  std::unique_ptr<WarehouseSink> sink =
      Sink("?table=made.vigil_windows&alerts_table=made.vigil_alerts");
  ASSERT_TRUE(sink->Close().ok());
  auto columns = [&](const std::string& schema) {
    return pg_->Psql(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = '" +
        schema + "' ORDER BY table_name, ordinal_position");
  };
  EXPECT_EQ(columns("shipped"), columns("made"));
  EXPECT_NE(columns("made").find("vigil_windows|labels|jsonb|NO"), std::string::npos);
  auto indexes = [&](const std::string& schema) {
    return pg_->Psql("SELECT indexdef FROM pg_indexes WHERE schemaname = '" + schema +
                     "' ORDER BY indexname");
  };
  std::string made = indexes("made");
  for (size_t p = made.find("made."); p != std::string::npos; p = made.find("made.")) {
    made.replace(p, 5, "shipped.");
  }
  EXPECT_EQ(indexes("shipped"), made);
}

TEST_F(WarehouseSinkTest, WithCheckpointsEachCheckpointIsOneTransaction) {
  std::unique_ptr<WarehouseSink> sink = Sink("", std::nullopt, /*seal_on_checkpoint=*/true);
  sink->OnWindow(Window(errors_, {}, kT0, 0.5));
  sink->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 0.25));
  ::usleep(300000);  // six lingers: nothing goes before the checkpoint
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_windows"), "0\n");
  EXPECT_EQ(sink->stats().queued, 2u);
  sink->Seal();
  EXPECT_TRUE(WaitFor([&] { return sink->stats().windows == 2; }, 10));
  EXPECT_EQ(sink->stats().transactions, 1u);
  EXPECT_EQ(pg_->Psql("SELECT count(DISTINCT xmin::text) FROM vigil_windows"), "1\n");
  EXPECT_EQ(sink->stats().queued, 0u);
}

TEST_F(WarehouseSinkTest, AnOutageIsRetriedUntilNothingIsLost) {
  std::unique_ptr<WarehouseSink> sink = Sink();
  pg_->Stop();
  for (int i = 0; i < 30; ++i) sink->OnWindow(Window(errors_, {}, kT0 + i * 5 * kMinute, i));
  EXPECT_TRUE(WaitFor([&] { return sink->stats().failures >= 2; }, 10));
  EXPECT_EQ(sink->stats().queued, 30u);
  EXPECT_EQ(sink->stats().windows, 0u);
  ASSERT_TRUE(pg_->Start()) << pg_->Log();
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(pg_->Psql("SELECT count(*), sum(value) FROM vigil_windows"), "30|435\n");
}

TEST_F(WarehouseSinkTest, TheNextJobWritesWhatACheckpointHeld) {
  std::string state;
  {
    std::unique_ptr<WarehouseSink> sink = Sink("", std::nullopt, /*seal_on_checkpoint=*/true);
    pg_->Stop();
    sink->OnWindow(Window(errors_, {}, kT0, 0.5));
    sink->Seal();  // the checkpoint
    sink->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 0.25));
    sink->OnAlert(Alert(Transition::kFiring, kT0 + 5 * kMinute, 3100));
    state = sink->EncodeState();  // the next checkpoint, before its Seal
  }                               // the job dies: nothing was written
  ASSERT_TRUE(pg_->Start()) << pg_->Log();
  std::unique_ptr<WarehouseSink> next = Sink("", state, /*seal_on_checkpoint=*/true);
  ASSERT_TRUE(next->Close().ok());
  EXPECT_EQ(Windows(),
            "error_rate|{}|2026-03-01T00:00|0.5|f|f1\nerror_rate|{}|2026-03-01T00:05|0.25|f|f1\n");
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_alerts"), "1\n");
  EXPECT_EQ(next->stats().transactions, 2u);

  WarehouseSink::Options bad;
  bad.url = pg_->url();
  bad.restored = "garbage";
  EXPECT_EQ(WarehouseSink::Create(bad).status().message(),
            "results database: unreadable state in the checkpoint");
}

TEST_F(WarehouseSinkTest, ARefusedRowDoesNotTakeItsBatchWithIt) {
  std::unique_ptr<WarehouseSink> sink = Sink();
  pg_->Psql("ALTER TABLE vigil_windows ADD CONSTRAINT small CHECK (value < 100)");
  sink->OnWindow(Window(errors_, {}, kT0, 1));
  sink->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 500));
  sink->OnWindow(Window(errors_, {}, kT0 + 10 * kMinute, 2));
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(pg_->Psql("SELECT value FROM vigil_windows ORDER BY window_start"), "1\n2\n");
  EXPECT_EQ(sink->stats().rejected, 1u);
  EXPECT_EQ(sink->stats().windows, 2u);
}

// A server that refuses every write for a while (read-only after a
// failover, here a trigger that says so) is an outage: the rows wait and
// are written once it takes them, none refused.
TEST_F(WarehouseSinkTest, AReadOnlyServerIsWaitedForNotRefused) {
  std::unique_ptr<WarehouseSink> sink = Sink();
  pg_->Psql(
      "CREATE FUNCTION read_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
      "'cannot execute INSERT in a read-only transaction' USING ERRCODE = '25006'; END $$ "
      "LANGUAGE plpgsql; CREATE TRIGGER read_only BEFORE INSERT ON vigil_windows "
      "FOR EACH ROW EXECUTE FUNCTION read_only()");
  sink->OnWindow(Window(errors_, {}, kT0, 1));
  sink->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 2));
  sink->Seal();
  ASSERT_TRUE(WaitFor([&] { return sink->stats().failures >= 2; }, 10));
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_windows"), "0\n");
  pg_->Psql("DROP TRIGGER read_only ON vigil_windows");
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(pg_->Psql("SELECT value FROM vigil_windows ORDER BY window_start"), "1\n2\n");
  EXPECT_EQ(sink->stats().rejected, 0u);
  EXPECT_EQ(sink->stats().windows, 2u);
}

TEST_F(WarehouseSinkTest, RetentionDeletesByEventTime) {
  std::unique_ptr<WarehouseSink> sink = Sink("?retention=1h");
  // Ends at 00:05, 00:35 and 02:05: the cutoff is 01:05.
  for (TimeMs start : {kT0, kT0 + 30 * kMinute, kT0 + 120 * kMinute}) {
    sink->OnWindow(Window(errors_, {}, start, 1));
  }
  sink->OnAlert(Alert(Transition::kFiring, kT0, 1));
  sink->OnAlert(Alert(Transition::kResolved, kT0 + 120 * kMinute, 1));
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_TRUE(WaitFor([&] { return sink->stats().deleted == 3; }, 10)) << sink->stats().deleted;
  EXPECT_EQ(
      pg_->Psql("SELECT to_char(window_end AT TIME ZONE 'UTC', 'HH24:MI') FROM vigil_windows"),
      "02:05\n");
  EXPECT_EQ(pg_->Psql("SELECT state FROM vigil_alerts"), "resolved\n");
}

// The partial window a replay's end closes (this month's, after two hours
// of data) is not where event time stands: the cutoff stays 01:05.
TEST_F(WarehouseSinkTest, RetentionCountsFromTheLatestCompleteWindow) {
  std::unique_ptr<WarehouseSink> sink = Sink("?retention=1h");
  for (TimeMs start : {kT0, kT0 + 30 * kMinute, kT0 + 120 * kMinute}) {
    sink->OnWindow(Window(errors_, {}, start, 1));
  }
  sink->OnWindow(Window(errors_, {}, kT0 + 31 * 24 * 60 * kMinute, 1, /*partial=*/true));
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_TRUE(WaitFor([&] { return sink->stats().deleted == 2; }, 10)) << sink->stats().deleted;
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_windows"), "2\n");
}

TEST_F(WarehouseSinkTest, OverTheBoundTheOldestBatchesGo) {
  WarehouseSink::Options o;
  o.url = pg_->url();
  o.seal_on_checkpoint = true;
  o.max_queued_rows = 3;
  o.retry_initial = o.retry_max = 60000;  // one failure, then a long wait
  o.close_timeout = 20000;
  std::unique_ptr<WarehouseSink> sink = *WarehouseSink::Create(o);
  pg_->Stop();
  sink->OnWindow(Window(errors_, {}, kT0, 1));
  sink->OnWindow(Window(errors_, {}, kT0 + 5 * kMinute, 2));
  sink->Seal();
  ASSERT_TRUE(WaitFor([&] { return sink->stats().failures == 1; }, 10));
  for (int b = 1; b <= 2; ++b) {
    sink->OnWindow(Window(errors_, {}, kT0 + (10 * b) * kMinute, 10 * b));
    sink->OnWindow(Window(errors_, {}, kT0 + (10 * b + 5) * kMinute, 10 * b + 1));
    sink->Seal();
  }
  EXPECT_EQ(sink->stats().dropped, 4u);
  EXPECT_EQ(sink->stats().queued, 2u);
  ASSERT_TRUE(pg_->Start()) << pg_->Log();
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(pg_->Psql("SELECT value FROM vigil_windows ORDER BY window_start"), "20\n21\n");
}

TEST_F(WarehouseSinkTest, CloseSaysWhatIsLeftWithoutThePassword) {
  WarehouseSink::Options o;
  o.url = pg_->url();
  o.close_timeout = 500;
  o.retry_initial = 50;
  std::unique_ptr<WarehouseSink> sink = *WarehouseSink::Create(o);
  pg_->Stop();
  sink->OnWindow(Window(errors_, {}, kT0, 1));
  sink->OnAlert(Alert(Transition::kFiring, kT0, 1));
  absl::Status s = sink->Close();
  const std::string port = std::to_string(pg_->port());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(s.message())
                .rfind("results database postgresql://vigil:***@127.0.0.1:" + port +
                           "/vigil: 2 rows not written: ",
                       0),
            0u)
      << s;
  EXPECT_EQ(std::string(s.message()).find(PostgresServer::kPassword), std::string::npos);
}

TEST_F(WarehouseSinkTest, AWrongPasswordOrDatabaseIsAClearError) {
  WarehouseSink::Options o;
  o.url = pg_->url("not-the-password");
  absl::StatusOr<std::unique_ptr<WarehouseSink>> s = WarehouseSink::Create(o);
  ASSERT_FALSE(s.ok());
  const std::string message(s.status().message());
  EXPECT_NE(message.find("results database postgresql://vigil:***@127.0.0.1:"), std::string::npos)
      << message;
  EXPECT_NE(message.find("password authentication failed for user \"vigil\""), std::string::npos)
      << message;
  EXPECT_EQ(message.find("not-the-password"), std::string::npos) << message;

  o.url =
      StrCat("postgresql://vigil:", PostgresServer::kPassword, "@127.0.0.1:", pg_->port(), "/nope");
  s = WarehouseSink::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("database \"nope\" does not exist"), std::string::npos)
      << s.status();
}

}  // namespace
}  // namespace vigil
