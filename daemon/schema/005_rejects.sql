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

-- The jobs view gains rows_rejected in 007_job_info_rejects.sql.
