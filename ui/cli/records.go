package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("records sync", "records sync [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--force]   (default: every day of the last 30 not yet complete)", recordsSync)
	register("records search", "records search [QUERY] [--customer NOTE|OPENID] [--openid ID] [--worker KF] [--direction in|out|event] [--from D] [--to D] [--limit N]   (times in Beijing time, UTC+8)", recordsSearch)
	register("records export", "records export --out FILE.csv [QUERY] [same filters as search]", recordsExport)
}

func recordsSync(e *Env, args []string) error {
	fs := flags("records sync")
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	force := fs.Bool("force", false, "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: records sync takes no arguments, only --from/--to", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	line := e.statusLine()
	req := workspace.SyncRequest{Force: *force,
		Progress: func(p storage.SyncProgress) {
			day := ""
			if !p.Day.IsZero() {
				day = workspace.FormatTime(p.Day, "2006-01-02")
			}
			if p.Phase == storage.PhaseIndexing {
				line.show(fmt.Sprint("index", p.Indexed == p.ToIndex),
					fmt.Sprintf("building the search index %d/%d / 正在建立搜索索引", p.Indexed, p.ToIndex))
				return
			}
			if p.Phase == storage.PhaseSuggesting {
				line.show(fmt.Sprint("suggest", p.Suggested == p.ToSuggest),
					fmt.Sprintf("preparing suggested replies %d/%d customers / 正在整理建议回复 %d/%d 位顾客", p.Suggested, p.ToSuggest, p.Suggested, p.ToSuggest))
				return
			}
			line.show(fmt.Sprint("day", p.DaysDone),
				fmt.Sprintf("day %d/%d %s  pages %d  records %d  new %d", p.DaysDone, p.Days, day, p.Pages, p.Records, p.Added))
		}}
	if *from != "" || *to != "" {
		if req.From, req.To, err = dayRange(*from, *to, true); err != nil {
			return err
		}
	}
	p, err := e.WS.SyncRecords(e.Ctx, a, req)
	line.end()
	if err != nil && p.Phase == storage.PhaseSuggesting {
		left := p.ToSuggest - p.Suggested
		return fmt.Errorf("every record is stored (%d new); the suggested replies of %d customers are prepared by the next sync / 聊天记录已全部保存（新增 %d 条），其余 %d 位顾客的建议回复在下次同步时整理: %w",
			p.Added, left, p.Added, left, err)
	}
	if err != nil && p.Day.IsZero() { // before the first day (no AppSecret, say): nothing was fetched
		return fmt.Errorf("sync did not start; nothing was stored / 同步未能开始，没有保存任何记录: %w", err)
	}
	if err != nil {
		return fmt.Errorf("sync stopped on %s after %d new records; run it again to resume / 同步在 %s 中断（已保存 %d 条），再次运行即可继续: %w",
			workspace.FormatTime(p.Day, "2006-01-02"), p.Added, workspace.FormatTime(p.Day, "2006-01-02"), p.Added, err)
	}
	last := "none"
	if d, ok, _ := e.WS.DB.LastCompleteDay(e.Ctx, a.ID); ok {
		last = workspace.FormatTime(d, "2006-01-02")
	}
	fmt.Fprintf(e.Stderr, "synced %d days (%d already complete): %d records, %d new; last complete day %s\n",
		p.DaysDone, p.Skipped, p.Records, p.Added, last)
	autoBackup(e)
	return nil
}

// dayRange parses --from/--to; an empty end is today (sync) or open (search).
func dayRange(from, to string, defaultToday bool) (f, t time.Time, err error) {
	if from != "" {
		if f, err = storage.ParseDay(from); err != nil {
			return
		}
	}
	if to != "" {
		if t, err = storage.ParseDay(to); err != nil {
			return
		}
	} else if defaultToday {
		t = storage.BeijingDay(nowFunc())
	}
	if from == "" && defaultToday {
		f = t
	}
	return
}

// nowFunc is the clock for default dates (tests move it).
var nowFunc = clock.Now

// filterFlags reads the filter flags shared by search and export.
type filterFlags struct {
	customer, openid, worker, direction, from, to *string
}

func addFilterFlags(fs *flag.FlagSet) filterFlags {
	return filterFlags{fs.String("customer", "", ""), fs.String("openid", "", ""), fs.String("worker", "", ""), fs.String("direction", "", ""),
		fs.String("from", "", ""), fs.String("to", "", "")}
}

// parseSearch parses a search or export command line. A word to leave out
// (-发票, -#10, '-"原路 退回"') would be read as an unknown flag: an argument is
// one when what follows its dashes cannot start a flag name (ours are ASCII
// letters), and after --. A leading space keeps it out of the flag parser; the
// search ignores it (storage searchQuery). A flag's value is left alone.
func parseSearch(fs *flag.FlagSet, args []string) ([]string, error) {
	marked := make([]string, 0, len(args))
	unknown := "" // an ASCII -word that is no flag of ours
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			marked = append(marked, a)
			for _, w := range args[i+1:] {
				marked = append(marked, " "+w)
			}
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-") || a == "-":
		case name == "" || !isASCIILetter(name[0]):
			a = " " + a
		case fs.Lookup(name) == nil:
			if name != "h" && name != "help" {
				unknown = a
			}
		case !hasValue && takesValue(fs, name) && i+1 < len(args):
			marked = append(marked, a)
			i++
			a = args[i]
		}
		marked = append(marked, a)
	}
	pos, err := parse(fs, marked)
	if err != nil && unknown != "" {
		err = fmt.Errorf("%w; to leave out the word %s, put the whole query in quotes: '退款 %s' / 要排除英文词 %s，请把整个查询放在引号里",
			err, strings.TrimLeft(unknown, "-"), unknown, strings.TrimLeft(unknown, "-"))
	}
	return pos, err
}

