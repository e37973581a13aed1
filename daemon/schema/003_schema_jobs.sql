-- Schema jobs: a job of kind 'schema' applies or reverts the files of a
-- [schema NAME] set. Its plan is 'schema:' || the set's name (plan names
-- cannot contain ':', so the two never collide), its tenant the set's
-- database ('target' or a [database NAME]), so that the job lock on plan
-- and tenant and jobs_one_active keep two appliers of a set apart. What to
-- do is in args: op ('apply' or 'revert'), to, dry_run, and the caller's
-- uid and username for the history rows. Each file is one row of
-- job_steps (step = 'NNN_name').
ALTER TABLE migrated.jobs
    DROP CONSTRAINT jobs_kind_check,
    ADD CONSTRAINT jobs_kind_check
        CHECK (kind IN ('migrate', 'rollback', 'schema'));
