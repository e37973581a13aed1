-- The new platform, target of the legacy-import plan
-- (conf/plans/legacy-import.plan): tenants known by their domain, users by
-- their auth0_id (one row per person, whatever the number of tenants they
-- work in), and per tenant its roles, the users' assignments, mail
-- templates and the event log, all under the platform's own ids. The
-- unique constraints are the natural keys the import merges by.
--   psql -f conf/demo/platform.sql
-- This file drops these tables first, so loading again starts afresh.

SET client_min_messages = warning;
DROP TABLE IF EXISTS events, templates, assignments, roles, users, tenants;

CREATE TABLE tenants (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain text NOT NULL UNIQUE,
    name text NOT NULL,
    plan text,
    legacy_created_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    auth0_id text NOT NULL UNIQUE,
    email text,
    name text,
    -- new on the platform: where mail goes; the import starts it as email
    communication_email text
);

CREATE TABLE roles (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES tenants,
    name text NOT NULL,
    description text,
    UNIQUE (tenant_id, name)
);

CREATE TABLE assignments (
    user_id bigint NOT NULL REFERENCES users,
    tenant_id bigint NOT NULL REFERENCES tenants,
    role_id bigint NOT NULL REFERENCES roles,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, tenant_id)
);
CREATE INDEX assignments_tenant ON assignments (tenant_id);

CREATE TABLE templates (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES tenants,
    name text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    updated_at timestamptz,
    UNIQUE (tenant_id, name)
);

CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES tenants,
    -- the legacy event's number: the log's natural key within a tenant
    seq bigint NOT NULL,
    user_id bigint REFERENCES users,
    kind text NOT NULL,
    detail jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    UNIQUE (tenant_id, seq)
);
