-- Jobs: one plan for one tenant. The state machine lives in runner.c and
-- jobs.c; these constraints make an impossible state impossible to store.
CREATE TABLE migrated.jobs (
    id bigserial PRIMARY KEY,
    plan text NOT NULL,
    tenant text NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'paused', 'succeeded',
                         'failed', 'cancelled')),
    priority integer NOT NULL DEFAULT 0,
    batch_size integer NOT NULL DEFAULT 0 CHECK (batch_size >= 0),
    steps text[],                     -- NULL: every step of the plan
    params jsonb,                     -- the plan's params row, at first start
    owner text,                       -- daemon instance running it, if any
    error text,
    created timestamptz NOT NULL DEFAULT now(),
    started timestamptz,
    finished timestamptz,
    updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queue ON migrated.jobs (priority DESC, id)
    WHERE state IN ('queued', 'running');
CREATE INDEX jobs_plan_tenant ON migrated.jobs (plan, tenant);
CREATE INDEX jobs_state ON migrated.jobs (state);

-- Progress of each step of a job. checkpoint is the last key done, as
-- text; it advances in the same transaction as the batch it records.
CREATE TABLE migrated.job_steps (
    job_id bigint NOT NULL REFERENCES migrated.jobs ON DELETE CASCADE,
    step text NOT NULL,
    ord integer NOT NULL,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'running', 'done')),
    checkpoint text,
    rows_done bigint NOT NULL DEFAULT 0,
    rows_estimated bigint NOT NULL DEFAULT 0,
    batches bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, step)
);

-- A job as the Varlink interface shows it (type Job in io.migrated.varlink).
CREATE VIEW migrated.job_info AS
SELECT j.id, j.plan, j.tenant, j.state,
       json_build_object(
           'id', j.id, 'plan', j.plan, 'tenant', j.tenant, 'state', j.state,
           'priority', j.priority, 'batch_size', j.batch_size,
           'steps', coalesce(s.steps, '[]'::json),
           'rows_done', coalesce(s.rows_done, 0),
           'rows_estimated', coalesce(s.rows_estimated, 0),
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
               'batches', st.batches, 'checkpoint', st.checkpoint)
               ORDER BY st.ord) AS steps,
           sum(st.rows_done)::bigint AS rows_done,
           sum(st.rows_estimated)::bigint AS rows_estimated
    FROM migrated.job_steps st
    WHERE st.job_id = j.id
) s ON true;

-- At most one unfinished job per plan and tenant.
CREATE UNIQUE INDEX jobs_one_active ON migrated.jobs (plan, tenant)
    WHERE state IN ('queued', 'running', 'paused');

-- Advances a step's checkpoint inside the batch's own transaction. Fails
-- (SQLSTATE MG002, so the whole batch rolls back) unless the step is still
-- at p_from and the job is still running under p_owner: a paused,
-- cancelled or taken-over job never commits another batch.
CREATE FUNCTION migrated.advance(p_job bigint, p_step text, p_from text,
                                 p_to text, p_rows bigint, p_owner text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE migrated.job_steps s
       SET checkpoint = p_to, rows_done = s.rows_done + p_rows,
           batches = s.batches + 1
      FROM migrated.jobs j
     WHERE s.job_id = p_job AND s.step = p_step AND s.checkpoint = p_from
       AND j.id = p_job AND j.state = 'running' AND j.owner = p_owner;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'MG002',
            MESSAGE = format('job %s is no longer running here', p_job);
    END IF;
END
$$;
