package storage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// filledDB writes a closed database with an account, settings and n chat records
// (long enough texts to fill a few hundred pages) in a new data folder.
func filledDB(t *testing.T, n int) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := db.AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	fillSettings(t, db, 20)
	err = db.WriteTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			if _, err := tx.Exec(`INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
				VALUES (?, ?, ?, 'oUser', 2002, 'kf1', ?, ?, 0)`, int64(i+1), a.ID, 1764000000+int64(i),
				strings.Repeat(fmt.Sprintf("第%d条 记录 record ", i), 10), []byte(fmt.Sprintf("%016d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // the last connection checkpoints the WAL into the file
		t.Fatal(err)
	}
	return dir, path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openFails opens path, wants an *OpenError of problem p, and checks that the file is
// byte for byte what it was.
func openFails(t *testing.T, path string, p Problem) *OpenError {
	t.Helper()
	before := readFile(t, path)
	db, err := Open(path)
	if err == nil {
		db.Close()
		t.Fatalf("%s opened", path)
	}
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Problem != p {
		t.Fatalf("err = %v (%#v), want problem %d", err, oe, p)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("opening changed the database file")
	}
	return oe
}

func TestATruncatedDatabaseIsDamaged(t *testing.T) {
	_, path := filledDB(t, 3000)
	b := readFile(t, path)
	if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	oe := openFails(t, path, ProblemDamaged)
	for _, want := range []string{"已损坏", "damaged", path} {
		if !strings.Contains(oe.Error(), want) {
			t.Errorf("%q lacks %q", oe.Error(), want)
		}
	}
	if r := Inspect(context.Background(), filepath.Dir(path), ""); r.OpenProblem == nil || r.OpenProblem.Problem != ProblemDamaged {
		t.Fatalf("doctor: %+v", r)
	}
}

// overwritePage fills page n (1-based) of the file with garbage.
func overwritePage(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 1024), (n-1)*4096); err != nil {
		t.Fatal(err)
	}
}

