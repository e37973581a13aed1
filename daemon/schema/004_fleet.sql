-- Plan-wide rollback and several daemons on one queue.
--
-- A rollback may restore only some of a job's steps (Rollback steps):
-- each step of a job remembers whether a rollback restored it, and the job
-- becomes rolled_back only when no step with backups is left to restore.
ALTER TABLE migrated.job_steps
    ADD COLUMN rolled_back boolean NOT NULL DEFAULT false;

-- A rollback queued by a plan-wide rollback (RollbackPlan) carries what it
-- was asked ({"steps": [...] or null, "after": [...]}): when it succeeds,
-- the rollback of the tenant's next older job is queued with the same
-- (migrated.rollback_chain_next), so every finished job is rolled back,
-- newest first, although a tenant has one unfinished job at most.
ALTER TABLE migrated.jobs ADD COLUMN rollback_chain jsonb;

-- One row per committed checkpoint move: which runner (owner, the daemon's
-- host:pid:worker) and which server session (pid) wrote it, and when its
-- transaction began and (just before its commit) ended. Two rows of one
-- plan and tenant whose time ranges overlap would mean two runners at
-- once; the job lock and migrated.advance() make that impossible, and this
-- table makes it checkable afterwards.
CREATE TABLE migrated.batches (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL REFERENCES migrated.jobs ON DELETE CASCADE,
    step text NOT NULL,
    owner text,
    pid integer NOT NULL,
    began timestamptz NOT NULL,
    ended timestamptz NOT NULL,
    checkpoint text
);
CREATE INDEX batches_job ON migrated.batches (job_id, id);

--
-- The same trigger refuses (SQLSTATE MG003, so the batch rolls back) a
-- checkpoint move from a server session that does not hold the job's
-- advisory lock: that happens behind a connection pooler in transaction
-- mode (PgBouncer pool_mode = transaction), where the lock taken by the
-- claim stays on whichever server connection ran it.
CREATE FUNCTION migrated.batch_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    j migrated.jobs;
BEGIN
    SELECT * INTO j FROM migrated.jobs WHERE id = NEW.job_id;
    IF NOT EXISTS (SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted
                      AND l.pid = pg_backend_pid() AND l.classid = 1835623
                      AND l.objid = hashtext(migrated.job_lock_key(
                                    j.plan, j.tenant, j.pair))::oid
                      AND l.objsubid = 2) THEN
        RAISE EXCEPTION USING ERRCODE = 'MG003',
            MESSAGE = format('job %s: this server session (pid %s) does not'
                ' hold the job''s lock, so another runner could run it too;'
                ' is the daemon connected through a pooler in transaction'
                ' mode (PgBouncer pool_mode = transaction)? Connect it'
                ' directly or through a session-mode pool', j.id,
                pg_backend_pid());
    END IF;
    INSERT INTO migrated.batches (job_id, step, owner, pid, began, ended,
                                  checkpoint)
    VALUES (NEW.job_id, NEW.step, j.owner, pg_backend_pid(), now(),
            clock_timestamp(), NEW.checkpoint);
    RETURN NULL;
END
$$;
CREATE TRIGGER job_steps_batches AFTER UPDATE OF checkpoint
    ON migrated.job_steps FOR EACH ROW
    WHEN (OLD.checkpoint IS DISTINCT FROM NEW.checkpoint)
    EXECUTE FUNCTION migrated.batch_record();

