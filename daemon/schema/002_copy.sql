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
       sum(pg_column_size(b.rows) + CASE WHEN cardinality(b.inserted) > 0
               THEN pg_column_size(b.inserted) ELSE 0 END)::bigint AS bytes,
       min(b.at) AS oldest
FROM migrated.backups b JOIN migrated.jobs j ON j.id = b.job_id
GROUP BY b.job_id, j.plan, j.tenant, b.step;

ALTER TABLE migrated.job_steps
    ADD COLUMN cleared boolean NOT NULL DEFAULT false;

-- Claims one job for p_owner: a running job whose runner's session is gone
-- first, then the queue in priority order (both walk the jobs_queue
-- index), skipping the ids in p_exclude (jobs this daemon runs) and plans
-- this daemon does not have. The session advisory lock on the job's plan,
-- tenant and pair makes it ours; PostgreSQL frees it when the session
-- ends, so a dead runner's job is claimable at once.
CREATE FUNCTION migrated.claim(p_exclude bigint[], p_plans text[],
                               p_owner text)
RETURNS SETOF migrated.jobs LANGUAGE plpgsql AS $$
DECLARE
    st text;
    c record;
    claimed migrated.jobs;
BEGIN
    FOREACH st IN ARRAY ARRAY['running', 'queued'] LOOP
        FOR c IN
            SELECT j.id FROM migrated.jobs j
             WHERE j.state = st AND j.id <> ALL (p_exclude)
               AND j.plan = ANY (p_plans)
               AND NOT EXISTS (SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.classid = 1835623
                      AND l.objid = hashtext(migrated.job_lock_key(
                                    j.plan, j.tenant, j.pair))::oid
                      AND l.objsubid = 2)
             ORDER BY j.priority DESC, j.id LIMIT 1
        LOOP
            UPDATE migrated.jobs j SET state = 'running', owner = p_owner,
                   started = coalesce(j.started, now()), updated = now()
             WHERE j.id = c.id AND j.state IN ('queued', 'running')
               AND pg_try_advisory_lock(1835623, hashtext(
                       migrated.job_lock_key(j.plan, j.tenant, j.pair)))
            RETURNING j.* INTO claimed;
            IF FOUND THEN
                RETURN NEXT claimed;
                RETURN;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- Records, in the clear's own transaction, that a fresh job ran a step's
-- clear SQL (deleting p_rows rows), with an audit entry. Fails with MG002,
-- like advance(), unless the job still runs under p_owner and the step was
-- not cleared before: a resumed job never clears twice.
CREATE FUNCTION migrated.cleared(p_job bigint, p_step text, p_owner text,
                                 p_rows bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE migrated.job_steps s SET cleared = true
      FROM migrated.jobs j
     WHERE s.job_id = p_job AND s.step = p_step AND NOT s.cleared
       AND j.id = p_job AND j.state = 'running' AND j.owner = p_owner;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'MG002',
            MESSAGE = format('job %s is no longer running here', p_job);
    END IF;
    INSERT INTO migrated.audit (action, job_id, parameters, result)
    VALUES ('clear', p_job,
            jsonb_build_object('step', p_step, 'rows', p_rows), 'ok');
END
$$;
