-- Accounts, the access-token cache and settings. Secrets are not here: they live in the
-- OS credential store (or secrets.json where there is none).
CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	kind       TEXT    NOT NULL CHECK (kind IN ('oa', 'mp')),
	appid      TEXT    NOT NULL,
	api_base   TEXT    NOT NULL DEFAULT '',
	token_mode TEXT    NOT NULL DEFAULT 'stable' CHECK (token_mode IN ('stable', 'classic', 'url', 'static')),
	token_url  TEXT    NOT NULL DEFAULT '',
	demo       INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
	key        TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
