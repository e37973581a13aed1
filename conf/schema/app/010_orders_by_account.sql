-- migrated: no-transaction
-- CREATE INDEX CONCURRENTLY cannot run in a transaction: the line above
-- runs this file outside one. Versions may leave gaps (003 to 009).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account ON orders (account_id);
