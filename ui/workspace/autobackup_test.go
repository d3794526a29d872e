package workspace

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/storage"
)

// stepClock makes now return t, and puts the clock back after the test.
func stepClock(t *testing.T, at *time.Time) {
	t.Helper()
	saved := now
	now = func() time.Time { return *at }
	t.Cleanup(func() { now = saved })
}

func autoBackupNames(t *testing.T, dir string) []string {
	t.Helper()
	bs, err := storage.AutoBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, filepath.Base(b.Path))
	}
	slices.Sort(names)
	return names
}

// Across a simulated five weeks of the window running (a look every few hours),
// exactly one backup is taken each day, and the folder keeps the last 7 days and one
// copy of each of the 4 weeks before them.
func TestAutomaticBackupKeeps7DailyAnd4Weekly(t *testing.T) {
	w := openTemp(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, TimeZone) // a Monday
	stepClock(t, &at)
	made := 0
	for day := range 35 {
		for _, hour := range []int{9, 13, 23} {
			at = time.Date(2026, 11, 2+day, hour, 30, 0, 0, TimeZone)
			b, ok, err := w.AutoBackupIfDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				made++
				if want := storage.AutoBackupName(at); filepath.Base(b.Path) != want || b.Size == 0 {
					t.Fatalf("%v: made %+v, want %s", at, b, want)
				}
			}
		}
		if n := len(autoBackupNames(t, w.BackupFolder(ctx))); day >= 34 && n != storage.KeepDaily+storage.KeepWeekly {
			t.Fatalf("day %d: %d backups", day, n)
		}
	}
	if made != 35 {
		t.Fatalf("%d backups made in 35 days", made)
	}
	// The last day is Sunday 6 December: daily 30 Nov – 6 Dec, then the Sundays of the four weeks before.
	want := []string{"kfdesk-auto-20261108.db", "kfdesk-auto-20261115.db", "kfdesk-auto-20261122.db", "kfdesk-auto-20261129.db",
		"kfdesk-auto-20261130.db", "kfdesk-auto-20261201.db", "kfdesk-auto-20261202.db", "kfdesk-auto-20261203.db",
		"kfdesk-auto-20261204.db", "kfdesk-auto-20261205.db", "kfdesk-auto-20261206.db"}
	if got := autoBackupNames(t, w.BackupFolder(ctx)); !slices.Equal(got, want) {
		t.Fatalf("kept\n%v\nwant\n%v", got, want)
	}
	st, err := w.AutoBackupState(ctx)
	if err != nil || !st.On || st.Last == nil || filepath.Base(st.Last.Path) != "kfdesk-auto-20261206.db" {
		t.Fatalf("state %+v, %v", st, err)
	}
}

func TestAutomaticBackupOffAndElsewhere(t *testing.T) {
	w := openTemp(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, TimeZone)
	stepClock(t, &at)
	if err := w.DB.SaveToken(ctx, "wx:stable", api.Token{Value: "ACCESS-TOKEN-stays-here", ExpiresAt: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAutoBackup(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, made, err := w.AutoBackupIfDue(ctx); made || err != nil {
		t.Fatalf("off, yet made=%v err=%v", made, err)
	}
	if err := w.SetAutoBackup(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := w.SetBackupFolder(ctx, "relative/dir"); err == nil {
		t.Fatal("a relative folder was accepted")
	}
	cloud := filepath.Join(t.TempDir(), "云盘", "kfdesk")
	if err := w.SetBackupFolder(ctx, cloud); err != nil {
		t.Fatal(err)
	}
	if _, made, err := w.AutoBackupIfDue(ctx); !made || err != nil {
		t.Fatalf("made=%v err=%v", made, err)
	}
	if got := autoBackupNames(t, cloud); !slices.Equal(got, []string{"kfdesk-auto-20261201.db"}) {
		t.Fatalf("in the chosen folder: %v", got)
	}
	// The cached access tokens are left out, as in the manual backup.
	copyDB, err := storage.Open(filepath.Join(cloud, "kfdesk-auto-20261201.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if tok, err := copyDB.LoadToken(ctx, "wx:stable"); err != nil || tok.Value != "" {
		t.Fatalf("token in the backup: %q %v", tok.Value, err)
	}
}
