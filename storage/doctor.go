package storage

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Problem is why a data folder did not open: what the window can offer depends on it.
type Problem int

// The problems Open tells apart.
const (
	ProblemOther    Problem = iota
	ProblemDamaged          // the database file is damaged: restore a backup or start empty
	ProblemNewer            // a newer KF Desk wrote it: install that one; nothing is changed
	ProblemFolder           // the data folder cannot be created or written
	ProblemDiskFull         // no space left on its disk
)

// OpenError is every error of Open, with what kind of problem it is.
type OpenError struct {
	Problem Problem
	Path    string // the database file (the folder for ProblemFolder)
	// ProblemNewer: the schema found, the newest this build knows, and the KF Desk
	// version that brought the file to that schema ("" when it did not say).
	Version, Known int
	WrittenBy      string
	Err            error
}

func (e *OpenError) Unwrap() error { return e.Err }

func (e *OpenError) Error() string { return e.ZH() + " / " + e.EN() + ": " + e.Err.Error() }

// ZH is the problem in one Chinese sentence.
func (e *OpenError) ZH() string {
	switch e.Problem {
	case ProblemDamaged:
		return "数据库文件已损坏，无法打开：" + e.Path + "（请打开 KF Desk 窗口恢复备份，或运行 kfdesk doctor 查看详情）"
	case ProblemNewer:
		install := "请安装最新版本的 KF Desk"
		if e.WrittenBy != "" {
			install = "请安装 KF Desk " + e.WrittenBy + " 或更新的版本"
		}
		return fmt.Sprintf("数据库由更新版本的 KF Desk 写入（数据库版本 %d，此版本只支持到 %d）；%s。数据库没有被改动：%s",
			e.Version, e.Known, install, e.Path)
	case ProblemFolder:
		return "无法创建或写入数据文件夹：" + e.Path
	case ProblemDiskFull:
		return "磁盘已满，无法写入数据文件夹：" + e.Path
	}
	return "无法打开数据库：" + e.Path
}

// EN is the problem in one English sentence.
func (e *OpenError) EN() string {
	switch e.Problem {
	case ProblemDamaged:
		return "the database file is damaged and cannot be opened: " + e.Path + " (open the KF Desk window to restore a backup, or run kfdesk doctor for details)"
	case ProblemNewer:
		install := "install the newest KF Desk"
		if e.WrittenBy != "" {
			install = "install KF Desk " + e.WrittenBy + " or newer"
		}
		return fmt.Sprintf("the database was written by a newer KF Desk (database version %d; this one knows up to %d); %s. The database was not changed: %s",
			e.Version, e.Known, install, e.Path)
	case ProblemFolder:
		return "the data folder cannot be created or written: " + e.Path
	case ProblemDiskFull:
		return "the disk is full; KF Desk cannot write to the data folder: " + e.Path
	}
	return "could not open the database: " + e.Path
}

// AppVersion is the running KF Desk's version (ui sets it). Applying a migration
// records it, so that an older KF Desk can name the version to install.
var AppVersion string

// settingSchemaWrittenBy is the settings key holding the KF Desk version that applied the newest migration.
const settingSchemaWrittenBy = "schema_written_by"

// IsDamaged tells whether err is SQLite finding the database file damaged. Opening
// reads only a few pages, so damage deep in the chat records shows first in a later
// read: the daily automatic backup, which reads every page, is where the window learns it.
func IsDamaged(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// classify turns an error of opening path into an *OpenError.
func classify(path string, err error) *OpenError {
	var oe *OpenError
	if errors.As(err, &oe) {
		if oe.Path == "" {
			oe.Path = path
		}
		return oe
	}
	e := &OpenError{Problem: ProblemOther, Path: path, Err: err}
	var se sqlite3.Error
	switch {
	case isDiskFull(err), errors.As(err, &se) && se.Code == sqlite3.ErrFull:
		e.Problem = ProblemDiskFull
		e.Path = filepath.Dir(path)
	case IsDamaged(err):
		e.Problem = ProblemDamaged
	case errors.As(err, &se) && (se.Code == sqlite3.ErrCantOpen || se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrPerm),
		errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.ENOTDIR):
		e.Problem = ProblemFolder
		e.Path = filepath.Dir(path)
	}
	return e
}

// isDiskFull: no space left, as the OS says it (diskFullErrnos, per platform).
func isDiskFull(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && slices.Contains(diskFullErrnos, errno)
}

