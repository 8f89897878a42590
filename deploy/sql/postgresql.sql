-- The tables of vigil's results database on PostgreSQL (`--results
-- postgresql://…`, docs/outputs-and-paging.md). vigil creates them itself
-- when they are missing; this is the same DDL, for a DBA who creates them
-- ahead of time (with the job's role granted INSERT, UPDATE, SELECT and, for
-- `retention`, DELETE).
CREATE TABLE IF NOT EXISTS vigil_windows (
  metric text NOT NULL,
  labels jsonb NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  value double precision,
  partial boolean NOT NULL,
  rules_fingerprint text NOT NULL,
  written_at timestamptz NOT NULL,
  PRIMARY KEY (metric, labels, window_start)
);
CREATE INDEX IF NOT EXISTS vigil_windows_window_end ON vigil_windows (window_end);
CREATE TABLE IF NOT EXISTS vigil_alerts (
  alert text NOT NULL,
  labels jsonb NOT NULL,
  state text NOT NULL,
  at timestamptz NOT NULL,
  severity text NOT NULL,
  value double precision,
  summary text NOT NULL,
  rules_fingerprint text NOT NULL,
  written_at timestamptz NOT NULL,
  PRIMARY KEY (alert, labels, state, at)
);
CREATE INDEX IF NOT EXISTS vigil_alerts_at ON vigil_alerts (at);
