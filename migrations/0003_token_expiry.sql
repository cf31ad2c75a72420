-- A token may expire: after `expire_le` it is refused, like a revoked one.
ALTER TABLE jeton ADD COLUMN expire_le timestamptz;
