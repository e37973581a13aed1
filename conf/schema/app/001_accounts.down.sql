-- Undoes 001_accounts.sql (`migratectl schema revert`).
DROP TABLE accounts;
