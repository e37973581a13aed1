-- The copy benchmark of `make bench` (scripts/bench.sh, docs/BENCHMARKS.md):
-- one legacy table, accounts, and the platform's table it is imported into.
-- Load the source part into the legacy database and the target part into
-- the target, choosing with -v part:
--   psql -d legacy -v part=source -v rows=1000000 -f conf/demo/copy-bench.sql
--   psql -d target -v part=target -f conf/demo/copy-bench.sql
--
-- rows  source rows (part=source); default 1000000
--
-- Generated, not random: the same rows every time. The natural key ext_id
-- is unique, and scattered with respect to id (the order both the daemon
-- and the pipeline read in), as a key made elsewhere would be; rows are
-- about 150 bytes, with NULLs and non-ASCII text. On the target, the
-- legacy id is not kept: accounts gets its own identity and a unique index
-- on ext_id, which the merge's ON CONFLICT needs.

\set ON_ERROR_STOP 1
\if :{?rows}
\else
\set rows 1000000
\endif
SET client_min_messages = warning;
SELECT :'part' = 'source' AS is_source \gset

\if :is_source
DROP TABLE IF EXISTS accounts;
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    ext_id text NOT NULL UNIQUE,
    email text,
    name text,
    plan text,
    balance_cents bigint NOT NULL,
    created_at timestamptz NOT NULL,
    note text
);
-- i * 2654435761 modulo 2^32 is one-to-one for i below 2^32: unique keys
INSERT INTO accounts
SELECT i, 'acct-' || lpad(to_hex(i * 2654435761 % 4294967296), 8, '0'),
       CASE WHEN i % 13 = 0 THEN NULL ELSE 'owner' || i || '@exämple.org' END,
       (ARRAY['Zoë', 'José', 'Søren', 'Chloé', '美咲', 'Ólafur'])[1 + i % 6]
           || ' Ødegård ' || i,
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE (ARRAY['free', 'team', 'business'])[1 + i % 3] END,
       i * 7919 % 10000000,
       timestamptz '2012-01-01 00:00:00+00' + i * interval '61 seconds',
       CASE WHEN i % 5 = 0 THEN NULL
            ELSE 'imported from the old system, row ' || i || ' — café' END
FROM generate_series(1, :rows::bigint) i;
VACUUM ANALYZE accounts;
\else
DROP TABLE IF EXISTS accounts, staging;
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ext_id text NOT NULL UNIQUE,
    email text,
    name text,
    plan text,
    balance_cents bigint NOT NULL,
    created_at timestamptz NOT NULL,
    note text
);
\endif
