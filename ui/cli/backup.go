package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"kfdesk/ui/workspace"
)

func init() {
	register("backup", "backup [FILE|FOLDER]   (copy the database; default kfdesk-backup-DATE-TIME.db here)", backup)
}

// backup copies the database with VACUUM INTO while the window and other commands may
// go on using it. A folder gets a dated file name, so a scheduled task keeps every copy.
func backup(e *Env, args []string) error {
	pos, err := parse(flags("backup"), args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return fmt.Errorf("%w: backup [FILE|FOLDER]", ErrUsage)
	}
	name := workspace.BackupFileName()
	dest := name
	if len(pos) == 1 {
		dest = pos[0]
		if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
			dest = filepath.Join(dest, name)
		}
	}
	if err := e.WS.Backup(e.Ctx, dest, nil); err != nil {
		return err
	}
	abs, _ := filepath.Abs(dest)
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if e.G.JSON {
		return e.printJSON(map[string]any{"file": abs, "bytes": fi.Size()})
	}
	fmt.Fprintf(e.Stdout, "backed up to %s (%d bytes)\n", abs, fi.Size())
	return nil
}