// probeFolder checks that dir can be written (a file created, written, removed)
// before SQLite tries: its "unable to open database file" does not say why.
func probeFolder(dir string) error {
	f, err := os.CreateTemp(dir, ".kfdesk-write-check-*")
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("ok"))
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	return errors.Join(werr, cerr, rerr)
}

var errCutShort = errors.New("the file is shorter than its header says: it was cut short")

// checkHeader looks at a database file's first 100 bytes
// (https://www.sqlite.org/fileformat.html#the_database_header) without opening it:
// not an SQLite file, or one shorter than the page count it records, is damaged.
// SQLite refuses such a file too, but only after making -wal and -shm files beside it,
// and says only "malformed"; this touches nothing and says it was cut short. A WAL
// file may hold the newest pages; then the size is not judged.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err // an empty file is a new database
	}
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return &OpenError{Problem: ProblemDamaged, Err: errors.New("the file is too short to be a database")}
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return &OpenError{Problem: ProblemDamaged, Err: errors.New("the file is not an SQLite database")}
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return nil
	}
	pageSize, pages := headerSize(h)
	if pages > 0 && fi.Size() < pages*pageSize {
		return &OpenError{Problem: ProblemDamaged, Err: errCutShort}
	}
	return nil
}

// headerSize is the page size and page count a database header gives; the count is 0
// when the header says it is not valid (its change counter and "version-valid-for" differ).
func headerSize(h [100]byte) (pageSize, pages int64) {
	pageSize = int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if binary.BigEndian.Uint32(h[24:28]) == binary.BigEndian.Uint32(h[92:96]) {
		pages = int64(binary.BigEndian.Uint32(h[28:32]))
	}
	return pageSize, pages
}

// BackupFile is a backup found on disk.
type BackupFile struct {
	Path string
	Time time.Time // when it was written (the file's time)
	Size int64
	Auto bool   // an automatic (daily) backup
	OK   bool   // it passed PRAGMA quick_check
	Note string // why it did not
}

// Check runs PRAGMA quick_check on a backup file (read-only) and records the outcome.
func (b *BackupFile) Check(ctx context.Context) {
	err := quickCheck(ctx, b.Path)
	b.OK = err == nil
	if err != nil {
		b.Note = err.Error()
	}
}

// FindBackups lists the backups of the data folder dir, newest first, unchecked: the
// automatic ones in autoDir, and the manual ones (`kfdesk backup`, kfdesk-backup-*.db)
// in dir, its backups folder and autoDir.
func FindBackups(dir, autoDir string) []BackupFile {
	var out []BackupFile
	seen := map[string]bool{}
	add := func(pattern string, auto bool) {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			abs, err := filepath.Abs(p)
			if err != nil || seen[abs] {
				continue
			}
			fi, err := os.Stat(abs)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			seen[abs] = true
			out = append(out, BackupFile{Path: abs, Time: fi.ModTime(), Size: fi.Size(), Auto: auto})
		}
	}
	add(filepath.Join(autoDir, autoBackupPrefix+"*.db"), true)
	for _, d := range []string{dir, filepath.Join(dir, AutoBackupDirName), autoDir} {
		add(filepath.Join(d, "kfdesk-backup-*.db"), false)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}

// GoodBackups is FindBackups' newest n backups that pass quick_check.
func GoodBackups(ctx context.Context, dir, autoDir string, n int) []BackupFile {
	var good []BackupFile
	for _, b := range FindBackups(dir, autoDir) {
		if len(good) == n || ctx.Err() != nil {
			break
		}
		if b.Check(ctx); b.OK {
			good = append(good, b)
		}
	}
	return good
}

// Readable is what can still be read from a (damaged) database: the rows of each main
// table, or why they cannot be read.
type Readable struct {
	Table string
	Rows  int64
	Err   error
	// The chat records of a damaged table: Rows can be read (ReadableRecords), on
	// LostDays days some cannot.
	LostDays int
}

