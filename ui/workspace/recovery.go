package workspace

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"kfdesk/api"
	"kfdesk/storage"
)

// What the window that says why KF Desk cannot start (ui/recovery.go) does, on a data
// folder that did not open: nothing here needs the database to open.

// StartProblem is err (from Open) as a storage.OpenError.
func StartProblem(err error) *storage.OpenError {
	var oe *storage.OpenError
	if errors.As(err, &oe) {
		return oe
	}
	return &storage.OpenError{Problem: storage.ProblemOther, Err: err}
}

// ResolveDir is dir, or the default data folder for "".
func ResolveDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return storage.DefaultDataDir()
}

// StartLanguage is the UI language chosen in Settings, read from the file as far as
// it can be read ("" = the system's).
func StartLanguage(dir string) string {
	return storage.PeekSetting(filepath.Join(dir, storage.DBFileName), SettingLanguage)
}

// backupFolderOf is the automatic backups' folder of a data folder whose database may not open.
func backupFolderOf(dir string) string {
	if d := storage.PeekSetting(filepath.Join(dir, storage.DBFileName), SettingBackupFolder); d != "" {
		return d
	}
	return filepath.Join(dir, storage.AutoBackupDirName)
}

// GoodBackups are the newest backups of dir (automatic and `kfdesk backup` files)
// that pass quick_check, at most n.
func GoodBackups(ctx context.Context, dir string, n int) []storage.BackupFile {
	return storage.GoodBackups(ctx, dir, backupFolderOf(dir), n)
}

// Recoverable is what can still be read from dir's database, table by table.
func Recoverable(ctx context.Context, dir string) []storage.Readable {
	return storage.ReadableTables(ctx, filepath.Join(dir, storage.DBFileName))
}

// RestoreBackup puts a copy of backup in place of dir's database, the damaged one set
// aside with the date in its name. It returns that name.
func RestoreBackup(ctx context.Context, dir, backup string) (string, error) {
	return storage.RestoreBackup(ctx, filepath.Join(dir, storage.DBFileName), backup, now().In(TimeZone))
}

// StartEmpty sets dir's damaged database aside (renamed with the date, with its -wal
// and -shm) and starts a new archive with what can still be read whole of the
// accounts, settings and hand-written tables (storage.Salvage), then the chat records
// that can still be read (storage.SalvageRecords, which calls progress; cancelling ctx
// stops that, keeping what was carried so far). It returns the damaged file's new name and
// what was carried over.
func StartEmpty(ctx context.Context, dir string, progress func(storage.SalvageProgress)) (aside string, kept []storage.Readable, recs storage.RecordSalvage, err error) {
	path := filepath.Join(dir, storage.DBFileName)
	if aside, err = storage.SetAside(path, now().In(TimeZone)); err != nil || aside == "" {
		return aside, nil, recs, err
	}
	db, err := storage.Open(path)
	if err != nil {
		return aside, nil, recs, err
	}
	defer db.Close()
	// A few small tables, not stopped: stopping is for the chat records.
	kept, err = db.Salvage(context.WithoutCancel(ctx), aside)
	if err != nil { // nothing carried over: the new archive is empty, which is what was asked
		slog.Warn("could not carry anything over from the damaged database", "err", err)
		return aside, kept, recs, nil
	}
	for _, k := range kept {
		if k.Table == "accounts" && k.Err != nil { // records belong to accounts
			recs.Problem = api.Describe(k.Err, "账号无法读取，所以聊天记录也无法保留（它们仍在损坏的文件中）。",
				"The accounts could not be read, so the chat records could not be carried over either (they are still in the damaged file).")
			return aside, kept, recs, nil
		}
	}
	recs, err = db.SalvageRecords(ctx, aside, progress)
	if err != nil { // what was carried stays: the new archive opens with it
		slog.Warn("could not carry all chat records over from the damaged database", "err", err)
		recs.Problem = err
	}
	return aside, kept, recs, nil
}

// Inspect is `kfdesk doctor`: dir's database and backups examined, nothing changed.
func Inspect(ctx context.Context, dir string) storage.DoctorReport {
	return storage.Inspect(ctx, dir, backupFolderOf(dir))
}
