-- The seed demo's table, as the 2015 prototype had it: one row per host that answered, with how many requests it
-- answered. alpha bumps its own row on every request (INSERT ... ON CONFLICT (hostname) DO UPDATE).
-- Run once, as the database owner, when the database host_count is created.
CREATE TABLE host_count (
  hostname varchar(127) PRIMARY KEY,
  count integer NOT NULL DEFAULT 0
);
