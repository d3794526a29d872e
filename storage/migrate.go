package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"kfdesk/api/clock"
)

// Migrations are migrations/NNNN_name.sql, applied in numeric order. Add a file to
// change the schema; never edit one that has shipped.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNewerSchema: the database was written by a newer KF Desk than this one.
var ErrNewerSchema = errors.New("database was created by a newer KF Desk")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists migrations/*.sql in fsys by version, refusing badly named files and
// two files with one number (two branches that both picked the next number).
func migrations(fsys fs.FS) ([]migration, error) {
	files, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, f := range files {
		base := path.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must be NNNN_name.sql", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same number", other, base)
		}
		seen[v] = base
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, base, string(b)})
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies, each in its own transaction, the migrations of fsys not applied yet.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := migrations(fsys)
	if err != nil {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	cur, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := ms[len(ms)-1].version; cur > latest {
		var by string
		_ = db.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key=?", settingSchemaWrittenBy).Scan(&by)
		return &OpenError{Problem: ProblemNewer, Version: cur, Known: latest, WrittenBy: by,
			Err: fmt.Errorf("%w (schema %d; this one knows up to %d); please update KF Desk", ErrNewerSchema, cur, latest)}
	}
	changed := false
	for _, m := range ms {
		if applied[m.version] {
			continue // no write lock at all when the schema is up to date
		}
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		changed = true
	}
	if changed && AppVersion != "" {
		// An older KF Desk meeting this schema names the version to install (doctor.go).
		return db.SetSetting(ctx, settingSchemaWrittenBy, AppVersion)
	}
	return nil
}

// apply runs one migration in its own transaction and records it. It checks again under
// the write lock, because another process (the CLI next to the window) may have applied
// it since migrate looked.
func (db *DB) apply(ctx context.Context, m migration) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version=?", m.version).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, clock.Now().UTC().Format(time.RFC3339))
		return err
	})
}

func (db *DB) appliedMigrations(ctx context.Context) (map[int]bool, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// SchemaVersion is the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.r.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v)
	return int(v.Int64), err
}
