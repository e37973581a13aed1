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

-- The jobs view gains these in 007_job_info_rejects.sql.
