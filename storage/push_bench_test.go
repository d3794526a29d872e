package storage

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkStorePush: one push with two jobs per op, each in its own transaction
// as the push handler does it, beside a plain single-row INSERT of a body of the
// same size on the same writer (the cheapest durable write SQLite does here), and
// WeChat's retry of a push already stored. Figures in docs/BENCHMARKS.md.
func BenchmarkStorePush(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B) (*DB, int64) {
		db, err := Open(b.TempDir() + "/" + DBFileName)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		a, err := db.AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
		if err != nil {
			b.Fatal(err)
		}
		return db, a.ID
	}
	sample := textPush(custA, pushT0, "24356789012345678", "请问这款铁观音什么时候发货？我昨天下的单，订单号 1234567890")
	b.Run("push+2jobs", func(b *testing.B) {
		db, acct := setup(b)
		b.SetBytes(int64(len(sample.Raw)))
		b.ResetTimer()
		for i := range b.N {
			p := sample
			p.MsgID = fmt.Sprint(i)
			if _, dup, err := db.StorePush(ctx, acct, p, "media", "autoreply"); err != nil || dup {
				b.Fatal(dup, err)
			}
		}
	})
	b.Run("retry(duplicate)", func(b *testing.B) {
		db, acct := setup(b)
		if _, _, err := db.StorePush(ctx, acct, sample, "media", "autoreply"); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(sample.Raw)))
		b.ResetTimer()
		for range b.N {
			if _, dup, err := db.StorePush(ctx, acct, sample, "media", "autoreply"); err != nil || !dup {
				b.Fatal(dup, err)
			}
		}
	})
	b.Run("baseline:plain-insert", func(b *testing.B) {
		db, _ := setup(b)
		if _, err := db.Writer().Exec(`CREATE TABLE bench_plain(id INTEGER PRIMARY KEY, raw BLOB NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(sample.Raw)))
		b.ResetTimer()
		for range b.N {
			if _, err := db.Writer().ExecContext(ctx, `INSERT INTO bench_plain(raw) VALUES (?)`, sample.Raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
