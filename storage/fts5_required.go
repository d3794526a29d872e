//go:build !sqlite_fts5

package storage

// KF Desk's chat-record search needs SQLite's FTS5, which go-sqlite3 compiles in only
// with the build tag sqlite_fts5. Failing here, at compile time, beats a "no such
// module: fts5" at run time. Build with: go build -tags sqlite_fts5,migrated_fynedo
var _ = build_with_tags_sqlite_fts5_see_README
