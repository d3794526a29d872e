package storage

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestOpenMigratesAndIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ms, err := migrations(migrationFS)
	if err != nil || ms[0].version != 1 || ms[0].name != "0001_init.sql" {
		t.Fatalf("embedded migrations %+v %v", ms, err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != ms[len(ms)-1].version {
		t.Fatalf("version %d, %v", v, err)
	}
	var name, at string
	if err := db.Reader().QueryRow("SELECT name, applied_at FROM schema_migrations WHERE version=1").Scan(&name, &at); err != nil {
		t.Fatal(err)
	}
	if _, perr := time.Parse(time.RFC3339, at); name != "0001_init.sql" || perr != nil {
		t.Fatalf("recorded %q at %q", name, at)
	}
	if _, err := db.AddAccount(ctx, Account{Name: "a", Kind: KindOA, AppID: "wx0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path) // again: nothing re-applied (0001 would fail on "table exists"), data kept
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("%d migrations recorded, want %d (%v)", n, len(ms), err)
	}
	if accs, _ := db.Accounts(ctx); len(accs) != 1 {
		t.Fatalf("accounts = %+v", accs)
	}
}

func TestNewerSchemaRefusesToOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().Exec("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "schema 9999") || !strings.Contains(err.Error(), "please update") {
		t.Fatalf("err = %v", err)
	}
}

// withMigrations is the embedded set plus extra files, as later issues will add them.
func withMigrations(t *testing.T, extra map[string]string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	ms, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ms {
		m["migrations/"+x.name] = &fstest.MapFile{Data: []byte(x.sql)}
	}
	for name, sql := range extra {
		m["migrations/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	return m
}

func TestMigrationRunner(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	version := func() int {
		v, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 9003 arrives before 9002 (two branches merged in that order): both get applied,
	// and neither twice (a second CREATE TABLE would fail).
	if err := db.migrate(ctx, withMigrations(t, map[string]string{
		"9003_kf.sql": "CREATE TABLE t_kf (id INTEGER PRIMARY KEY); INSERT INTO t_kf VALUES (1);",
	})); err != nil {
		t.Fatal(err)
	}
	if err := db.migrate(ctx, withMigrations(t, map[string]string{
		"9002_composer.sql": "CREATE TABLE t_drafts (id INTEGER PRIMARY KEY);",
		"9003_kf.sql":       "CREATE TABLE t_kf (id INTEGER PRIMARY KEY); INSERT INTO t_kf VALUES (1);",
	})); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 9003 {
		t.Fatalf("version %d", v)
	}
	if _, err := db.Reader().Exec("SELECT count(*) FROM t_drafts"); err != nil {
		t.Fatalf("9002 not applied: %v", err)
	}

	// A broken migration is rolled back as a whole and not recorded.
	err := db.migrate(ctx, withMigrations(t, map[string]string{
		"9002_composer.sql": "CREATE TABLE t_drafts (id INTEGER PRIMARY KEY);",
		"9003_kf.sql":       "CREATE TABLE t_kf (id INTEGER PRIMARY KEY); INSERT INTO t_kf VALUES (1);",
		"9004_records.sql":  "CREATE TABLE t_records (id INTEGER); THIS IS NOT SQL;",
	}))
	if err == nil || !strings.Contains(err.Error(), "9004_records.sql") {
		t.Fatalf("err = %v", err)
	}
	if v := version(); v != 9003 {
		t.Fatalf("version %d after a failed migration", v)
	}
	if _, err := db.Reader().Exec("SELECT count(*) FROM t_records"); err == nil {
		t.Fatal("half of the failed migration was kept")
	}
}

func TestMigrationNamesChecked(t *testing.T) {
	for name, extra := range map[string]map[string]string{
		"same number": {"9002_a.sql": "", "9002_b.sql": ""},
		"no number":   {"composer.sql": ""},
		"zero":        {"0000_x.sql": ""},
	} {
		if _, err := migrations(withMigrations(t, extra)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// What another process's concurrent Open looks like from here: migrate saw 0001 as not
// applied, but by the time it holds the write lock it is. It must skip, not fail.
func TestApplySkipsMigrationAppliedMeanwhile(t *testing.T) {
	db := openTemp(t)
	ms, _ := migrations(migrationFS)
	if err := db.apply(context.Background(), ms[0]); err != nil {
		t.Fatalf("re-applying %s: %v", ms[0].name, err)
	}
	var n int
	_ = db.Reader().QueryRow("SELECT count(*) FROM schema_migrations WHERE version=?", ms[0].version).Scan(&n)
	if n != 1 {
		t.Fatalf("recorded %d times", n)
	}
}
