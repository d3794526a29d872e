package storage

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// The report's tables as rows of text: for CSV (same rules as the records export:
// csvWriter) and the command line. Durations are whole seconds, shares percentages.

// ReportTables names the tables in the order the page shows them.
var ReportTables = []string{"days", "workers", "heat", "unanswered", "words", "menus"}

var weekdaysZH = []string{"周一", "周二", "周三", "周四", "周五", "周六", "周日"}
var weekdaysEN = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// Weekday names weekday i of the heat map (0 = Monday).
func Weekday(i int, zh bool) string {
	if zh {
		return weekdaysZH[i]
	}
	return weekdaysEN[i]
}

// Table returns a table's header and rows (nil header for an unknown name).
func (r *Report) Table(name string, zh bool) (header []string, rows [][]string) {
	pick := func(en, cn string) string {
		if zh {
			return cn
		}
		return en
	}
	itoa := strconv.Itoa
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch name {
	case "days":
		header = []string{pick("Day", "日期"), pick("Customer messages", "客户消息"), pick("KF replies", "客服回复"),
			pick("New conversations", "新会话"), pick("Answered", "已回复会话"), pick("Median first response (s)", "首次响应中位数（秒）"),
			pick("P90 first response (s)", "首次响应 P90（秒）")}
		for _, d := range r.Days {
			rows = append(rows, []string{d.Day, itoa(d.CustomerMessages), itoa(d.Replies), itoa(d.Conversations), itoa(d.Answered), i64(d.MedianFirst), i64(d.P90First)})
		}
	case "workers":
		header = []string{pick("KF worker", "客服"), pick("Conversations", "会话"), pick("Messages sent", "发送消息"),
			pick("First responses", "首次响应次数"), pick("Median first response (s)", "首次响应中位数（秒）"), pick("P90 first response (s)", "首次响应 P90（秒）")}
		for _, w := range r.Workers {
			rows = append(rows, []string{w.Worker, itoa(w.Conversations), itoa(w.Messages), itoa(w.Answered), i64(w.MedianFirst), i64(w.P90First)})
		}
	case "heat":
		header = []string{pick("Weekday", "星期")}
		for h := range 24 {
			header = append(header, fmt.Sprintf("%02d", h))
		}
		for d := range 7 {
			row := []string{Weekday(d, zh)}
			for h := range 24 {
				row = append(row, itoa(r.Heat[d][h]))
			}
			rows = append(rows, row)
		}
	case "unanswered":
		header = []string{"OpenID", pick("Last message (Beijing time)", "最后消息（北京时间）"), pick("Waiting (s)", "等待（秒）"), pick("Text", "内容")}
		for _, u := range r.Unanswered {
			rows = append(rows, []string{u.OpenID, u.Last.Time.In(Beijing).Format("2006-01-02 15:04:05"), i64(u.Waiting), u.Last.Text})
		}
	case "words":
		header = []string{pick("Word", "词语"), pick("Customer messages", "客户消息数")}
		for _, w := range r.Words {
			rows = append(rows, []string{w.Word, itoa(w.Messages)})
		}
	case "menus":
		header = []string{pick("Menu", "菜单"), pick("Sent", "发送"), pick("Answered", "回答"), pick("Option", "选项"),
			pick("Answers", "选择次数"), pick("Satisfied (%)", "满意率（%）")}
		for _, m := range r.Menus {
			rate := ""
			if m.HasSatisfaction {
				rate = strconv.FormatFloat(100*m.Satisfied, 'f', 1, 64)
			}
			for _, o := range m.Options {
				rows = append(rows, []string{m.Head, itoa(m.Sent), itoa(m.Answered), o.Text, itoa(o.Answers), rate})
			}
		}
	}
	return header, rows
}

// WriteReportCSV writes one of the report's tables as CSV for Excel and WPS.
func (r *Report) WriteReportCSV(w io.Writer, table string, zh bool) error {
	header, rows := r.Table(table, zh)
	if header == nil {
		return fmt.Errorf("no report table %q", table)
	}
	cw := newCSVWriter(w)
	if err := cw.Row(header...); err != nil {
		return err
	}
	for _, row := range rows {
		if err := cw.Row(row...); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// WriteFileAtomic writes path through write: the file appears only when write
// succeeds, so a failed or cancelled export leaves nothing half-written behind.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
