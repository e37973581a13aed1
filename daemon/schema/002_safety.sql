-- Safety: dry runs, skipped checks, rows changed per step, backups of
-- pre-images, and the audit log.
ALTER TABLE migrated.jobs
    ADD COLUMN dry_run boolean NOT NULL DEFAULT false,
    ADD COLUMN skip_checks boolean NOT NULL DEFAULT false,
    ADD COLUMN warnings text[] NOT NULL DEFAULT '{}';
ALTER TABLE migrated.job_steps
    ADD COLUMN rows_changed bigint NOT NULL DEFAULT 0;

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

DROP VIEW migrated.job_info;
CREATE VIEW migrated.job_info AS
SELECT j.id, j.plan, j.tenant, j.state,
       json_build_object(
           'id', j.id, 'plan', j.plan, 'tenant', j.tenant, 'state', j.state,
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

DROP FUNCTION migrated.advance(bigint, text, text, text, bigint, text);
-- As in version 1, and counts the rows apply changed.
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
