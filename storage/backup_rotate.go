package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// AutoBackupDirName is the automatic backups' folder inside the data folder (unless the operator picks another).
const AutoBackupDirName = "backups"

// Automatic backups are named by their day: kfdesk-auto-20261201.db.
const (
	autoBackupPrefix = "kfdesk-auto-"
	autoBackupLayout = "20060102"
)

// Rotation: the newest copy of each of the last KeepDaily days, and of each of the
// KeepWeekly weeks before those.
const (
	KeepDaily  = 7
	KeepWeekly = 4
)

// BackupLockFileName is the lock an automatic backup holds in the data folder: the
// window and a scheduled `kfdesk records sync` may both find a backup due.
const BackupLockFileName = "kfdesk-backup.lock"

// ErrBackupBusy: another process is taking the automatic backup right now.
var ErrBackupBusy = errors.New("another KF Desk is taking the automatic backup")

// AutoBackupName is the file name of the automatic backup of day (a date in the caller's zone).
func AutoBackupName(day time.Time) string {
	return autoBackupPrefix + day.Format(autoBackupLayout) + ".db"
}

// autoBackupDay parses AutoBackupName; ok is false for any other file.
func autoBackupDay(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, autoBackupPrefix)
	if !ok {
		return time.Time{}, false
	}
	s, ok = strings.CutSuffix(s, ".db")
	if !ok {
		return time.Time{}, false
	}
	d, err := time.Parse(autoBackupLayout, s)
	return d, err == nil
}

// AutoBackups lists the automatic backups in dir, newest day first.
func AutoBackups(dir string) ([]BackupFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type dated struct {
		BackupFile
		day time.Time
	}
	var ds []dated
	for _, e := range entries {
		day, ok := autoBackupDay(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		ds = append(ds, dated{BackupFile{Path: filepath.Join(dir, e.Name()), Time: fi.ModTime(), Size: fi.Size(), Auto: true}, day})
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].day.After(ds[j].day) })
	out := make([]BackupFile, len(ds))
	for i, d := range ds {
		out[i] = d.BackupFile
	}
	return out, nil
}

// keepDays picks, of the days that have a backup (any order), those rotation keeps:
// the KeepDaily newest, then the newest of each of the KeepWeekly ISO weeks older
// than those. A day leaving the daily set becomes its week's copy, so every kept copy
// already exists.
func keepDays(days []time.Time) map[time.Time]bool {
	sorted := append([]time.Time(nil), days...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].After(sorted[j]) })
	keep := map[time.Time]bool{}
	weeks := map[[2]int]bool{}
	for i, d := range sorted {
		if i < KeepDaily {
			keep[d] = true
			continue
		}
		y, w := d.ISOWeek()
		if wk := [2]int{y, w}; !weeks[wk] && len(weeks) < KeepWeekly {
			weeks[wk] = true
			keep[d] = true
		}
	}
	return keep
}

// RotateBackups removes the automatic backups in dir that rotation does not keep.
// Nothing else in the folder is touched (manual backups, other files).
func RotateBackups(dir string) (removed []string, err error) {
	bs, err := AutoBackups(dir)
	if err != nil {
		return nil, err
	}
	var days []time.Time
	for _, b := range bs {
		d, _ := autoBackupDay(filepath.Base(b.Path))
		days = append(days, d)
	}
	keep := keepDays(days)
	for i, b := range bs {
		if keep[days[i]] {
			continue
		}
		if rerr := os.Remove(b.Path); rerr != nil {
			err = errors.Join(err, rerr)
			continue
		}
		removed = append(removed, b.Path)
	}
	return removed, err
}

// AutoBackup takes day's automatic backup into dir when there is none yet, then
// rotates the folder. made is false when day already had its copy. Backup writes the
// copy beside its final name, leaves the tokens out and quick_checks it before the
// rename; AutoBackup checks the file once more where it lies. lockDir is the data
// folder: only one process backs up at a time (ErrBackupBusy to the others).
func (db *DB) AutoBackup(ctx context.Context, lockDir, dir string, day time.Time) (b BackupFile, made bool, err error) {
	l := flock.New(filepath.Join(lockDir, BackupLockFileName))
	ok, err := l.TryLock()
	if err != nil {
		return b, false, fmt.Errorf("lock %s: %w", l.Path(), err)
	}
	if !ok {
		return b, false, ErrBackupBusy
	}
	defer l.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return b, false, err
	}
	path := filepath.Join(dir, AutoBackupName(day))
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return b, false, err
		}
		if err := db.Backup(ctx, path, nil); err != nil {
			return b, false, err
		}
		made = true
	}
	b = BackupFile{Path: path, Auto: true}
	if b.Check(ctx); !b.OK {
		if ctx.Err() != nil {
			return b, made, ctx.Err()
		}
		// A copy that does not check out is no backup: away with it, so the next run tries again.
		_ = os.Remove(path)
		return b, false, fmt.Errorf("the automatic backup %s failed its check: %s", path, b.Note)
	}
	if fi, err := os.Stat(path); err == nil {
		b.Time, b.Size = fi.ModTime(), fi.Size()
	}
	_, err = RotateBackups(dir)
	return b, made, err
}
