-- A commune's region (INSEE COG code), so that regions are a level of the metrics and the
-- service can name what it holds. NULL when unknown: rows imported before this migration,
-- until their next import, and sources that give none.
ALTER TABLE commune ADD COLUMN reg text CHECK (reg ~ '^[0-9]{2}$');
CREATE INDEX commune_reg ON commune (reg);