func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// takesValue: the flag name of fs reads the next argument as its value.
func takesValue(fs *flag.FlagSet, name string) bool {
	b, ok := fs.Lookup(name).Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// filter builds the records filter; --customer matches the notes, as in the window.
func (ff filterFlags) filter(e *Env, a storage.Account, pos []string) (storage.RecordFilter, error) {
	f := storage.RecordFilter{Text: strings.Join(pos, " "), OpenID: *ff.openid, Worker: *ff.worker}
	var err error
	if *ff.customer != "" {
		if *ff.openid != "" {
			return f, fmt.Errorf("%w: give --customer or --openid, not both / --customer 与 --openid 只能用一个", ErrUsage)
		}
		if f, err = e.WS.CustomerFilter(e.Ctx, a, f, *ff.customer); err != nil {
			return f, err
		}
	}
	if f.From, f.To, err = dayRange(*ff.from, *ff.to, false); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return f, fmt.Errorf("%w: --from is after --to / 开始日期晚于结束日期", ErrUsage)
	}
	if d := *ff.direction; d != "" {
		f.OperCodes = api.DirectionOperCodes(api.Direction(d))
		if f.OperCodes == nil {
			return f, fmt.Errorf("%w: --direction is in, out or event / 方向只能是 in、out 或 event", ErrUsage)
		}
	}
	return f, nil
}

type recordJSON struct {
	Time     string `json:"time"`
	OpenID   string `json:"openid"`
	Worker   string `json:"worker"`
	OperCode int    `json:"opercode"`
	Text     string `json:"text"`
}

func recordsSearch(e *Env, args []string) error {
	fs := flags("records search")
	ff := addFilterFlags(fs)
	limit := fs.Int("limit", 50, "")
	pos, err := parseSearch(fs, args)
	if err != nil {
		return err
	}
	if *limit < 1 {
		return fmt.Errorf("%w: --limit must be at least 1", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	f, err := ff.filter(e, a, pos)
	if err != nil {
		return err
	}
	var recs []storage.Record
	for cur := storage.RecordCursor(0); len(recs) < *limit; {
		p, err := e.WS.DB.SearchRecords(e.Ctx, a.ID, f, cur, min(*limit-len(recs), 1000))
		if err != nil {
			return err
		}
		recs = append(recs, p.Records...)
		if !p.More {
			break
		}
		cur = p.Next
	}
	if e.G.JSON {
		for _, r := range recs {
			if err := e.printJSON(recordJSON{workspace.FormatTime(r.Time, time.RFC3339), r.OpenID, r.Worker, r.OperCode, r.Text}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.Stderr, "no records found / 没有找到记录 (run `kfdesk records sync` first?)")
		return nil
	}
	zh := e.zh()
	t := newTable(e.Stdout)
	for _, r := range recs {
		text := strings.Join(strings.Fields(r.Text), " ")
		if text == "" {
			text = api.OperCodeName(r.OperCode, zh)
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%d\t%s\n", workspace.FormatTime(r.Time, "2006-01-02 15:04:05"), r.OpenID, r.Worker, r.OperCode, text)
	}
	return t.Flush()
}

func recordsExport(e *Env, args []string) error {
	fs := flags("records export")
	ff := addFilterFlags(fs)
	out := fs.String("out", "", "")
	pos, err := parseSearch(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: records export --out FILE.csv", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	f, err := ff.filter(e, a, pos)
	if err != nil {
		return err
	}
	line := e.statusLine()
	n, err := e.WS.ExportRecords(e.Ctx, a, *out, f, e.zh(), func(done, total int) {
		line.show(fmt.Sprint(done*10/max(total, 1)), fmt.Sprintf("exported %d/%d", done, total))
	})
	line.end()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "wrote %d records to %s\n", n, *out)
	return nil
}

// zh: the chosen UI language, else the system's (workspace.Chinese).
func (e *Env) zh() bool { return e.WS.Chinese(e.Ctx, e.Getenv) }
