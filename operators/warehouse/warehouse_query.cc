#include "operators/warehouse/warehouse_query.h"

#include <simdjson.h>

#include <cmath>
#include <cstdlib>

#include "base/strings.h"
#include "operators/warehouse/pg_connection.h"
#include "operators/warehouse/warehouse_sink.h"

namespace vigil {
namespace {

constexpr DurationMs kQueryConnectTimeout = 5000;

absl::Status Named(const std::string& url, const absl::Status& s) {
  return absl::Status(
      s.code(), StrCat("results database ", RedactPgUrl(url), ": ", std::string(s.message())));
}

bool ParseLabels(std::string_view json, std::vector<std::pair<std::string, std::string>>* out) {
  simdjson::dom::parser parser;
  simdjson::dom::object labels;
  if (parser.parse(json).get(labels) != simdjson::SUCCESS) return false;
  for (auto [k, v] : labels) {
    std::string_view text;
    if (v.get(text) != simdjson::SUCCESS) return false;
    out->emplace_back(std::string(k), std::string(text));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<StoredWindow>> QueryWarehouse(const std::string& url,
                                                         std::string_view metric, TimeMs from,
                                                         TimeMs to) {
  absl::StatusOr<WarehouseUrl> u = ParseWarehouseUrl(url);
  if (!u.ok()) return u.status();
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(u->libpq_url, kQueryConnectTimeout);
  if (!conn.ok()) return Named(url, conn.status());
  const std::string sql = StrCat(
      "SELECT labels, (extract(epoch FROM window_start) * 1000)::bigint, "
      "(extract(epoch FROM window_end) * 1000)::bigint, value, partial FROM ",
      u->tables.windows,
      " WHERE metric = $1 AND window_start >= $2::timestamptz AND window_start < "
      "$3::timestamptz ORDER BY labels::text, window_start");
  // The open ends of the range as years 1 and 10000.
  const TimeMs lo = std::max<TimeMs>(from, -62135596800000);
  const TimeMs hi = std::min<TimeMs>(to, 253402300800000);
  absl::StatusOr<PgRows> rows =
      (*conn)->Query(sql, {std::string(metric), FormatTimestamp(lo), FormatTimestamp(hi)});
  if (!rows.ok()) return Named(url, rows.status());
  std::vector<StoredWindow> out;
  out.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    StoredWindow w;
    w.metric = std::string(metric);
    if (!row[0] || !ParseLabels(*row[0], &w.labels)) {
      return Named(url, absl::DataLossError(
                            StrCat("labels that are no JSON object: ", row[0].value_or("NULL"))));
    }
    w.start = std::strtoll(row[1].value_or("0").c_str(), nullptr, 10);
    w.end = std::strtoll(row[2].value_or("0").c_str(), nullptr, 10);
    w.value = row[3] ? std::strtod(row[3]->c_str(), nullptr) : std::nan("");
    w.partial = row[4].value_or("f") == "t";
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace vigil
