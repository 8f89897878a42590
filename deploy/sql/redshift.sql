-- The tables of vigil's results database on Amazon Redshift (`--results
-- postgresql://…?dialect=redshift`, docs/outputs-and-paging.md). vigil
-- creates them itself when they are missing (without the sort keys); this
-- DDL adds sort keys on time, which range queries and the retention's
-- deletes use. Labels are a JSON object as text: JSON_PARSE(labels) reads it
-- as SUPER. Redshift does not enforce the primary keys; vigil's writes keep
-- them unique.
CREATE TABLE IF NOT EXISTS vigil_windows (
  metric VARCHAR(256) NOT NULL,
  labels VARCHAR(65535) NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  value double precision,
  partial boolean NOT NULL,
  rules_fingerprint VARCHAR(256) NOT NULL,
  written_at timestamptz NOT NULL,
  PRIMARY KEY (metric, labels, window_start)
)
COMPOUND SORTKEY (window_start, metric);
CREATE TABLE IF NOT EXISTS vigil_alerts (
  alert VARCHAR(256) NOT NULL,
  labels VARCHAR(65535) NOT NULL,
  state VARCHAR(256) NOT NULL,
  at timestamptz NOT NULL,
  severity VARCHAR(256) NOT NULL,
  value double precision,
  summary VARCHAR(65535) NOT NULL,
  rules_fingerprint VARCHAR(256) NOT NULL,
  written_at timestamptz NOT NULL,
  PRIMARY KEY (alert, labels, state, at)
)
COMPOUND SORTKEY (at, alert);
