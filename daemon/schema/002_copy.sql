-- Copy steps and legacy imports: a job may be one half of a tenant pair
-- (tenant is the legacy name, pair the new one), carry submit-time
-- parameters (args) and be a fresh re-import (fresh). Backups of copy
-- steps also record the rows a batch inserted, so a rollback removes them.

ALTER TABLE migrated.jobs
    ADD COLUMN pair text,
    ADD COLUMN fresh boolean NOT NULL DEFAULT false,
    ADD COLUMN args jsonb NOT NULL DEFAULT '{}';

-- At most one unfinished job per plan, tenant and pair.
DROP INDEX migrated.jobs_one_active;
CREATE UNIQUE INDEX jobs_one_active
    ON migrated.jobs (plan, tenant, coalesce(pair, ''))
    WHERE state IN ('queued', 'running', 'paused');

-- The text a job's advisory lock is taken on (hashtext of it).
CREATE FUNCTION migrated.job_lock_key(p_plan text, p_tenant text,
                                      p_pair text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT p_plan || '/' || p_tenant
           || CASE WHEN p_pair IS NULL THEN '' ELSE ':' || p_pair END
$$;

ALTER TABLE migrated.backups
    ADD COLUMN inserted text[] NOT NULL DEFAULT '{}',
    DROP CONSTRAINT backups_rows_check,
    ADD CONSTRAINT backups_rows_check
        CHECK (cardinality(rows) + cardinality(inserted) > 0);

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

CREATE OR REPLACE VIEW migrated.backup_info AS
SELECT b.job_id, j.plan, j.tenant, b.step,
       sum(cardinality(b.rows) + cardinality(b.inserted))::bigint AS rows,
       sum(pg_column_size(b.rows) + pg_column_size(b.inserted))::bigint
           AS bytes,
       min(b.at) AS oldest
FROM migrated.backups b JOIN migrated.jobs j ON j.id = b.job_id
GROUP BY b.job_id, j.plan, j.tenant, b.step;
