-- The inbox (issue 12): conversations at a glance, what the operator has read, who
-- waits for a KF, which archived records came from a push. storage/inbox.go.

-- One row per customer with records, kept up to date by the triggers below, so the
-- inbox lists 10,000 conversations without grouping a million records.
CREATE TABLE inbox_conversations (
	account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid        TEXT    NOT NULL,
	last_id       INTEGER NOT NULL, -- records.id of the newest record (ids are time order)
	last_opercode INTEGER NOT NULL,
	last_text     TEXT    NOT NULL,
	kf            TEXT    NOT NULL DEFAULT '', -- worker of the newest record that names one
	customer_id   INTEGER NOT NULL DEFAULT 0,  -- records.id of the customer's newest message (2001/2003)
	replies       INTEGER NOT NULL DEFAULT 0,  -- KF messages (2002) after it
	read_id       INTEGER NOT NULL DEFAULT 0,  -- the operator has read up to this records.id
	unread        INTEGER NOT NULL DEFAULT 0,  -- customer messages after read_id
	PRIMARY KEY (account_id, openid)
);
CREATE INDEX inbox_conversations_recent ON inbox_conversations(account_id, last_id);

-- What was archived before the inbox existed counts as read. Two passes over the
-- records (correlated subqueries per customer would each walk the table).
WITH c AS MATERIALIZED (
	SELECT account_id, openid, max(id) AS last_id, max(CASE WHEN opercode IN (2001, 2003) THEN id END) AS customer_id,
		max(CASE WHEN worker <> '' THEN id END) AS worker_id
	FROM records WHERE openid <> '' GROUP BY account_id, openid
), n AS MATERIALIZED (
	SELECT r.account_id, r.openid, sum(r.opercode = 2002 AND r.id > coalesce(c.customer_id, 0)) AS replies
	FROM records r JOIN c ON c.account_id = r.account_id AND c.openid = r.openid GROUP BY r.account_id, r.openid
)
INSERT INTO inbox_conversations(account_id, openid, last_id, last_opercode, last_text, kf, customer_id, replies, read_id, unread)
SELECT c.account_id, c.openid, c.last_id, l.opercode, l.text, coalesce(w.worker, ''), coalesce(c.customer_id, 0), n.replies, c.last_id, 0
FROM c JOIN n ON n.account_id = c.account_id AND n.openid = c.openid JOIN records l ON l.id = c.last_id
LEFT JOIN records w ON w.id = c.worker_id;

-- Every statement of one upsert sees the row as it was (SQLite's UPDATE), so the
-- CASEs compare with the old last_id / customer_id / read_id.
-- A first sync (record_index_pending, records_index.go) skips it: the summary is built
-- in one pass at its end, like the search indexes (storage/inbox.go inboxSummarySQL).
CREATE TRIGGER inbox_record_insert AFTER INSERT ON records
WHEN new.openid <> '' AND NOT EXISTS (SELECT 1 FROM record_index_pending WHERE account_id = new.account_id) BEGIN
	INSERT INTO inbox_conversations(account_id, openid, last_id, last_opercode, last_text, kf, customer_id, replies, unread)
	VALUES (new.account_id, new.openid, new.id, new.opercode, new.text, new.worker,
		CASE WHEN new.opercode IN (2001, 2003) THEN new.id ELSE 0 END,
		new.opercode = 2002, new.opercode IN (2001, 2003))
	ON CONFLICT(account_id, openid) DO UPDATE SET
		last_opercode = CASE WHEN new.id > last_id THEN new.opercode ELSE last_opercode END,
		last_text = CASE WHEN new.id > last_id THEN new.text ELSE last_text END,
		kf = CASE WHEN new.id > last_id AND new.worker <> '' THEN new.worker ELSE kf END,
		replies = CASE WHEN new.opercode IN (2001, 2003) AND new.id > customer_id THEN 0
			WHEN new.opercode = 2002 AND new.id > customer_id THEN replies + 1 ELSE replies END,
		customer_id = CASE WHEN new.opercode IN (2001, 2003) THEN max(customer_id, new.id) ELSE customer_id END,
		unread = unread + (new.opercode IN (2001, 2003) AND new.id > read_id),
		last_id = max(last_id, new.id);
END;

-- Records are deleted per customer (DeleteCustomerData) or per account: the summary goes with them.
CREATE TRIGGER inbox_record_delete AFTER DELETE ON records BEGIN
	DELETE FROM inbox_conversations WHERE account_id = old.account_id AND openid = old.openid;
END;

-- Customers waiting for a KF account (getwaitcase), as of the last answer.
CREATE TABLE inbox_waiting (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid     TEXT    NOT NULL,
	since      INTEGER NOT NULL, -- unix seconds: latest_time of the wait case
	PRIMARY KEY (account_id, openid)
);

-- Which archived record a pushed message became, and whether getmsglist has
-- returned it too (confirmed): the no-double rule, storage/inbox.go.
CREATE TABLE record_pushes (
	record_id INTEGER PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,
	push_id   INTEGER NOT NULL UNIQUE REFERENCES pushes(id) ON DELETE CASCADE,
	confirmed INTEGER NOT NULL DEFAULT 0
);

-- Where this desktop is in a push server's feed, per account.
CREATE TABLE inbox_feed (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	cursor     INTEGER NOT NULL
);
