package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// Keys the desktops use against kfdesk serve's API (issue 11 §5), one per desktop,
// revocable. Only a key's SHA-256 is stored. A password hash (bcrypt, argon2) is
// for secrets a person chose, which can be guessed: it makes each guess slow. A
// key here is 32 bytes from crypto/rand, so there is nothing to guess: finding
// one from its hash takes 2^256 tries, slow hash or not, and a fast hash keeps
// every API request cheap.

// DesktopKeyPrefix starts every key, so one pasted in the wrong place is recognisable.
const DesktopKeyPrefix = "kfd_"

// desktopKeyBytes is the random part of a key.
const desktopKeyBytes = 32

// DesktopKey is a key as listed (the key itself is never stored).
type DesktopKey struct {
	Name     string
	Created  time.Time
	LastUsed time.Time // zero if never (updated at most once a minute)
	Revoked  time.Time // zero while valid
}

func validateKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 || strings.ContainsAny(name, "\r\n\t") {
		return name, invalid("name", "请为这台电脑的密钥起一个名字（最多 64 个字），例如「前台电脑」。",
			"Give this desktop's key a name (at most 64 characters), e.g. front-desk.")
	}
	return name, nil
}

func hashDesktopKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// AddDesktopKey makes a new key for the desktop called name and returns it: the
// caller shows it once, it cannot be read back. A name in use by a valid key is refused.
func (db *DB) AddDesktopKey(ctx context.Context, name string) (string, error) {
	name, err := validateKeyName(name)
	if err != nil {
		return "", err
	}
	b := make([]byte, desktopKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := DesktopKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	_, err = db.w.ExecContext(ctx, `INSERT INTO desktop_keys(name, hash, created_at) VALUES (?, ?, ?)`,
		name, hashDesktopKey(key), clock.Now().Unix())
	if isUnique(err) {
		return "", api.Describe(ErrDuplicate, fmt.Sprintf("已有名为「%s」的有效密钥；请换个名字，或先吊销它。", name),
			fmt.Sprintf("A valid key named %q exists: choose another name or revoke it first.", name))
	}
	if err != nil {
		return "", err
	}
	return key, nil
}

// DesktopKeys lists every key, revoked ones too, oldest first.
func (db *DB) DesktopKeys(ctx context.Context) ([]DesktopKey, error) {
	return queryAll(ctx, db.r, func(row interface{ Scan(...any) error }) (DesktopKey, error) {
		var k DesktopKey
		var created, used, revoked int64
		err := row.Scan(&k.Name, &created, &used, &revoked)
		k.Created = time.Unix(created, 0)
		if used > 0 {
			k.LastUsed = time.Unix(used, 0)
		}
		if revoked > 0 {
			k.Revoked = time.Unix(revoked, 0)
		}
		return k, err
	}, `SELECT name, created_at, coalesce(last_used_at, 0), coalesce(revoked_at, 0) FROM desktop_keys ORDER BY id`)
}

// RevokeDesktopKey makes the valid key called name fail from now on.
func (db *DB) RevokeDesktopKey(ctx context.Context, name string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE desktop_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`,
		clock.Now().Unix(), strings.TrimSpace(name))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return api.Describe(ErrNotFound, fmt.Sprintf("没有名为「%s」的有效密钥。", name), fmt.Sprintf("There is no valid key named %q.", name))
	}
	return nil
}

// lastUseStep: last use is written at most this often per key (every API
// request checks a key; a write each time would queue them all on the writer).
const lastUseStep = time.Minute

// CheckDesktopKey tells whether key is a valid desktop key and whose. Every
// valid key's hash is compared, in constant time and without stopping at a
// match, so the time taken says nothing about which bytes matched.
func (db *DB) CheckDesktopKey(ctx context.Context, key string) (name string, ok bool, err error) {
	want := hashDesktopKey(key)
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, hash, coalesce(last_used_at, 0) FROM desktop_keys WHERE revoked_at IS NULL`)
	if err != nil {
		return "", false, err
	}
	var id, used int64
	for rows.Next() {
		var kid, kused int64
		var kname string
		var hash []byte
		if err := rows.Scan(&kid, &kname, &hash, &kused); err != nil {
			rows.Close()
			return "", false, err
		}
		if subtle.ConstantTimeCompare(hash, want) == 1 {
			id, name, used, ok = kid, kname, kused, true
		}
	}
	if err := rows.Close(); err != nil {
		return "", false, err
	}
	if !ok {
		return "", false, nil
	}
	if now := clock.Now(); now.Unix()-used >= int64(lastUseStep/time.Second) {
		// revoked_at IS NULL again: a revoke committed since the read wins.
		res, err := db.w.ExecContext(ctx, `UPDATE desktop_keys SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL`, now.Unix(), id)
		if err != nil {
			return "", false, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", false, nil
		}
	}
	return name, true, nil
}