// ReadableTables counts the rows of the tables an operator cares about (accounts,
// settings, chat records), reading the file read-only.
func ReadableTables(ctx context.Context, path string) []Readable {
	src, done, err := readableCopy(path, 0)
	if err != nil {
		return nil
	}
	defer done()
	c, err := sql.Open("sqlite3", fileURI(src, "mode=ro"))
	if err != nil {
		return nil
	}
	defer c.Close()
	var out []Readable
	for _, t := range [][2]string{{"accounts", "name"}, {"settings", "value"}, {"records", "text"}} {
		r := Readable{Table: t[0]}
		// Reading a column of every row (count(*) alone may count a smaller index) meets every damaged page of the table.
		r.Err = c.QueryRowContext(ctx, "SELECT count(*) FROM "+t[0]+" WHERE length("+t[1]+") >= 0").Scan(&r.Rows)
		if t[0] == "records" && IsDamaged(r.Err) {
			if rs, err := ReadableRecords(ctx, path); err == nil {
				r = Readable{Table: "records", Rows: rs.Records, LostDays: len(rs.LostDays)}
			}
		}
		out = append(out, r)
	}
	return out
}

// PeekSetting reads one setting from a database file that may not open (the language
// for the window that says why), read-only; "" when it cannot.
func PeekSetting(path, key string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	src, done, err := readableCopy(path, 4<<20)
	if err != nil {
		return ""
	}
	defer done()
	c, err := sql.Open("sqlite3", fileURI(src, "mode=ro"))
	if err != nil {
		return ""
	}
	defer c.Close()
	var v string
	_ = c.QueryRow("SELECT value FROM settings WHERE key=?", key).Scan(&v)
	return v
}

// DoctorReport is what `kfdesk doctor` found.
type DoctorReport struct {
	Path           string
	Exists         bool
	Size, WALSize  int64
	Integrity      string // "ok", or SQLite's first findings
	Schema, Known  int
	SchemaWriter   string
	Backups        []BackupFile
	OpenProblem    *OpenError // what Open would say; nil when it would open
	IntegrityError error
	Records        *RecordSalvage // damaged: the chat records still readable (ReadableRecords)
}

// countReadable sets r.Records when the database is damaged.
func (r *DoctorReport) countReadable(ctx context.Context) {
	if r.OpenProblem == nil || r.OpenProblem.Problem != ProblemDamaged {
		return
	}
	if rs, err := ReadableRecords(ctx, r.Path); err == nil {
		r.Records = &rs
	}
}

// Inspect examines the database of the data folder dir without changing it: header,
// PRAGMA integrity_check (every page, so it takes a while on a large archive), schema
// version, sizes, the backups of dir and autoDir, each quick_checked, and for a damaged
// one the chat records still readable.
func Inspect(ctx context.Context, dir, autoDir string) (r DoctorReport) {
	path := filepath.Join(dir, DBFileName)
	r = DoctorReport{Path: path}
	if ms, err := migrations(migrationFS); err == nil {
		r.Known = ms[len(ms)-1].version
	}
	if fi, err := os.Stat(path); err == nil {
		r.Exists, r.Size = true, fi.Size()
	}
	if fi, err := os.Stat(path + "-wal"); err == nil {
		r.WALSize = fi.Size()
	}
	for _, b := range FindBackups(dir, autoDir) {
		b.Check(ctx)
		r.Backups = append(r.Backups, b)
	}
	if !r.Exists {
		return r
	}
	defer r.countReadable(ctx)
	if err := checkHeader(path); err != nil {
		r.OpenProblem = classify(path, err)
		r.Integrity = err.Error()
		return r
	}
	c, err := sql.Open("sqlite3", fileURI(path, "mode=ro"))
	if err != nil {
		r.IntegrityError = err
		return r
	}
	defer c.Close()
	rows, err := c.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err == nil {
		var found []string
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				found = append(found, s)
			}
		}
		err = rows.Err()
		rows.Close()
		r.Integrity = strings.Join(found, "; ")
	}
	if err != nil {
		r.IntegrityError = err
		r.OpenProblem = classify(path, err)
		if r.OpenProblem.Problem != ProblemDamaged {
			r.OpenProblem = nil
		}
	} else if r.Integrity != "ok" {
		r.OpenProblem = &OpenError{Problem: ProblemDamaged, Path: path, Err: errors.New(r.Integrity)}
	}
	var v sql.NullInt64
	if c.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v) == nil {
		r.Schema = int(v.Int64)
	}
	_ = c.QueryRowContext(ctx, "SELECT value FROM settings WHERE key=?", settingSchemaWrittenBy).Scan(&r.SchemaWriter)
	if r.Schema > r.Known && r.OpenProblem == nil {
		r.OpenProblem = &OpenError{Problem: ProblemNewer, Path: path, Version: r.Schema, Known: r.Known,
			WrittenBy: r.SchemaWriter, Err: ErrNewerSchema}
	}
	return r
}
