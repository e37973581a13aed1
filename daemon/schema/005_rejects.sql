-- Rejected rows of copy steps that read a SQLite file with rejects = keep:
-- a row with a value that does not convert to its target column's type
-- lands here, in the batch's transaction, instead of in the target, so
-- nothing is dropped silently. migratectl rejects JOB lists them; a job's
-- rows_rejected counts them.
CREATE TABLE migrated.rejects (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL REFERENCES migrated.jobs ON DELETE CASCADE,
    step text NOT NULL,
    key text NOT NULL,     -- the row's walk key, as text
    col text NOT NULL,     -- the first column that did not convert
    value text NOT NULL,   -- its value as SQLite held it (shortened)
    error text NOT NULL,   -- why it did not convert
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejects_job ON migrated.rejects (job_id, id);

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
           'rows_rejected', (SELECT count(*) FROM migrated.rejects r
                             WHERE r.job_id = j.id),
           'warnings', to_json(j.warnings),
           'created', to_char(j.created AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'started', to_char(j.started AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'finished', to_char(j.finished AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'error', j.error) AS info
FROM migrated.jobs j
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object(
               'name', st.step, 'state', st.state,
               'rows_done', st.rows_done,
               'rows_estimated', st.rows_estimated,
               'rows_changed', st.rows_changed,
               'batches', st.batches, 'checkpoint', st.checkpoint)
               ORDER BY st.ord) AS steps,
           sum(st.rows_done)::bigint AS rows_done,
           sum(st.rows_estimated)::bigint AS rows_estimated,
           sum(st.rows_changed)::bigint AS rows_changed
    FROM migrated.job_steps st
    WHERE st.job_id = j.id
) s ON true;
