package cli

import (
	"fmt"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("restore", "restore FILE   (put a backup in place of the database; the current one is kept, renamed with the date)", restore)
}

// restore puts a backup (kfdesk backup's, or an automatic one) in place of the
// data folder's database. It runs without opening the workspace (WithoutWorkspace):
// the database may be the damaged one being replaced. The window must be closed: it
// holds the data folder's lock (storage.LockDataDir) and is refused.
func restore(e *Env, args []string) error {
	pos, err := parse(flags("restore"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: restore FILE", ErrUsage)
	}
	dir, err := workspace.ResolveDir(e.G.DataDir)
	if err != nil {
		return err
	}
	lock, err := storage.LockDataDir(dir)
	if err != nil {
		return fmt.Errorf("%w（请先关闭 KF Desk 窗口 / close the KF Desk window first）", err)
	}
	defer lock.Release()
	aside, err := workspace.RestoreBackup(e.Ctx, dir, pos[0])
	if err != nil {
		return err
	}
	if e.G.JSON {
		return e.printJSON(map[string]any{"restored": pos[0], "kept": aside})
	}
	if aside != "" {
		fmt.Fprintf(e.Stdout, "已恢复备份；原数据库保留为 %s / Backup restored; the database it replaced is kept as %s\n", aside, aside)
	} else {
		fmt.Fprintln(e.Stdout, "已恢复备份 / Backup restored")
	}
	return nil
}
