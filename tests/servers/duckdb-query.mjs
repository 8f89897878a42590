// tests/servers/duckdb-query.mjs
//
// Runs one SQL statement in an in-memory DuckDB (@duckdb/node-api, pinned in
// package.json) and prints each result row as a JSON array on a line of its
// own: NULL as null, BOOLEAN and DOUBLE as JSON values, BIGINT and wider as
// strings, TIMESTAMP WITH TIME ZONE as text in UTC. The Parquet tests read
// the archive's files through it (tests/operators/archive/duckdb.h).
// Nothing is installed or fetched: extensions DuckDB does not have built in
// fail the statement. A failed statement prints DuckDB's message on stderr
// and exits 1.
//
//   node tests/servers/duckdb-query.mjs "SELECT count(*) FROM read_parquet('f.parquet')"

// The JSON form of a TIMESTAMP WITH TIME ZONE follows the zone of the
// process when the package loads: UTC, then the import.
process.env.TZ = 'UTC';
const { DuckDBInstance } = await import('@duckdb/node-api');

const sql = process.argv[2];
if (process.argv.length !== 3) {
  console.error('usage: node duckdb-query.mjs SQL');
  process.exit(2);
}
try {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const reader = await connection.runAndReadAll(sql);
  let out = '';
  for (const row of reader.getRowsJson()) out += JSON.stringify(row) + '\n';
  process.stdout.write(out);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
