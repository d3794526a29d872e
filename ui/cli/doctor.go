package cli

import (
	"fmt"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("doctor", "doctor   (check the database: integrity, schema, size, WAL, backups found; changes nothing)", doctor)
}

// WithoutWorkspace tells main which command lines run before the data folder is
// opened: doctor examines a database that may not open, and opening it would migrate
// it; restore replaces a database that may not open.
func WithoutWorkspace(args []string) bool {
	return len(args) > 0 && (args[0] == "doctor" || args[0] == "restore")
}

// doctorJSON is doctor's --json answer.
type doctorJSON struct {
	Database     string       `json:"database"`
	Exists       bool         `json:"exists"`
	Bytes        int64        `json:"bytes"`
	WALBytes     int64        `json:"wal_bytes"`
	Integrity    string       `json:"integrity"`
	Schema       int          `json:"schema"`
	KnownSchema  int          `json:"known_schema"`
	SchemaWriter string       `json:"schema_written_by,omitempty"`
	Problem      string       `json:"problem,omitempty"`
	Backups      []backupJSON `json:"backups"`
	// Damaged: the chat records still readable, and the days (Beijing) where some are not.
	ReadableRecords *int64   `json:"readable_records,omitempty"`
	UnreadableDays  []string `json:"unreadable_days,omitempty"`
}

type backupJSON struct {
	File  string `json:"file"`
	Time  string `json:"time"`
	Bytes int64  `json:"bytes"`
	Auto  bool   `json:"automatic"`
	OK    bool   `json:"ok"`
	Note  string `json:"note,omitempty"`
}

var problemNames = map[storage.Problem]string{storage.ProblemDamaged: "damaged", storage.ProblemNewer: "newer_schema",
	storage.ProblemFolder: "folder", storage.ProblemDiskFull: "disk_full", storage.ProblemOther: "other"}

// doctor prints what it found and fails (exit 1, the problem on stderr) when the
// database would not open or is damaged.
func doctor(e *Env, args []string) error {
	if pos, err := parse(flags("doctor"), args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: doctor takes no arguments", ErrUsage)
	}
	dir := e.G.DataDir
	if e.WS != nil {
		dir = e.WS.Dir
	}
	dir, err := workspace.ResolveDir(dir)
	if err != nil {
		return err
	}
	r := workspace.Inspect(e.Ctx, dir)
	if e.G.JSON {
		j := doctorJSON{Database: r.Path, Exists: r.Exists, Bytes: r.Size, WALBytes: r.WALSize, Integrity: r.Integrity,
			Schema: r.Schema, KnownSchema: r.Known, SchemaWriter: r.SchemaWriter, Backups: []backupJSON{}}
		if r.OpenProblem != nil {
			j.Problem = problemNames[r.OpenProblem.Problem]
		}
		if r.Records != nil {
			j.ReadableRecords = &r.Records.Records
			for _, d := range r.Records.LostDays {
				j.UnreadableDays = append(j.UnreadableDays, workspace.FormatTime(d, "2006-01-02"))
			}
		}
		for _, b := range r.Backups {
			j.Backups = append(j.Backups, backupJSON{File: b.Path, Time: workspace.FormatTime(b.Time, "2006-01-02T15:04:05-07:00"),
				Bytes: b.Size, Auto: b.Auto, OK: b.OK, Note: b.Note})
		}
		if err := e.printJSON(j); err != nil {
			return err
		}
	} else {
		printReport(e, r)
	}
	if r.OpenProblem != nil {
		return r.OpenProblem
	}
	if r.IntegrityError != nil {
		return r.IntegrityError
	}
	return nil
}

func printReport(e *Env, r storage.DoctorReport) {
	w := e.Stdout
	fmt.Fprintf(w, "数据库 Database: %s\n", r.Path)
	if !r.Exists {
		fmt.Fprintln(w, "  还没有数据库（第一次打开 KF Desk 时创建） / no database yet (created when KF Desk first opens)")
	} else {
		fmt.Fprintf(w, "  大小 Size: %d bytes   WAL: %d bytes\n", r.Size, r.WALSize)
		fmt.Fprintf(w, "  完整性 Integrity (integrity_check): %s\n", r.Integrity)
		fmt.Fprintf(w, "  数据库版本 Schema: %d (此版本支持到 this KF Desk knows up to %d)\n", r.Schema, r.Known)
		if r.SchemaWriter != "" {
			fmt.Fprintf(w, "  写入版本 Written by: KF Desk %s\n", r.SchemaWriter)
		}
		if rs := r.Records; rs != nil {
			fmt.Fprintf(w, "  可读取的聊天记录 Readable chat records: %d", rs.Records)
			if len(rs.LostDays) > 0 {
				fmt.Fprintf(w, "（%d 天的部分记录无法读取 / on %d day(s) some cannot be read: %s … %s）", len(rs.LostDays), len(rs.LostDays),
					workspace.FormatTime(rs.LostDays[0], "2006-01-02"), workspace.FormatTime(rs.LostDays[len(rs.LostDays)-1], "2006-01-02"))
			}
			fmt.Fprintln(w)
			if rs.Records > 0 {
				fmt.Fprintln(w, "  （窗口中“从空数据库开始”会保留这些记录 / the window's \"Start with an empty archive\" carries them over）")
			}
		}
		switch {
		case r.OpenProblem != nil:
			fmt.Fprintf(w, "  结论 Verdict: %s / %s\n", r.OpenProblem.ZH(), r.OpenProblem.EN())
		case r.IntegrityError != nil:
			fmt.Fprintf(w, "  结论 Verdict: 无法检查 / could not check: %v\n", r.IntegrityError)
		default:
			fmt.Fprintln(w, "  结论 Verdict: 正常 / healthy")
		}
	}
	fmt.Fprintf(w, "备份 Backups found: %d\n", len(r.Backups))
	t := newTable(w)
	for _, b := range r.Backups {
		state := "ok"
		if !b.OK {
			state = "损坏 damaged: " + b.Note
		}
		kind := "手动 manual"
		if b.Auto {
			kind = "自动 automatic"
		}
		fmt.Fprintf(t, "  %s\t%d bytes\t%s\t%s\t%s\n", workspace.FormatTime(b.Time, "2006-01-02 15:04"), b.Size, kind, state, b.Path)
	}
	_ = t.Flush()
}

// autoBackup takes the day's automatic backup after a scheduled job's work (a
// computer that runs only `kfdesk records sync` from cron is backed up too). A
// failure is a warning: the job itself succeeded.
func autoBackup(e *Env) {
	b, made, err := e.WS.AutoBackupIfDue(e.Ctx)
	if err != nil {
		fmt.Fprintf(e.Stderr, "kfdesk: warning: the automatic backup failed / 自动备份失败: %v\n", err)
	} else if made {
		fmt.Fprintf(e.Stderr, "automatic backup / 自动备份: %s (%d bytes)\n", b.Path, b.Size)
	}
}
