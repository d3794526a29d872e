-- The composer: cached followers, the operator's notes on customers, uploaded media,
-- the draft being typed, saved templates and the log of every send attempt.
CREATE TABLE followers (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid     TEXT    NOT NULL,
	position   INTEGER NOT NULL, -- user/get order (follow order)
	PRIMARY KEY (account_id, openid)
);

CREATE TABLE follower_syncs (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	total      INTEGER NOT NULL,
	synced_at  INTEGER NOT NULL
);

CREATE TABLE customer_notes (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid     TEXT    NOT NULL,
	note       TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, openid)
);

-- Temporary media by content hash, so the same file is not uploaded twice within its 3 days.
CREATE TABLE media_cache (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	type       TEXT    NOT NULL,
	sha256     TEXT    NOT NULL,
	media_id   TEXT    NOT NULL,
	filename   TEXT    NOT NULL,
	created_at INTEGER NOT NULL, -- as WeChat reported; the id expires 3 days later
	PRIMARY KEY (account_id, type, sha256)
);
CREATE INDEX media_cache_id ON media_cache(account_id, media_id);

CREATE TABLE drafts (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	body       TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE templates (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	body       TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, name)
);

CREATE TABLE send_log (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	sent_at    INTEGER NOT NULL, -- unix milliseconds
	touser     TEXT    NOT NULL,
	kf_account TEXT    NOT NULL DEFAULT '',
	msgtype    TEXT    NOT NULL,
	body       TEXT    NOT NULL, -- the exact JSON posted
	status     TEXT    NOT NULL CHECK (status IN ('sent', 'failed', 'unknown')), -- unknown: no clear answer, it may have arrived
	errcode    INTEGER,          -- 0 when sent, WeChat's errcode when refused, NULL without an answer
	error      TEXT    NOT NULL DEFAULT '' -- errmsg or the technical cause
);
CREATE INDEX send_log_account ON send_log(account_id, id);
