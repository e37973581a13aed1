-- Throttling and pacing. A manual throttle (migratectl throttle on) is a
-- row of migrated.throttles: scope '*' for every plan, else a plan's name;
-- until NULL lasts until throttle off. Every daemon sharing this database
-- reads them, and they survive a restart.
CREATE TABLE migrated.throttles (
    scope text PRIMARY KEY,
    reason text NOT NULL,
    until timestamptz,
    uid integer,
    since timestamptz NOT NULL DEFAULT now()
);

-- Per job: the time it waited on a throttle, why it waits now and since
-- when (NULL: it does not), and a rows/s cap of its own (migratectl set;
-- 0: none). batch_size (already there) is what set --batch-size changes.
ALTER TABLE migrated.jobs
    ADD COLUMN throttled_ms bigint NOT NULL DEFAULT 0,
    ADD COLUMN waiting text,
    ADD COLUMN waiting_since timestamptz,
    ADD COLUMN max_rows_per_second integer NOT NULL DEFAULT 0
        CHECK (max_rows_per_second >= 0);

-- The batch size a running step uses now (adaptive, or as set).
ALTER TABLE migrated.job_steps
    ADD COLUMN batch_now integer;

CREATE OR REPLACE VIEW migrated.job_info AS
SELECT j.id, j.plan, j.tenant, j.state,
       json_build_object(
           'id', j.id, 'plan', j.plan, 'tenant', j.tenant, 'pair', j.pair,
           'state', j.state,
           'kind', j.kind, 'rollback_of', j.rollback_of,
           'priority', j.priority, 'batch_size', j.batch_size,
           'dry_run', j.dry_run, 'skip_checks', j.skip_checks,
           'fresh', j.fresh, 'parameters', j.args,
           'steps', coalesce(s.steps, '[]'::json),
           'rows_done', coalesce(s.rows_done, 0),
           'rows_estimated', coalesce(s.rows_estimated, 0),
           'rows_changed', coalesce(s.rows_changed, 0),
           'warnings', to_json(j.warnings),
           'created', to_char(j.created AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'started', to_char(j.started AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'finished', to_char(j.finished AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'error', j.error,
           'throttled_sec', round(j.throttled_ms / 1000.0, 3),
           'waiting', CASE WHEN j.state = 'running' THEN j.waiting END,
           'waiting_since', CASE WHEN j.state = 'running' THEN
               to_char(j.waiting_since AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
           'max_rows_per_second', j.max_rows_per_second) AS info
FROM migrated.jobs j
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object(
               'name', st.step, 'state', st.state,
               'rows_done', st.rows_done,
               'rows_estimated', st.rows_estimated,
               'rows_changed', st.rows_changed,
               'batches', st.batches, 'checkpoint', st.checkpoint,
               'batch_size', st.batch_now)
               ORDER BY st.ord) AS steps,
           sum(st.rows_done)::bigint AS rows_done,
           sum(st.rows_estimated)::bigint AS rows_estimated,
           sum(st.rows_changed)::bigint AS rows_changed
    FROM migrated.job_steps st
    WHERE st.job_id = j.id
) s ON true;
