-- Demo schema for the tenant-to-org plan (conf/plans/tenant-to-org.plan):
-- three legacy tables whose rows belong to a tenant by name, and the mapping
-- from each tenant to the organization that replaces it. The migration fills
-- organization_id from tenant_org_mappings, one tenant at a time.
--
-- Load with data.sql right after this file:
--   psql -v rows=1000000 -f conf/demo/schema.sql -f conf/demo/data.sql
-- This file drops the demo tables first, so loading again starts afresh.
-- The (tenant_id, id) indexes are built by data.sql after the rows are in,
-- which is faster than maintaining them row by row.

SET client_min_messages = warning;
DROP TABLE IF EXISTS profiles, claims, documents, tenant_org_mappings;

CREATE TABLE tenant_org_mappings (
    tenant_id text PRIMARY KEY,
    organization_id bigint NOT NULL
);

CREATE TABLE profiles (
    id bigint PRIMARY KEY,
    tenant_id text NOT NULL,
    organization_id bigint,
    email text NOT NULL,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE claims (
    id bigint PRIMARY KEY,
    tenant_id text NOT NULL,
    organization_id bigint,
    profile_id bigint NOT NULL,
    amount_cents bigint NOT NULL,
    status text NOT NULL,
    filed_at timestamptz NOT NULL
);

CREATE TABLE documents (
    id bigint PRIMARY KEY,
    tenant_id text NOT NULL,
    organization_id bigint,
    claim_id bigint NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL
);
