-- The daemon's state: jobs, their steps and checkpoints, backups of
-- pre-images, and the audit log. Later versions go in NNN_name.sql files
-- next to this one; a released file never changes.

-- A job: one plan for one tenant (kind 'migrate'), or the rollback of
-- another job (kind 'rollback', rollback_of).
CREATE TABLE migrated.jobs (
    id bigserial PRIMARY KEY,
    plan text NOT NULL,
    tenant text NOT NULL,
    kind text NOT NULL DEFAULT 'migrate'
        CHECK (kind IN ('migrate', 'rollback')),
    rollback_of bigint REFERENCES migrated.jobs,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'paused', 'succeeded',
                         'failed', 'cancelled', 'rolled_back')),
    priority integer NOT NULL DEFAULT 0,
    batch_size integer NOT NULL DEFAULT 0 CHECK (batch_size >= 0),
    steps text[],                     -- NULL: every step of the plan
    dry_run boolean NOT NULL DEFAULT false,
    skip_checks boolean NOT NULL DEFAULT false,
    params jsonb,                     -- the plan's params row, at first start
    owner text,                       -- the runner holding it, if any
    error text,
    warnings text[] NOT NULL DEFAULT '{}',
    created timestamptz NOT NULL DEFAULT now(),
    started timestamptz,
    finished timestamptz,
    updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queue ON migrated.jobs (priority DESC, id)
    WHERE state IN ('queued', 'running');
CREATE INDEX jobs_plan_tenant ON migrated.jobs (plan, tenant);
CREATE INDEX jobs_state ON migrated.jobs (state);
-- At most one unfinished job per plan and tenant.
CREATE UNIQUE INDEX jobs_one_active ON migrated.jobs (plan, tenant)
    WHERE state IN ('queued', 'running', 'paused');

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
    rows_changed bigint NOT NULL DEFAULT 0,
    batches bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, step)
);

-- The rows of one batch of a step with backup = yes, as they were before
-- the batch changed them, stored in the batch's own transaction: one row
-- here per batch. Each element of rows is a row's own text
-- form (t::text), which casts back to the table's row type exactly (json
-- spacing, -0, array bounds and all). One row per batch rather than per
-- table row keeps the backup cheap: one index entry, compressed arrays.
CREATE TABLE migrated.backups (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL REFERENCES migrated.jobs ON DELETE CASCADE,
    step text NOT NULL,
    rows text[] NOT NULL CHECK (cardinality(rows) > 0),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backups_job_step ON migrated.backups (job_id, step, id);

-- Every operator call that changes something, and every job transition.
CREATE TABLE migrated.audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    uid integer,                      -- peer uid; NULL for the daemon
    username text,
    action text NOT NULL,             -- method, or "job <state>"
    job_id bigint,
    parameters jsonb,
    result text NOT NULL              -- "ok", an error name, or a message
);
CREATE INDEX audit_job ON migrated.audit (job_id, id);

CREATE FUNCTION migrated.audit_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM NEW.state THEN
        INSERT INTO migrated.audit (action, job_id, parameters, result)
        VALUES ('job ' || NEW.state, NEW.id,
                jsonb_build_object('plan', NEW.plan, 'tenant', NEW.tenant,
                                   'kind', NEW.kind,
                                   'from', CASE WHEN TG_OP = 'UPDATE'
                                                THEN OLD.state END,
                                   'owner', NEW.owner),
                coalesce(NEW.error, 'ok'));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_audit AFTER INSERT OR UPDATE OF state ON migrated.jobs
    FOR EACH ROW EXECUTE FUNCTION migrated.audit_job();

-- Advances a step's checkpoint inside the batch's own transaction. Fails
-- (SQLSTATE MG002, so the whole batch rolls back) unless the step is still
-- at p_from and the job is still running under p_owner: a paused,
-- cancelled or taken-over job never commits another batch.
CREATE FUNCTION migrated.advance(p_job bigint, p_step text, p_from text,
                                 p_to text, p_rows bigint, p_changed bigint,
                                 p_owner text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE migrated.job_steps s
       SET checkpoint = p_to, rows_done = s.rows_done + p_rows,
           rows_changed = s.rows_changed + p_changed,
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

-- A job as the Varlink interface shows it (type Job in io.migrated.varlink).
CREATE VIEW migrated.job_info AS
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
SELECT b.job_id, j.plan, j.tenant, b.step,
       sum(cardinality(b.rows))::bigint AS rows,
       sum(pg_column_size(b.rows))::bigint AS bytes,
       min(b.at) AS oldest
FROM migrated.backups b JOIN migrated.jobs j ON j.id = b.job_id
GROUP BY b.job_id, j.plan, j.tenant, b.step;
