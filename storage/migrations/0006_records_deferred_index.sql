-- Chat records (issue 5), deferred search index: a first sync into an empty archive stores
-- its pages without the two search indexes and builds them once at the end, which is
-- several times cheaper than updating them page by page.
-- A row here means: none of the account's records is in records_fts/records_grams yet
-- (searches of that account scan the records table instead), and the next sync builds
-- the index. It is written in the same transaction that sees the account empty and
-- deleted in the one that indexes the account's records, so it is never half true.
-- No foreign key on purpose: while an account's records are deleted by the cascade,
-- the trigger below must still see the marker (a marker left for a deleted account
-- stays true: that account id has no indexed records).
CREATE TABLE record_index_pending (
	account_id INTEGER PRIMARY KEY,
	since      INTEGER NOT NULL -- unix seconds
);

DROP TRIGGER records_delete;

-- The trigram index again, with columnsize=0: no per-record size row (only bm25 ranking
-- needs it, and search orders by time), one b-tree insert less per record indexed.
DROP TABLE records_fts;
CREATE VIRTUAL TABLE records_fts USING fts5(text, content='records', content_rowid='id',
	tokenize='trigram case_sensitive 0', columnsize=0);
INSERT INTO records_fts(records_fts) VALUES ('rebuild');
INSERT INTO records_fts(records_fts, rank) VALUES ('automerge', 8);

-- Telling FTS5 to delete a row it never indexed corrupts the index: skip unindexed accounts.
CREATE TRIGGER records_delete AFTER DELETE ON records
WHEN NOT EXISTS (SELECT 1 FROM record_index_pending WHERE account_id = old.account_id) BEGIN
	INSERT INTO records_fts(records_fts, rowid, text) VALUES ('delete', old.id, old.text);
	DELETE FROM records_grams WHERE rowid = old.id;
END;
