-- Backups of pre-images and rollback jobs.

-- The whole row, before a batch of a step with backup = yes changed it,
-- stored in the batch's own transaction. key is the step's key as text.
CREATE TABLE migrated.backups (
    job_id bigint NOT NULL REFERENCES migrated.jobs ON DELETE CASCADE,
    step text NOT NULL,
    key text COLLATE "C" NOT NULL,
    row jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, step, key)
);

-- A rollback is a job of its own (kind 'rollback') that restores the
-- backups of rollback_of, step by step in reverse order, with checkpoints
-- like any job. When it succeeds the original job becomes 'rolled_back'.
ALTER TABLE migrated.jobs
    ADD COLUMN kind text NOT NULL DEFAULT 'migrate'
        CHECK (kind IN ('migrate', 'rollback')),
    ADD COLUMN rollback_of bigint REFERENCES migrated.jobs;
ALTER TABLE migrated.jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE migrated.jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('queued', 'running', 'paused', 'succeeded', 'failed',
                     'cancelled', 'rolled_back'));
DROP INDEX migrated.jobs_one_active;
CREATE UNIQUE INDEX jobs_one_active ON migrated.jobs (plan, tenant)
    WHERE state IN ('queued', 'running', 'paused');

CREATE OR REPLACE VIEW migrated.job_info AS
SELECT j.id, j.plan, j.tenant, j.state,
       json_build_object(
           'id', j.id, 'plan', j.plan, 'tenant', j.tenant, 'state', j.state,
           'kind', j.kind, 'rollback_of', j.rollback_of,
           'priority', j.priority, 'batch_size', j.batch_size,
           'dry_run', j.dry_run, 'skip_checks', j.skip_checks,
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

-- Backups by job and step, for ListBackups.
CREATE VIEW migrated.backup_info AS
SELECT b.job_id, j.plan, j.tenant, b.step, count(*) AS rows,
       sum(pg_column_size(b.row))::bigint AS bytes,
       min(b.at) AS oldest
FROM migrated.backups b JOIN migrated.jobs j ON j.id = b.job_id
GROUP BY b.job_id, j.plan, j.tenant, b.step;
