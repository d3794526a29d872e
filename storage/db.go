// Package storage is what KF Desk remembers: SQLite in WAL mode with one writer,
// its schema from embedded .sql migrations, and the secret store. No Fyne, no HTTP.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// DBFileName is the database's name inside the data folder.
const DBFileName = "kfdesk.db"

// DefaultDataDir is the OS user config folder + "kfdesk".
func DefaultDataDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "kfdesk"), nil
}

// driverName is go-sqlite3 with KF Desk's SQL functions: kf_lower(text) is Go's
// Unicode lower-casing, for the searches LIKE does (LIKE folds only ASCII: É, Ü, Ä
// would not match é, ü, ä; see records_search.go).
const driverName = "sqlite3_kfdesk"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.RegisterFunc("kf_lower", strings.ToLower, true)
	}})
}

// DB is an open KF Desk database: one writer connection, a pool of readers.
type DB struct {
	path string
	w    *sql.DB
	r    *sql.DB
}

// Open opens (creating when needed) the database at path and brings its schema up to
// date. Its errors are *OpenError: what the window that says why can offer depends on
// the problem (doctor.go).
func Open(path string) (*DB, error) {
	db, err := open(path)
	if err != nil {
		return nil, classify(path, err)
	}
	return db, nil
}

func open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := probeFolder(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	// busy_timeout is generous because the CLI and the window may write at the same
	// time from two processes.
	dsn := func(extra string) string {
		return fileURI(path, "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL"+extra)
	}
	// One writer: SQLite serialises writes anyway; one connection makes them queue in
	// Go instead of failing with "database is locked", and BEGIN IMMEDIATE takes the
	// write lock up front so a read-then-write transaction cannot deadlock on upgrade.
	// A 64 MB page cache: archiving a month of chat records touches many index pages
	// per transaction, and the 2 MB default makes each insert a page read.
	w, err := sql.Open(driverName, dsn("&_txlock=immediate&_cache_size=-65536"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	// Readers are query-only, so a write that bypasses the writer fails loudly instead
	// of competing for the lock. WAL lets them read while a write is open.
	r, err := sql.Open(driverName, dsn("&_query_only=1"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	db := &DB{path: path, w: w, r: r}
	// Switching a new file to WAL, and WAL recovery or clean-up by another process's
	// last connection, can answer SQLITE_BUSY at once without waiting for busy_timeout.
	// It passes within milliseconds, so try again for a while.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = db.init(context.Background())
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// fileURI is a go-sqlite3 DSN for path: a file: URI with the path escaped, so spaces,
// '#', '?', '%' and Chinese user folders survive.
func fileURI(path, query string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

func (db *DB) init(ctx context.Context) error {
	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	if err := requireFTS5(ctx, db.w); err != nil {
		return err
	}
	return db.migrate(ctx, migrationFS)
}

// requireFTS5 is belt and braces for the build tag (fts5_required.go): search needs FTS5.
func requireFTS5(ctx context.Context, q *sql.DB) error {
	rows, err := q.QueryContext(ctx, "PRAGMA compile_options")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var opt string
		if err := rows.Scan(&opt); err != nil {
			return err
		}
		if opt == "ENABLE_FTS5" {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return errors.New("this build of SQLite has no FTS5; build with -tags sqlite_fts5")
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Writer is the single write connection. Prefer WriteTx for more than one statement.
func (db *DB) Writer() *sql.DB { return db.w }

// Reader is the query-only pool; it sees the last committed state during a write.
func (db *DB) Reader() *sql.DB { return db.r }

// WriteTx runs fn in a write transaction (BEGIN IMMEDIATE), committed when fn returns nil
// and rolled back when it returns an error or panics.
func (db *DB) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Runs on panic too: an open tx would hold the only writer connection for good.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