func rootPage(t *testing.T, path, table string) int64 {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.Reader().QueryRow("SELECT rootpage FROM sqlite_schema WHERE name=?", table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAGarbagePageIsDamaged(t *testing.T) {
	_, path := filledDB(t, 3000)
	overwritePage(t, path, rootPage(t, path, "schema_migrations"))
	openFails(t, path, ProblemDamaged)
}

// A garbage page deep in the chat records is not met when the database opens (Open
// reads a few pages, not the whole archive); doctor's integrity_check finds it, and
// what stays readable is told table by table.
func TestDoctorFindsAGarbageRecordsPage(t *testing.T) {
	dir, path := filledDB(t, 3000)
	// The page that holds record 1500's text is a leaf of the records table.
	page := int64(bytes.Index(readFile(t, path), []byte("第1500条 记录")))/4096 + 1
	overwritePage(t, path, page)
	r := Inspect(context.Background(), dir, filepath.Join(dir, AutoBackupDirName))
	if r.Integrity == "ok" || r.OpenProblem == nil || r.OpenProblem.Problem != ProblemDamaged {
		t.Fatalf("doctor: integrity %q, problem %+v", r.Integrity, r.OpenProblem)
	}
	got := map[string]Readable{}
	for _, x := range ReadableTables(context.Background(), path) {
		got[x.Table] = x
	}
	if got["accounts"].Err != nil || got["accounts"].Rows != 1 || got["settings"].Err != nil || got["settings"].Rows < 20 {
		t.Fatalf("accounts and settings should read: %+v", got)
	}
	// The chat records are read around the damaged page (all 3,000 ids fall on 1970-01-01: filledDB's are small).
	if rec := got["records"]; rec.Err != nil || rec.LostDays != 1 || rec.Rows >= 3000 || rec.Rows < 2900 {
		t.Fatalf("records: %+v", rec)
	}
	if r.Records == nil || r.Records.Records != got["records"].Rows || len(r.Records.LostDays) != 1 {
		t.Fatalf("doctor's readable records: %+v", r.Records)
	}
}

func TestANewerSchemaNamesTheVersionThatWroteIt(t *testing.T) {
	_, path := filledDB(t, 10)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old := AppVersion
	AppVersion = "9.9.9"
	t.Cleanup(func() { AppVersion = old })
	if err := db.migrate(context.Background(), withMigrations(t, map[string]string{"9999_future.sql": "CREATE TABLE future(x);"})); err != nil {
		t.Fatal(err)
	}
	db.Close()
	oe := openFails(t, path, ProblemNewer)
	if oe.Version != 9999 || oe.WrittenBy != "9.9.9" || !errors.Is(oe, ErrNewerSchema) {
		t.Fatalf("%+v", oe)
	}
	for _, want := range []string{"9999", "install KF Desk 9.9.9 or newer", "请安装 KF Desk 9.9.9 或更新的版本", "没有被改动"} {
		if !strings.Contains(oe.Error(), want) {
			t.Errorf("%q lacks %q", oe.Error(), want)
		}
	}
}

func TestAnUnwritableDataFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(filepath.Join(file, "kfdesk", DBFileName))
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Problem != ProblemFolder || oe.Path != filepath.Join(file, "kfdesk") {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Problem
	}{
		{fmt.Errorf("write: %w", syscall.ENOSPC), ProblemDiskFull},
		{os.ErrPermission, ProblemFolder},
		{errors.New("something else"), ProblemOther},
	} {
		if got := classify("/d/kfdesk.db", c.err); got.Problem != c.want {
			t.Errorf("%v: problem %d, want %d", c.err, got.Problem, c.want)
		}
	}
}

func TestSetAsideAndRestoreKeepEveryFile(t *testing.T) {
	dir, path := filledDB(t, 100)
	backup := filepath.Join(dir, BackupFileName(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)))
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(context.Background(), backup, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b := readFile(t, path)
	if err := os.WriteFile(path, b[:len(b)/3], 0o600); err != nil { // damaged
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", []byte("wal bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := readFile(t, path)
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	found := GoodBackups(context.Background(), dir, filepath.Join(dir, AutoBackupDirName), 3)
	if len(found) != 1 || found[0].Path != backup || !found[0].OK {
		t.Fatalf("backups %+v", found)
	}
	aside, err := RestoreBackup(context.Background(), path, backup, now)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(aside) != "kfdesk-damaged-20261201-103000.db" || !bytes.Equal(readFile(t, aside), damaged) ||
		string(readFile(t, aside+"-wal")) != "wal bytes" {
		t.Fatalf("set aside as %s", aside)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the damaged WAL stayed beside the restored database")
	}
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM records").Scan(&n); err != nil || n != 100 {
		t.Fatalf("%d records restored, %v", n, err)
	}
	db.Close()
	if _, err := os.Stat(backup); err != nil {
		t.Fatal("the backup is gone")
	}
	// A second set-aside in the same second does not overwrite the first.
	again, err := SetAside(path, now)
	if err != nil || again == aside || !bytes.Equal(readFile(t, aside), damaged) {
		t.Fatalf("second set-aside %s, %v", again, err)
	}
}

// Starting anew after a cut-short file keeps what can be read whole of the small
// tables (accounts, settings), none of the chat records, and only reads the old file.
func TestSalvageCarriesTheAccountsAndSettingsOver(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // its own, to see what it leaves behind: other tests (and processes) copy too
	_, path := filledDB(t, 3000)
	b := readFile(t, path)
	if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	aside, err := SetAside(path, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	damaged := readFile(t, aside)
	tmp := t.TempDir() // the copy goes here: other test binaries make theirs meanwhile
	t.Setenv("TMPDIR", tmp)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kept, err := db.Salvage(context.Background(), aside)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Readable{}
	for _, k := range kept {
		got[k.Table] = k
	}
	if got["accounts"].Rows != 1 || got["accounts"].Err != nil || got["settings"].Rows != 20 || got["settings"].Err != nil {
		t.Fatalf("kept %+v", kept)
	}
	ctx := context.Background()
	if a, err := db.Account(ctx, "茶叶小铺"); err != nil || a.AppID != "wx0123456789abcdef" {
		t.Fatalf("account %+v, %v", a, err)
	}
	if v, _, _ := db.Setting(ctx, "k0019"); v != "值 value 19" {
		t.Fatalf("setting %q", v)
	}
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM records").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d records, %v", n, err)
	}
	if !bytes.Equal(readFile(t, aside), damaged) {
		t.Fatal("salvage changed the damaged file")
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "kfdesk-damaged-read-*")); len(left) != 0 {
		t.Fatalf("copies left behind: %v", left)
	}
}

// Damage deep in the records does not stop Open (it reads a few pages); the daily
// backup, which reads them all, finds it and says it is damage (the window then says so).
func TestTheAutomaticBackupFindsDeepDamage(t *testing.T) {
	dir, path := filledDB(t, 3000)
	page := int64(bytes.Index(readFile(t, path), []byte("第1500条 记录")))/4096 + 1
	overwritePage(t, path, page)
	db, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	_, _, err = db.AutoBackup(context.Background(), dir, filepath.Join(dir, AutoBackupDirName), time.Date(2026, 12, 1, 0, 0, 0, 0, Beijing))
	if err == nil || !IsDamaged(err) {
		t.Fatalf("backup of a damaged database: %v (damaged: %v)", err, IsDamaged(err))
	}
	if IsDamaged(errors.New("disk I/O error")) {
		t.Fatal("any error is damage")
	}
}
