-- The legacy system of the legacy-import plan (conf/plans/legacy-import.plan),
-- schema and data: tenants known by a short name, their users, roles,
-- assignments (user, tenant, role), mail templates and an event log. Load
-- it into its own database (make demo calls it "legacy"):
--   psql -d legacy -v tenants=40 -v events=300000 -f conf/demo/legacy.sql
--
-- tenants  number of tenants (1 to 40); default 40
-- events   rows of the event log; default 300000
--
-- Generated, not random: the same variables give the same rows. Rows of
-- all tenants are interleaved in id order. What makes it legacy:
--   - the same person (auth0_id, email, name) is a user row in two tenants:
--     every seventh user repeats the user before it, which belongs to the
--     previous tenant (tumi's users come back in acme, and so on);
--   - NULLs: users without email or display name, tenants without a plan,
--     roles without description, templates never updated, events without
--     a user (system events);
--   - unicode everywhere (tenant and user names, role names, template
--     subjects and bodies), and tabs, newlines and backslashes in bodies;
--   - ids are this system's own: nothing on the new platform may keep
--     them.
-- Each table has an index on (tenant_id, id), the walk of a copy step.

\set ON_ERROR_STOP 1
\if :{?tenants}
\else
\set tenants 40
\endif
\if :{?events}
\else
\set events 300000
\endif

SET client_min_messages = warning;
DROP TABLE IF EXISTS events, templates, assignments, roles, users, tenants;

CREATE TABLE tenants (
    id integer PRIMARY KEY,
    short_name text NOT NULL UNIQUE,
    name text NOT NULL,
    plan text,
    created_at timestamptz NOT NULL
);

CREATE TABLE users (
    id integer PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants,
    auth0_id text NOT NULL,
    email text,
    display_name text,
    created_at timestamptz NOT NULL,
    UNIQUE (tenant_id, auth0_id)
);

CREATE TABLE roles (
    id integer PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants,
    name text NOT NULL,
    description text,
    UNIQUE (tenant_id, name)
);

CREATE TABLE assignments (
    id integer PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users,
    tenant_id integer NOT NULL REFERENCES tenants,
    role_id integer NOT NULL REFERENCES roles,
    granted_at timestamptz NOT NULL
);

CREATE TABLE templates (
    id integer PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants,
    name text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    updated_at timestamptz,
    UNIQUE (tenant_id, name)
);

CREATE TABLE events (
    id bigint PRIMARY KEY,
    tenant_id integer NOT NULL,
    user_id integer,
    kind text NOT NULL,
    detail jsonb NOT NULL,
    occurred_at timestamptz NOT NULL
);

-- Legacy ids start high and step oddly, as in a system that lived long.
INSERT INTO tenants (id, short_name, name, plan, created_at)
SELECT 100 + n * 3, s.short_name, s.name,
       CASE WHEN n % 5 = 0 THEN NULL
            ELSE (ARRAY['free', 'team', 'business'])[1 + n % 3] END,
       timestamptz '2014-03-01 09:00:00+00' + n * interval '41 days'
FROM unnest(ARRAY[
        'tumi', 'acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark',
        'wayne', 'wonka', 'tyrell', 'oscorp', 'soylent', 'vandelay',
        'aperture', 'nakatomi', 'monarch', 'dunder', 'prestige', 'gringotts',
        'cyberdyne', 'zorg', 'virtucon', 'ollivander', 'duff', 'krusty',
        'pied', 'bluth', 'sterling', 'wernham', 'massive', 'omni', 'rekall',
        'weyland', 'yoyodyne', 'zenith', 'acorn', 'bravo', 'cobalt', 'delta',
        'ember'],
     ARRAY[
        'Tumi Café S.A.', 'Acme Ærø ApS', 'Globex Zürich AG', 'Initech Ltda.',
        'Umbrella Ōsaka 株式会社', 'Hooli Ελλάς ΑΕ', 'Stark Industries',
        'Wayne Enterprises', 'Wonka Süßwaren GmbH', 'Tyrell Corp.',
        'Oscorp Москва', 'Soylent Øst', 'Vandelay Import/Export',
        'Aperture Science', 'Nakatomi 東京', 'Monarch Łódź',
        'Dunder Mifflin', 'Prestige Worldwide', 'Gringotts Bank',
        'Cyberdyne Systems', 'Zorg Industries', 'Virtucon', 'Ollivander''s',
        'Duff Brewery', 'Krusty Krab', 'Pied Piper', 'Bluth Company',
        'Sterling Cooper', 'Wernham Hogg', 'Massive Dynamic', 'Omni Consumer',
        'Rekall Inc.', 'Weyland-Yutani', 'Yoyodyne', 'Zenith Çay A.Ş.',
        'Acorn Šumava s.r.o.', 'Bravo Kraków', 'Cobalt São Paulo',
        'Delta Đà Nẵng', 'Ember Reykjavík ehf.'])
     WITH ORDINALITY AS s(short_name, name, n)
WHERE n <= :tenants;

-- The tenant of row i (interleaved): its legacy id.
CREATE FUNCTION pg_temp.tenant_of(i bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN 100 + (1 + (i - 1) % :tenants) * 3;

-- 600 users per tenant. User i is person i, except that every seventh user
-- is the person of user i - 1, who belongs to the previous tenant.
CREATE FUNCTION pg_temp.person_of(i bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN i % 7 = 0 AND :tenants > 1 THEN i - 1 ELSE i END;

INSERT INTO users (id, tenant_id, auth0_id, email, display_name, created_at)
SELECT 5000 + i, pg_temp.tenant_of(i),
       'auth0|' || substr(md5('person ' || p), 1, 24),
       CASE WHEN p % 11 = 0 THEN NULL
            ELSE 'person' || p || '@' ||
                 (ARRAY['example.org', 'exämple.de', 'example.com'])[1 + p % 3]
       END,
       CASE WHEN p % 13 = 0 THEN NULL
            ELSE (ARRAY['Zoë', 'José', 'Søren', 'Chloé', 'Łukasz', 'Ana',
                        '美咲', 'Ólafur', 'Mia', 'Dmitrï'])[1 + p / 7 % 10] ||
                 ' ' || (ARRAY['Müller', 'Núñez', 'O''Brien', 'Ødegård',
                               'Smith', '山田', 'Dvořák'])[1 + p % 7] ||
                 ' #' || p
       END,
       timestamptz '2015-01-01 00:00:00+00' + i * interval '2 hours'
FROM generate_series(1, 600 * :tenants) i,
     LATERAL (SELECT pg_temp.person_of(i) AS p) x;

-- 3 to 6 roles per tenant, the same names in every tenant.
INSERT INTO roles (id, tenant_id, name, description)
SELECT 900 + t.id * 10 + r, t.id,
       (ARRAY['Administrator', 'Editor', 'Viewer', 'Prüfer', 'Gäst',
              'Контролёр'])[r],
       CASE WHEN r % 3 = 0 THEN NULL
            ELSE 'Rôle ' || r || ' of ' || t.name END
FROM tenants t, generate_series(1, 3 + t.id % 4) r;

-- Eight users in nine have one role in their tenant.
INSERT INTO assignments (id, user_id, tenant_id, role_id, granted_at)
SELECT 70000 + u.id * 2, u.id, u.tenant_id,
       900 + u.tenant_id * 10 + 1 + u.id % (3 + u.tenant_id % 4),
       u.created_at + interval '1 day'
FROM users u
WHERE u.id % 9 <> 4;

-- 50 mail templates per tenant.
INSERT INTO templates (id, tenant_id, name, subject, body, updated_at)
SELECT 300000 + t.id * 100 + k, t.id, 'template-' || lpad(k::text, 2, '0'),
       (ARRAY['Willkommen bei', 'Bienvenue chez', 'Welcome to',
              'ようこそ', 'Välkommen till'])[1 + k % 5] || ' ' || t.name,
       'Hello {{name}},' || E'\n\t' || 'your plan: ' ||
           coalesce(t.plan, '—') || E'\n' || 'C:\path\to\file ' ||
           repeat('€ ', k % 7) || E'\n-- ' || t.short_name,
       CASE WHEN k % 4 = 0 THEN NULL
            ELSE timestamptz '2021-06-01 00:00:00+00' + k * interval '3 days'
       END
FROM tenants t, generate_series(1, 50) k;

-- The event log: a user of the tenant, or NULL for system events.
INSERT INTO events (id, tenant_id, user_id, kind, detail, occurred_at)
SELECT i, pg_temp.tenant_of(i),
       CASE WHEN i % 9 = 0 THEN NULL
            ELSE 5000 + (i - 1) % :tenants + 1 + :tenants * (i % 600) END,
       (ARRAY['login', 'logout', 'document.created', 'document.shared',
              'role.changed', 'template.sent'])[1 + i % 6],
       jsonb_build_object('seq', i, 'ip', '10.' || i % 250 || '.' ||
                          i % 199 || '.7', 'note',
                          CASE WHEN i % 17 = 0 THEN 'Grüße ✓' END),
       timestamptz '2022-01-01 00:00:00+00' + i * interval '97 seconds'
FROM generate_series(1, :events::bigint) i;

CREATE INDEX users_tenant ON users (tenant_id, id);
CREATE INDEX roles_tenant ON roles (tenant_id, id);
CREATE INDEX assignments_tenant ON assignments (tenant_id, id);
CREATE INDEX templates_tenant ON templates (tenant_id, id);
CREATE INDEX events_tenant ON events (tenant_id, id);

VACUUM ANALYZE tenants, users, roles, assignments, templates, events;
