-- A sample schema set: applied in numeric order by `migratectl schema
-- apply`, each file in a transaction of its own.
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created timestamptz NOT NULL DEFAULT now()
);