-- Whether job o can be rolled back, and which of its steps: p_steps (NULL:
-- every step with backups left), refused when a step that runs after one
-- of them (p_after: [[dependent, dependency], ...] of the plan) still has
-- backups to restore and is not among them. outcome: 'ok' with steps,
-- 'busy' (other: the tenant's unfinished job), 'state', 'rollback_kind',
-- 'schema_kind', 'dry_run', 'no_backup', 'step_no_backup' (step),
-- 'depends' (step, dependent).
CREATE FUNCTION migrated.rollback_check(o migrated.jobs, p_steps text[],
                                        p_after jsonb, OUT outcome text,
                                        OUT steps text[], OUT other bigint,
                                        OUT step text, OUT dependent text)
LANGUAGE plpgsql AS $$
DECLARE
    avail text[];
BEGIN
    SELECT a.id INTO other FROM migrated.jobs a
     WHERE a.plan = o.plan AND a.tenant = o.tenant
       AND coalesce(a.pair, '') = coalesce(o.pair, '') AND a.id <> o.id
       AND a.state IN ('queued', 'running', 'paused')
     LIMIT 1;
    IF other IS NOT NULL THEN
        outcome := 'busy';
        RETURN;
    ELSIF o.state NOT IN ('succeeded', 'failed', 'cancelled') THEN
        outcome := 'state';
        RETURN;
    ELSIF o.kind <> 'migrate' THEN
        outcome := o.kind || '_kind';
        RETURN;
    ELSIF o.dry_run THEN
        outcome := 'dry_run';
        RETURN;
    END IF;
    SELECT array_agg(s.step ORDER BY s.ord) INTO avail
      FROM migrated.job_steps s
     WHERE s.job_id = o.id AND NOT s.rolled_back
       AND EXISTS (SELECT 1 FROM migrated.backups b
                    WHERE b.job_id = o.id AND b.step = s.step);
    IF avail IS NULL THEN
        outcome := 'no_backup';
        RETURN;
    END IF;
    IF p_steps IS NULL THEN
        outcome := 'ok';
        steps := avail;
        RETURN;
    END IF;
    SELECT x INTO step FROM unnest(p_steps) x WHERE x <> ALL (avail) LIMIT 1;
    IF step IS NOT NULL THEN
        outcome := 'step_no_backup';
        RETURN;
    END IF;
    SELECT e->>1, e->>0 INTO step, dependent
      FROM jsonb_array_elements(coalesce(p_after, '[]')) e
     WHERE e->>1 = ANY (p_steps) AND e->>0 <> ALL (p_steps)
       AND e->>0 = ANY (avail)
     LIMIT 1;
    IF dependent IS NOT NULL THEN
        outcome := 'depends';
        RETURN;
    END IF;
    outcome := 'ok';
    SELECT array_agg(x ORDER BY array_position(avail, x)) INTO steps
      FROM (SELECT DISTINCT x FROM unnest(p_steps) x) u;
END
$$;

-- Queues the rollback of job p_job (see rollback_check) at p_priority:
-- a job of kind 'rollback' with the chosen steps in reverse order, and
-- p_chain as its rollback_chain.
CREATE FUNCTION migrated.queue_rollback(p_job bigint, p_steps text[],
                                        p_after jsonb, p_priority integer,
                                        p_chain jsonb,
                                        OUT outcome text, OUT job bigint,
                                        OUT state text, OUT plan text,
                                        OUT tenant text, OUT pair text,
                                        OUT rollback bigint, OUT other bigint,
                                        OUT step text, OUT dependent text)
LANGUAGE plpgsql AS $$
DECLARE
    o migrated.jobs;
    c record;
BEGIN
    SELECT * INTO o FROM migrated.jobs j WHERE j.id = p_job;
    IF NOT FOUND THEN
        outcome := 'no_job';
        RETURN;
    END IF;
    job := o.id;
    state := o.state;
    plan := o.plan;
    tenant := o.tenant;
    pair := o.pair;
    c := migrated.rollback_check(o, p_steps, p_after);
    outcome := c.outcome;
    other := c.other;
    step := c.step;
    dependent := c.dependent;
    IF c.outcome <> 'ok' THEN
        RETURN;
    END IF;
    INSERT INTO migrated.jobs (plan, tenant, pair, kind, rollback_of,
                               priority, params, rollback_chain)
    VALUES (o.plan, o.tenant, o.pair, 'rollback', o.id, p_priority, o.params,
            p_chain)
    RETURNING id INTO rollback;
    INSERT INTO migrated.job_steps (job_id, step, ord)
    SELECT rollback, s.step, -s.ord FROM migrated.job_steps s
     WHERE s.job_id = o.id AND s.step = ANY (c.steps);
END
$$;

-- The jobs a plan-wide rollback restores, newest first: of each tenant
-- (and pair), the newest finished migrate job with backups left.
CREATE FUNCTION migrated.rollback_candidates(p_plan text)
RETURNS SETOF migrated.jobs LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT DISTINCT ON (j.tenant, coalesce(j.pair, '')) j.*
          FROM migrated.jobs j
         WHERE j.plan = p_plan AND j.kind = 'migrate' AND NOT j.dry_run
           AND j.state IN ('succeeded', 'failed', 'cancelled')
           AND EXISTS (SELECT 1 FROM migrated.job_steps s
                        WHERE s.job_id = j.id AND NOT s.rolled_back
                          AND EXISTS (SELECT 1 FROM migrated.backups b
                                       WHERE b.job_id = j.id
                                         AND b.step = s.step))
         ORDER BY j.tenant, coalesce(j.pair, ''), j.id DESC) n
     ORDER BY n.id DESC
$$;

-- Every finished job of plan p_plan that has backups left: the newest of
-- each tenant (and pair) now, newest first, the tenant's older ones one
-- after another as each rollback succeeds (rollback_chain).
-- p_steps as in queue_rollback; a 'depends' refusal of any job refuses
-- the whole call and queues nothing. p_emergency first stops every
-- queued, running or paused job of the plan (cancelled, in this
-- transaction, so their batches in flight fail migrated.advance()) and
-- records an 'emergency rollback' audit entry. Returns one row per job
-- considered; stopped is the array of jobs it stopped, on every row.
CREATE FUNCTION migrated.rollback_plan(p_plan text, p_steps text[],
                                       p_after jsonb, p_priority integer,
                                       p_emergency boolean, p_uid integer)
