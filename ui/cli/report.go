package cli

import (
	"fmt"
	"strings"
	"time"

	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("report", "report [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--period today|7d|30d|all] [--unanswered-after MINUTES]   (the Reports page's figures; default: everything archived; --json: one object)", report)
}

func report(e *Env, args []string) error {
	fs := flags("report")
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	period := fs.String("period", "", "")
	after := fs.Int("unanswered-after", int(storage.ConversationGap/time.Minute), "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: report takes no arguments, only flags", ErrUsage)
	}
	if *after <= 0 {
		return fmt.Errorf("%w: --unanswered-after is a number of minutes above 0", ErrUsage)
	}
	var f, t time.Time
	switch p := workspace.ReportPeriod(*period); {
	case p == "":
	case p == workspace.PeriodToday || p == workspace.Period7Days || p == workspace.Period30Days || p == workspace.PeriodEverything:
		if *from != "" || *to != "" {
			return fmt.Errorf("%w: --period or --from/--to, not both", ErrUsage)
		}
		f, t = workspace.PeriodDays(p, clock.Now())
	default:
		return fmt.Errorf("%w: --period is today, 7d, 30d or all", ErrUsage)
	}
	if *from != "" || *to != "" {
		var err error
		if f, t, err = dayRange(*from, *to, true); err != nil {
			return err
		}
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	rep, err := e.WS.Report(e.Ctx, a, f, t, time.Duration(*after)*time.Minute)
	if err != nil {
		return err
	}
	if e.G.JSON {
		return e.printJSON(rep)
	}
	zh := e.zh()
	fmt.Fprintf(e.Stdout, "%s: %s – %s (%s)\n", a.Name, rep.From, rep.To, workspace.TimeZoneNameEN)
	fmt.Fprintf(e.Stdout, "customer messages %d, KF replies %d, conversations %d (answered %d), first response median %s, p90 %s\n",
		rep.CustomerMessages, rep.Replies, rep.Conversations, rep.Answered, seconds(rep.MedianFirst), seconds(rep.P90First))
	for _, name := range storage.ReportTables {
		header, rows := rep.Table(name, zh)
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintln(e.Stdout)
		tw := newTable(e.Stdout)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			for i := range r {
				r[i] = strings.Join(strings.Fields(r[i]), " ") // one line per row
			}
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func seconds(s int64) string { return (time.Duration(s) * time.Second).String() }
