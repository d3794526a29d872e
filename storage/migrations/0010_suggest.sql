-- Suggested replies from the shop's own archive (issue 15, storage/suggest.go).
-- An exchange is a customer's message (2001/2003) and the next KF reply (2002) to
-- that customer within the same conversation (no gap over 30 minutes).
-- Questions are stored once per distinct normalised text; suggest_fts indexes their
-- terms (Chinese bigrams, ASCII words), each prefixed with the account ("a7q发货"),
-- so a MATCH and bm25's document frequencies are per account.
CREATE TABLE suggest_questions (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	norm       TEXT    NOT NULL,
	UNIQUE (account_id, norm)
);
CREATE VIRTUAL TABLE suggest_fts USING fts5(terms, content='', contentless_delete=1, tokenize='ascii');
CREATE VIRTUAL TABLE suggest_vocab USING fts5vocab(suggest_fts, row);

CREATE TABLE suggest_exchanges (
	question_rec INTEGER PRIMARY KEY, -- records.id of the customer's message
	account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid       TEXT    NOT NULL,
	qid          INTEGER NOT NULL,    -- suggest_questions.id
	reply_rec    INTEGER NOT NULL     -- records.id of the KF reply
);
CREATE INDEX suggest_exchanges_qid ON suggest_exchanges(qid, reply_rec);
CREATE INDEX suggest_exchanges_reply ON suggest_exchanges(reply_rec);
CREATE INDEX suggest_exchanges_openid ON suggest_exchanges(account_id, openid);

-- Customers whose exchanges are to be (re)computed: written with the records, in the
-- same transaction, and worked off at the end of a sync (storage/suggest.go).
CREATE TABLE suggest_dirty (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	openid     TEXT    NOT NULL,
	PRIMARY KEY (account_id, openid)
) WITHOUT ROWID;

-- A record that goes (a forgotten customer, a removed account) takes its exchanges,
-- and a question nobody asks any more takes its index entry: nothing of a deleted
-- conversation stays behind here.
CREATE TRIGGER suggest_records_delete AFTER DELETE ON records WHEN old.opercode IN (2001, 2002, 2003) BEGIN
	DELETE FROM suggest_exchanges WHERE question_rec = old.id OR reply_rec = old.id;
END;
CREATE TRIGGER suggest_exchanges_delete AFTER DELETE ON suggest_exchanges BEGIN
	DELETE FROM suggest_questions WHERE id = old.qid AND NOT EXISTS (SELECT 1 FROM suggest_exchanges WHERE qid = old.qid);
END;
CREATE TRIGGER suggest_questions_delete AFTER DELETE ON suggest_questions BEGIN
	DELETE FROM suggest_fts WHERE rowid = old.id;
END;

-- Existing archives: every customer is computed by the next sync (or BuildSuggestIndex).
INSERT OR IGNORE INTO suggest_dirty(account_id, openid) SELECT DISTINCT account_id, openid FROM records WHERE openid <> '';
