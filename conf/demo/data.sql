-- Demo data for the tenant-to-org plan; run after schema.sql:
--   psql -v rows=1000000 -v tenants=100 -f conf/demo/schema.sql \
--        -f conf/demo/data.sql
--
-- rows     rows in total over profiles (20%), claims (30%) and documents
--          (the rest); default 1000000
-- tenants  number of tenants, tenant-001 ... ; default 100 (any number that
--          is not a multiple of 7919)
--
-- The data is generated, not random: the same variables always give the
-- same rows, so two databases loaded alike can be compared row by row.
-- Rows of all tenants are interleaved in id order, as in a table that grew
-- with every customer at once, and tenants differ in size (the largest
-- holds about 7 times as many rows as the smallest). organization_id is
-- NULL everywhere; the migration fills it. One million rows load in a few
-- seconds.

\set ON_ERROR_STOP 1
\if :{?rows}
\else
\set rows 1000000
\endif
\if :{?tenants}
\else
\set tenants 100
\endif

SELECT :rows::bigint * 2 / 10 AS nprofiles,
       :rows::bigint * 3 / 10 AS nclaims,
       :rows::bigint - :rows::bigint * 2 / 10 - :rows::bigint * 3 / 10
           AS ndocuments,
       greatest(3, length(:tenants::text)) AS digits
\gset

-- Tenant number n (1..tenants) as its name: tenant-001.
CREATE FUNCTION pg_temp.demo_tenant_name(n integer) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN 'tenant-' || lpad(n::text, :digits, '0');

-- The tenant owning row i of a table (salt tells tables apart). A
-- multiplicative hash spreads consecutive ids over the tenants; the
-- power 1.5 makes some tenants bigger than others; the multiplication by
-- 7919 scatters the big ones among the names (the biggest is tenant-038).
CREATE FUNCTION pg_temp.demo_tenant(i bigint, salt bigint) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN pg_temp.demo_tenant_name(
        ((floor(:tenants * power((((i + salt) * 2654435761) % 4294967296)
                                ::float8 / 4294967296, 1.5))::bigint
         * 7919 + 37) % :tenants + 1)::integer);

INSERT INTO tenant_org_mappings (tenant_id, organization_id)
SELECT pg_temp.demo_tenant_name(n), 1000 + n
FROM generate_series(1, :tenants) n;

INSERT INTO profiles (id, tenant_id, email, display_name, created_at)
SELECT i, pg_temp.demo_tenant(i, 0),
       'user' || i || '@example.com', 'User ' || i,
       timestamptz '2019-01-01 00:00:00+00' + i * interval '37 seconds'
FROM generate_series(1, :nprofiles::bigint) i;

INSERT INTO claims (id, tenant_id, profile_id, amount_cents, status,
                    filed_at)
SELECT i, pg_temp.demo_tenant(i, 1000003),
       1 + i * 7919 % greatest(:nprofiles, 1), i * 104729 % 500000,
       (ARRAY['open', 'approved', 'rejected', 'paid'])[1 + i % 4],
       timestamptz '2020-01-01 00:00:00+00' + i * interval '23 seconds'
FROM generate_series(1, :nclaims::bigint) i;

INSERT INTO documents (id, tenant_id, claim_id, title, body, created_at)
SELECT i, pg_temp.demo_tenant(i, 2000003),
       1 + i * 104729 % greatest(:nclaims, 1), 'Document ' || i,
       repeat(md5(i::text), 6),
       timestamptz '2020-01-01 00:00:00+00' + i * interval '11 seconds'
FROM generate_series(1, :ndocuments::bigint) i;

CREATE INDEX profiles_tenant_id ON profiles (tenant_id, id);
CREATE INDEX claims_tenant_id ON claims (tenant_id, id);
CREATE INDEX documents_tenant_id ON documents (tenant_id, id);

-- As in a live database: hint bits set, visibility map and statistics
-- up to date.
VACUUM ANALYZE tenant_org_mappings, profiles, claims, documents;
