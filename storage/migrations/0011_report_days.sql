-- Reports (issue 13): each Beijing day's partial figures (storage/reports_days.go), so a
-- report merges stored days and walks only the days after them. Built on the first report
-- (existing archives backfill then); a change to a day's records deletes that day and
-- every later one (a conversation's replies can come days after it began).
CREATE TABLE report_days (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	day        INTEGER NOT NULL, -- Beijing days since 1970-01-01
	data       BLOB    NOT NULL, -- encodeDayPart
	PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
-- Bumped by every change of an account's records: a report built from an older read
-- stores nothing.
CREATE TABLE report_days_gen (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	gen        INTEGER NOT NULL
);
