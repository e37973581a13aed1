CREATE TYPE order_state AS ENUM ('open', 'paid', 'shipped');
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    state order_state NOT NULL DEFAULT 'open',
    total numeric(12, 2) NOT NULL CHECK (total >= 0)
);
