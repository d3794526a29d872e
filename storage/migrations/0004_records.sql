-- Chat records archived from customservice/msgrecord/getmsglist (issue 5).
-- id is time<<20 | n (n orders records within one second, see records.go): rowid order
-- is time order, so both search indexes can page newest-first by rowid alone.
CREATE TABLE records (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	time       INTEGER NOT NULL, -- unix seconds
	openid     TEXT    NOT NULL,
	opercode   INTEGER NOT NULL, -- raw, as WeChat sent it
	worker     TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	rkey       BLOB    NOT NULL, -- 16 bytes of SHA-256 of (time, openid, opercode, worker, text)
	occ        INTEGER NOT NULL  -- 0 for the first such record in its day window, 1 for an identical second one, …
);
-- A record's identity: re-syncing a day adds nothing, genuinely identical records are all kept.
-- time first: a sync inserts in time order, so this index grows at its end instead of at random hashes.
CREATE UNIQUE INDEX records_identity ON records(account_id, time, rkey, occ);
CREATE INDEX records_account ON records(account_id);
CREATE INDEX records_openid ON records(account_id, openid, opercode);
CREATE INDEX records_worker ON records(account_id, worker);

-- Substring search of 3+ characters (a trigram MATCH of fewer characters silently finds nothing).
CREATE VIRTUAL TABLE records_fts USING fts5(text, content='records', content_rowid='id',
	tokenize='trigram case_sensitive 0');
-- Substring search of 1–2 characters: every letter/digit and every pair of adjacent ones,
-- lower-cased, as space-separated tokens (records.go grams). Only membership is needed: detail=none.
CREATE VIRTUAL TABLE records_grams USING fts5(grams, content='', contentless_delete=1, detail=none,
	tokenize='ascii');

CREATE TRIGGER records_delete AFTER DELETE ON records BEGIN
	INSERT INTO records_fts(records_fts, rowid, text) VALUES ('delete', old.id, old.text);
	DELETE FROM records_grams WHERE rowid = old.id;
END;

-- Which Beijing days have been synced; complete = the day was over and its last page stored.
CREATE TABLE record_days (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	day        TEXT    NOT NULL, -- YYYY-MM-DD, Beijing time
	complete   INTEGER NOT NULL DEFAULT 0,
	records    INTEGER NOT NULL DEFAULT 0, -- records WeChat returned for the day in its last sync
	synced_at  INTEGER NOT NULL,
	PRIMARY KEY (account_id, day)
);

-- Fewer, larger segment merges while a month of records streams in page by page.
INSERT INTO records_fts(records_fts, rank) VALUES ('automerge', 8);
INSERT INTO records_grams(records_grams, rank) VALUES ('automerge', 8);
