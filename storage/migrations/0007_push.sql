-- The push receiver (kfdesk serve, issue 11): messages and events WeChat pushes, the
-- background jobs each one queues, auto-reply rules and the keys desktops connect with.

-- One row per message or event pushed, stored before WeChat gets its answer (storage/push.go).
-- AUTOINCREMENT: ids are the feed's cursor (PushesSince), so one is never given out twice,
-- not even after the newest push was deleted (DeleteCustomerData).
CREATE TABLE pushes (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	received_at    INTEGER NOT NULL, -- unix milliseconds, our clock
	create_time    INTEGER NOT NULL, -- unix seconds, WeChat's CreateTime
	to_user        TEXT    NOT NULL DEFAULT '', -- ToUserName: the account's original id (gh_…) or appid
	openid         TEXT    NOT NULL CHECK (openid <> ''), -- FromUserName
	msg_type       TEXT    NOT NULL CHECK (msg_type <> ''),
	event          TEXT    NOT NULL DEFAULT '',
	event_key      TEXT    NOT NULL DEFAULT '',
	msg_id         TEXT    NOT NULL DEFAULT '', -- 64-bit in XML, beyond 2^53 in JSON: kept as text
	-- The message's part of the dedup key: msg_id, or '#' + SHA-256 of the body for a message
	-- without MsgId (two different ones in one second must not collide). '' for events.
	msg_key        TEXT    NOT NULL DEFAULT '',
	content        TEXT    NOT NULL DEFAULT '', -- text Content (a menu tap: the option's text)
	menu_id        TEXT    NOT NULL DEFAULT '', -- bizmsgmenuid of a menu tap
	media_id       TEXT    NOT NULL DEFAULT '',
	thumb_media_id TEXT    NOT NULL DEFAULT '',
	pic_url        TEXT    NOT NULL DEFAULT '',
	format         TEXT    NOT NULL DEFAULT '', -- voice Format (amr, speex)
	recognition    TEXT    NOT NULL DEFAULT '', -- voice Recognition
	location_x     REAL,                        -- location messages only
	location_y     REAL,
	scale          INTEGER,
	label          TEXT,
	title          TEXT    NOT NULL DEFAULT '', -- link, miniprogrampage
	description    TEXT    NOT NULL DEFAULT '',
	url            TEXT    NOT NULL DEFAULT '',
	extra          TEXT    NOT NULL DEFAULT '{}', -- JSON object of the other fields (AppId, PagePath, Ticket, KfAccount, SessionFrom, …)
	raw            BLOB    NOT NULL,            -- the decrypted body, byte for byte
	body_format    TEXT    NOT NULL CHECK (body_format IN ('xml', 'json')),
	media_path     TEXT    NOT NULL DEFAULT '', -- the downloaded file, once there is one
	media_size     INTEGER NOT NULL DEFAULT 0
);
-- WeChat retries a push it got no answer to: each retry must find the first copy.
-- MsgId alone collides across senders, so the sender and CreateTime are in both keys.
CREATE UNIQUE INDEX pushes_message_key ON pushes(account_id, openid, create_time, msg_key) WHERE msg_type <> 'event';
CREATE UNIQUE INDEX pushes_event_key ON pushes(account_id, openid, create_time, event, event_key) WHERE msg_type = 'event';
CREATE INDEX pushes_account ON pushes(account_id, id);

-- Work a push leaves for later (media download, auto-reply, notifying desktops), durable so a
-- restart picks it up. state: queued → running (leased) → done, or back to queued to retry, or
-- failed after too many attempts (kept for the operator). storage/push_jobs.go.
CREATE TABLE push_jobs (
	id          INTEGER PRIMARY KEY,
	push_id     INTEGER NOT NULL REFERENCES pushes(id) ON DELETE CASCADE,
	kind        TEXT    NOT NULL CHECK (kind <> ''),
	state       TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0, -- claims so far; also the claim's token
	not_before  INTEGER NOT NULL,           -- unix ms: due from then (queued) / leased until then (running)
	last_error  TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,           -- unix ms
	finished_at INTEGER,                    -- unix ms, when done or failed
	UNIQUE (push_id, kind)
);
CREATE INDEX push_jobs_due ON push_jobs(not_before) WHERE state IN ('queued', 'running');

-- Effects on the outside world a job must have at most once (an auto-reply sent): begun before
-- the WeChat call, done after it, so a retry knows whether an earlier attempt may have sent.
CREATE TABLE push_effects (
	push_id     INTEGER NOT NULL REFERENCES pushes(id) ON DELETE CASCADE,
	effect      TEXT    NOT NULL,
	state       TEXT    NOT NULL CHECK (state IN ('begun', 'done')),
	begun_at    INTEGER NOT NULL, -- unix ms
	done_at     INTEGER,
	send_log_id INTEGER REFERENCES send_log(id) ON DELETE SET NULL,
	PRIMARY KEY (push_id, effect)
);

-- Sends to one customer, for the reply window (CustomerWindow) and menu answers (MenuChoice).
CREATE INDEX send_log_touser ON send_log(account_id, touser, sent_at);

-- Auto-reply rules (issue 11 §4), storage/autoreply.go. body is the exact custom-service JSON.
CREATE TABLE autoreply_rules (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL CHECK (kind IN ('follow', 'keyword', 'default', 'hours')),
	keyword    TEXT    NOT NULL DEFAULT '',
	match      TEXT    NOT NULL DEFAULT '' CHECK (match IN ('', 'exact', 'contains')),
	weekdays   INTEGER NOT NULL DEFAULT 0, -- office hours: bit 0 Sunday … bit 6 Saturday
	from_min   INTEGER NOT NULL DEFAULT 0, -- office hours: minutes after 00:00 Beijing time
	to_min     INTEGER NOT NULL DEFAULT 0,
	body       TEXT    NOT NULL,
	enabled    INTEGER NOT NULL DEFAULT 1,
	position   INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX autoreply_rules_account ON autoreply_rules(account_id, position);
-- One follow greeting, one default reply and one office-hours rule per account.
CREATE UNIQUE INDEX autoreply_rules_single ON autoreply_rules(account_id, kind) WHERE kind IN ('follow', 'default', 'hours');
CREATE UNIQUE INDEX autoreply_rules_keyword ON autoreply_rules(account_id, keyword, match) WHERE kind = 'keyword';

-- Forwarding unmatched messages to the KF system; no row = on, to any KF account.
CREATE TABLE autoreply_forward (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	enabled    INTEGER NOT NULL,
	kf_account TEXT    NOT NULL DEFAULT ''
);

-- When each customer last got the default reply (at most once an hour).
CREATE TABLE autoreply_default_sent (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid     TEXT    NOT NULL,
	sent_at    INTEGER NOT NULL, -- unix ms
	PRIMARY KEY (account_id, openid)
);

-- Keys desktops use against the server's API (issue 11 §5): only the SHA-256 of each is kept.
CREATE TABLE desktop_keys (
	id           INTEGER PRIMARY KEY,
	name         TEXT    NOT NULL,
	hash         BLOB    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL, -- unix seconds
	last_used_at INTEGER,
	revoked_at   INTEGER
);
-- A revoked key keeps its row (the list shows it) and frees its name for a new key.
CREATE UNIQUE INDEX desktop_keys_name ON desktop_keys(name) WHERE revoked_at IS NULL;
