package storage

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"kfdesk/api"
)

// ExportOptions shape a CSV export.
type ExportOptions struct {
	ZH       bool                  // Chinese header and directions
	Location *time.Location        // time zone of the time column; default time.Local
	ZoneName string                // names Location in the time column's header, e.g. 北京时间
	Progress func(done, total int) // optional: every few thousand rows and at the end
}

// ExportRecordsCSV writes the records matching f, oldest first, as CSV that
// Excel and WPS open correctly: UTF-8 with BOM, CRLF line ends, a header row,
// quoted fields where needed, and formula-looking cells neutralised. It streams
// rows, so memory stays flat however big the archive. It returns the rows written.
func (db *DB) ExportRecordsCSV(ctx context.Context, w io.Writer, accountID int64, f RecordFilter, o ExportOptions) (int, error) {
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	total := -1
	if o.Progress != nil {
		n, err := db.CountRecords(ctx, accountID, f)
		if err != nil {
			return 0, err
		}
		total = n
	}
	cw := newCSVWriter(w)
	header := []string{"Time", "OpenID", "Worker", "Direction", "OperCode", "Text"}
	if o.ZH {
		header = []string{"时间", "OpenID", "客服", "方向", "操作码", "内容"}
	}
	if o.ZoneName != "" {
		if o.ZH {
			header[0] += "（" + o.ZoneName + "）"
		} else {
			header[0] += " (" + o.ZoneName + ")"
		}
	}
	if err := cw.Row(header...); err != nil {
		return 0, err
	}
	done := 0
	var buf []byte
	err := db.eachRecord(ctx, accountID, f, 0, true, 0, func(r Record) error {
		buf = r.Time.In(loc).AppendFormat(buf[:0], "2006-01-02 15:04:05")
		if err := cw.Row(string(buf), r.OpenID, r.Worker, directionName(r.OperCode, o.ZH), strconv.Itoa(r.OperCode), r.Text); err != nil {
			return err
		}
		done++
		if done%4096 == 0 {
			if o.Progress != nil {
				o.Progress(done, total)
			}
			return ctx.Err()
		}
		return nil
	})
	if err == nil {
		err = cw.Flush()
	}
	if err != nil {
		return done, err
	}
	if o.Progress != nil {
		o.Progress(done, total)
	}
	return done, nil
}

// ExportRecordsFile exports to path. The file appears only when the export is
// complete: a cancelled or failed export leaves no half-written CSV behind.
func (db *DB) ExportRecordsFile(ctx context.Context, path string, accountID int64, f RecordFilter, o ExportOptions) (int, error) {
	var n int
	err := WriteFileAtomic(path, func(w io.Writer) (err error) {
		n, err = db.ExportRecordsCSV(ctx, w, accountID, f, o)
		return err
	})
	return n, err
}

func directionName(code int, zh bool) string {
	d := api.OperCodeDirection(code)
	if d == api.DirEvent {
		return api.OperCodeName(code, zh)
	}
	names := map[api.Direction][2]string{api.DirIn: {"客户消息", "from customer"}, api.DirOut: {"客服回复", "from KF"}, api.DirOther: {"其他", "other"}}
	if zh {
		return names[d][0]
	}
	return names[d][1]
}

// csvWriter writes spreadsheet-safe CSV (RFC 4180 with CRLF, UTF-8 BOM first).
// encoding/csv is not used: with UseCRLF it silently drops a lone \r inside a
// field, and it knows nothing of formula injection.
type csvWriter struct {
	w       *bufio.Writer
	started bool
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: bufio.NewWriterSize(w, 64<<10)} }

// Row writes one row.
func (c *csvWriter) Row(fields ...string) error {
	if !c.started {
		c.started = true
		c.w.WriteString("\uFEFF")
	}
	for i, f := range fields {
		if i > 0 {
			c.w.WriteByte(',')
		}
		c.field(f)
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

func (c *csvWriter) Flush() error { return c.w.Flush() }

func (c *csvWriter) field(s string) {
	// A cell starting like a formula would run as one in Excel/WPS: a leading '
	// makes it text (OWASP "CSV injection").
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	if !strings.ContainsAny(s, ",\"\r\n") {
		c.w.WriteString(s)
		return
	}
	c.w.WriteByte('"')
	c.w.WriteString(strings.ReplaceAll(s, `"`, `""`))
	c.w.WriteByte('"')
}