RETURNS TABLE (outcome text, job bigint, tenant text, pair text,
               rollback bigint, other bigint, step text, dependent text,
               stopped bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    o migrated.jobs;
    c record;
    q record;
    halted bigint[] := '{}';
    queued jsonb := '[]';
    n integer := 0;
BEGIN
    IF p_emergency THEN
        WITH s AS (
            UPDATE migrated.jobs j SET state = 'cancelled',
                   error = 'stopped by an emergency rollback',
                   finished = now(), updated = now()
             WHERE j.plan = p_plan
               AND j.state IN ('queued', 'running', 'paused')
            RETURNING j.id)
        SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO halted
          FROM s;
    END IF;
    IF p_steps IS NOT NULL THEN
        FOR o IN SELECT * FROM migrated.rollback_candidates(p_plan) LOOP
            c := migrated.rollback_check(o, p_steps, p_after);
            IF c.outcome = 'depends' THEN
                RETURN QUERY SELECT c.outcome, o.id, o.tenant, o.pair,
                                    NULL::bigint, NULL::bigint, c.step,
                                    c.dependent, halted;
                RETURN;
            END IF;
        END LOOP;
    END IF;
    FOR o IN SELECT * FROM migrated.rollback_candidates(p_plan)
    LOOP
        q := migrated.queue_rollback(o.id, p_steps, p_after, p_priority,
                                     jsonb_build_object('steps',
                                                        to_jsonb(p_steps),
                                                        'after', p_after));
        IF q.rollback IS NOT NULL THEN
            queued := queued || to_jsonb(q.rollback);
        END IF;
        RETURN QUERY SELECT q.outcome, o.id, o.tenant, o.pair, q.rollback,
                            q.other, q.step, q.dependent, halted;
        n := n + 1;
    END LOOP;
    IF p_emergency THEN
        INSERT INTO migrated.audit (uid, action, parameters, result)
        VALUES (p_uid, 'emergency rollback',
                jsonb_build_object('plan', p_plan, 'stopped', to_jsonb(halted),
                                   'rollbacks', queued),
                'ok');
    END IF;
    IF n = 0 AND cardinality(halted) > 0 THEN
        RETURN QUERY SELECT 'none'::text, NULL::bigint, NULL::text,
                            NULL::text, NULL::bigint, NULL::bigint,
                            NULL::text, NULL::text, halted;
    END IF;
END
$$;

-- After rollback job p_rollback of job p_job succeeded: its steps are
-- rolled back, and the job is rolled_back once no step with backups is
-- left to restore.
CREATE FUNCTION migrated.rolled_back(p_rollback bigint, p_job bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE migrated.job_steps s SET rolled_back = true
     WHERE s.job_id = p_job
       AND s.step IN (SELECT r.step FROM migrated.job_steps r
                       WHERE r.job_id = p_rollback);
    UPDATE migrated.jobs j SET state = 'rolled_back', updated = now()
     WHERE j.id = p_job
       AND NOT EXISTS (SELECT 1 FROM migrated.job_steps s
                        WHERE s.job_id = p_job AND NOT s.rolled_back
                          AND EXISTS (SELECT 1 FROM migrated.backups b
                                       WHERE b.job_id = p_job
                                         AND b.step = s.step));
END
$$;

-- When a rollback queued by a plan-wide rollback succeeds: queues the
-- rollback of the tenant's next older finished job with backups left,
-- asked the same; if that is refused, says why in the succeeded rollback's
-- warnings.
CREATE FUNCTION migrated.rollback_chain_next() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o migrated.jobs;
    q record;
BEGIN
    SELECT j.* INTO o FROM migrated.jobs j
     WHERE j.plan = NEW.plan AND j.tenant = NEW.tenant
       AND coalesce(j.pair, '') = coalesce(NEW.pair, '')
       AND j.id < NEW.rollback_of AND j.kind = 'migrate' AND NOT j.dry_run
       AND j.state IN ('succeeded', 'failed', 'cancelled')
       AND EXISTS (SELECT 1 FROM migrated.job_steps s
                    WHERE s.job_id = j.id AND NOT s.rolled_back
                      AND EXISTS (SELECT 1 FROM migrated.backups b
                                   WHERE b.job_id = j.id
                                     AND b.step = s.step))
     ORDER BY j.id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    q := migrated.queue_rollback(
        o.id,
        (SELECT array_agg(x) FROM jsonb_array_elements_text(
             CASE WHEN jsonb_typeof(NEW.rollback_chain->'steps') = 'array'
                  THEN NEW.rollback_chain->'steps' END) x),
        NEW.rollback_chain->'after', NEW.priority, NEW.rollback_chain);
    IF q.outcome <> 'ok' THEN
        UPDATE migrated.jobs SET warnings = warnings || format(
                   'the rollback of the plan stops here for this tenant:'
                   ' older job %s was not rolled back (%s%s)', o.id,
                   q.outcome, CASE WHEN q.step IS NOT NULL
                                   THEN ', step ' || q.step ELSE '' END)
         WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_rollback_chain AFTER UPDATE OF state ON migrated.jobs
    FOR EACH ROW
    WHEN (NEW.kind = 'rollback' AND NEW.state = 'succeeded'
          AND OLD.state IS DISTINCT FROM 'succeeded'
          AND NEW.rollback_chain IS NOT NULL)
    EXECUTE FUNCTION migrated.rollback_chain_next();
