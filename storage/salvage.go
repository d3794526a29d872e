package storage

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// readableCopy is a file SQLite will read what is left of path from. SQLite refuses a
// file shorter than its header says whole, even the pages that are there; a copy
// padded with zeros (sparse, so the padding takes no disk space) to that length reads
// up to where the file ends. Only the first limit bytes are copied (0 = all): the
// first pages hold the small tables. Other files are read in place (read-only).
// done removes the copy.
func readableCopy(path string, limit int64) (string, func(), error) {
	if !errors.Is(checkHeader(path), errCutShort) {
		return path, func() {}, nil
	}
	in, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer in.Close()
	var h [100]byte
	if _, err := io.ReadFull(in, h[:]); err != nil {
		return "", nil, err
	}
	pageSize, pages := headerSize(h)
	tmp, err := os.MkdirTemp("", "kfdesk-damaged-read-")
	if err != nil {
		return "", nil, err
	}
	done := func() { _ = os.RemoveAll(tmp) } // with the -shm and -wal a read-only open makes
	out, err := os.Create(filepath.Join(tmp, DBFileName))
	if err != nil {
		done()
		return "", nil, err
	}
	src := io.NewSectionReader(in, 0, 1<<62)
	var r io.Reader = src
	if limit > 0 {
		r = io.LimitReader(src, limit/pageSize*pageSize)
	}
	_, err = io.Copy(out, r)
	err = errors.Join(err, out.Truncate(pages*pageSize), out.Close())
	if err != nil {
		done()
		return "", nil, err
	}
	return out.Name(), done, nil
}

// salvageTables are the small tables worth carrying into a new archive: the accounts
// (their AppSecrets stay in the secret store under the same id), the settings, and
// what the operator wrote by hand. Parents before children (foreign keys).
var salvageTables = []string{"accounts", "settings", "kf_settings", "customer_notes", "templates", "autoreply_rules", "autoreply_forward"}

// Salvage copies the salvageTables that can still be read whole from the damaged
// database file into db (a new, empty archive), each table all or nothing, with the
// columns both have in common by name. The chat records follow, day by day
// (SalvageRecords). It returns what was copied; damaged is only read.
func (db *DB) Salvage(ctx context.Context, damaged string) ([]Readable, error) {
	src, done, err := readableCopy(damaged, 64<<20)
	if err != nil {
		return nil, err
	}
	defer done()
	c, err := db.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	detach, err := attachOld(ctx, c, src)
	if err != nil {
		return nil, err
	}
	defer detach()
	var out []Readable
	for _, t := range salvageTables {
		n, err := salvageTable(ctx, c, t)
		out = append(out, Readable{Table: t, Rows: n, Err: err})
	}
	return out, nil
}

// attachOld attaches src, read-only, as schema "old" of connection c.
func attachOld(ctx context.Context, c *sql.Conn, src string) (detach func(), err error) {
	if _, err := c.ExecContext(ctx, "ATTACH DATABASE ? AS old", fileURI(src, "mode=ro")); err != nil {
		return nil, err
	}
	return func() {
		_, _ = c.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE old") // the connection is returned either way
	}, nil
}

// salvageTable copies one table from old into main in one transaction.
func salvageTable(ctx context.Context, c *sql.Conn, table string) (int64, error) {
	list, err := commonColumns(ctx, c, table)
	if err != nil {
		return 0, err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	// The new archive's own rows (e.g. a setting written on opening) give way to the old ones.
	res, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO main."+table+" ("+list+") SELECT "+list+" FROM old."+table)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, tx.Commit()
}

func columns(ctx context.Context, c *sql.Conn, schema, table string) ([]string, error) {
	rows, err := c.QueryContext(ctx, "SELECT name FROM pragma_table_info(?, ?)", table, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no table " + schema + "." + table)
	}
	return out, nil
}
