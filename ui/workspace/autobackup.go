package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
)

// Setting keys of the automatic backup.
const (
	SettingAutoBackup   = "auto_backup"   // "off" turns the daily backup off
	SettingBackupFolder = "backup_folder" // "" = the backups folder in the data folder
)

// now is the clock of the automatic backup; a test steps it through a month.
var now = clock.Now

// AutoBackupState is what Settings shows of the automatic backup.
type AutoBackupState struct {
	On     bool
	Folder string
	Last   *storage.BackupFile // the newest automatic backup; nil when there is none yet
}

// BackupFolder is where the automatic backups go.
func (w *Workspace) BackupFolder(ctx context.Context) string {
	if d, _, _ := w.DB.Setting(ctx, SettingBackupFolder); d != "" {
		return d
	}
	return filepath.Join(w.Dir, storage.AutoBackupDirName)
}

// AutoBackupState reads the settings and the folder (a directory listing: not on the UI thread).
func (w *Workspace) AutoBackupState(ctx context.Context) (AutoBackupState, error) {
	off, _, err := w.DB.Setting(ctx, SettingAutoBackup)
	if err != nil {
		return AutoBackupState{}, err
	}
	s := AutoBackupState{On: off != "off", Folder: w.BackupFolder(ctx)}
	bs, err := storage.AutoBackups(s.Folder)
	if len(bs) > 0 {
		s.Last = &bs[0]
	}
	return s, err
}

// SetAutoBackup turns the daily backup on or off.
func (w *Workspace) SetAutoBackup(ctx context.Context, on bool) error {
	v := "off"
	if on {
		v = ""
	}
	return w.DB.SetSetting(ctx, SettingAutoBackup, v)
}

// SetBackupFolder makes dir the automatic backups' folder ("" = the default), once it
// is known to be writable: a folder picked on a cloud drive that is not mounted fails here, not at night.
func (w *Workspace) SetBackupFolder(ctx context.Context, dir string) error {
	if dir != "" {
		if !filepath.IsAbs(dir) {
			return &storage.ValidationError{Field: "backup_folder", Chinese: "请选择一个完整路径的文件夹。", English: "Choose a folder by its full path."}
		}
		if err := writable(dir); err != nil {
			return api.Describe(err, "无法写入这个文件夹："+dir, "This folder cannot be written: "+dir)
		}
	}
	return w.DB.SetSetting(ctx, SettingBackupFolder, dir)
}

func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".kfdesk-write-check-*")
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// AutoBackupIfDue takes today's automatic backup (today in TimeZone) when it is on
// and there is none yet, and keeps the folder to 7 daily and 4 weekly copies
// (storage.AutoBackup). made is false when nothing was due, also when another process
// (the window, a scheduled sync) is taking it right now.
func (w *Workspace) AutoBackupIfDue(ctx context.Context) (b storage.BackupFile, made bool, err error) {
	st, err := w.AutoBackupState(ctx)
	if err != nil || !st.On {
		return b, false, err
	}
	day := now().In(TimeZone)
	if st.Last != nil && filepath.Base(st.Last.Path) == storage.AutoBackupName(day) {
		return *st.Last, false, nil
	}
	b, made, err = w.DB.AutoBackup(ctx, w.Dir, st.Folder, day)
	if errors.Is(err, storage.ErrBackupBusy) {
		return b, false, nil
	}
	return b, made, err
}

// AutoBackupEvery is how often the window looks whether a backup is due (a new day began).
const AutoBackupEvery = time.Hour
