package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// Account kinds and token modes, as stored.
const (
	KindOA = "oa" // Official Account 公众号
	KindMP = "mp" // Mini Program 小程序

	TokenStable  = "stable"
	TokenClassic = "classic"
	TokenURL     = "url"
	TokenStatic  = "static"
)

// Account is one WeChat account KF Desk works for. Its secret is in the SecretStore.
type Account struct {
	ID        int64
	Name      string
	Kind      string
	AppID     string
	APIBase   string // "" = https://api.weixin.qq.com
	TokenMode string
	TokenURL  string
	Demo      bool
	CreatedAt time.Time
}

var (
	ErrNotFound  error = api.Describe(nil, "未找到。", "Not found.")
	ErrDuplicate error = api.Describe(nil, "已存在。", "Already exists.")
)

// ValidationError names the field that is wrong and says why, in both languages,
// so the window can show it at the field.
// ValidationError is input the archive refuses; Field is name, kind, appid,
// token_mode, token_url, api_base, secret, date, note, template. It is api.InputError:
// one shape for every refused input.
type ValidationError = api.InputError

func invalid(field, zh, en string) *ValidationError {
	return &ValidationError{Field: field, Chinese: zh, English: en}
}

var appIDPattern = regexp.MustCompile(`^wx[0-9a-zA-Z]{16}$`)

func validateAccount(a *Account) error {
	a.Name = strings.TrimSpace(a.Name)
	a.AppID = strings.TrimSpace(a.AppID)
	a.APIBase = strings.TrimRight(strings.TrimSpace(a.APIBase), "/")
	a.TokenURL = strings.TrimSpace(a.TokenURL)
	if a.TokenMode == "" {
		a.TokenMode = TokenStable
	}
	switch {
	case a.Name == "":
		return invalid("name", "请填写账号名称。", "Enter a name for the account.")
	case utf8.RuneCountInString(a.Name) > 64:
		return invalid("name", "名称最多 64 个字。", "The name has at most 64 characters.")
	case a.Kind != KindOA && a.Kind != KindMP:
		return invalid("kind", "请选择公众号或小程序。", "Choose Official Account or Mini Program.")
	case !appIDPattern.MatchString(a.AppID):
		return invalid("appid", "AppID 应为 wx 开头的 18 位字母或数字，例如 wx0123456789abcdef。", "The AppID is 18 letters or digits starting with wx, e.g. wx0123456789abcdef.")
	case a.TokenMode != TokenStable && a.TokenMode != TokenClassic && a.TokenMode != TokenURL && a.TokenMode != TokenStatic:
		return invalid("token_mode", "请选择令牌方式。", "Choose a token mode.")
	case a.TokenMode == TokenURL && a.TokenURL == "":
		return invalid("token_url", "请填写令牌服务器地址。", "Enter the token server's URL.")
	case a.TokenURL != "" && !isHTTPURL(a.TokenURL):
		return invalid("token_url", "令牌地址应以 http:// 或 https:// 开头。", "The token URL must start with http:// or https://.")
	case a.APIBase != "" && !isHTTPURL(a.APIBase):
		return invalid("api_base", "接口地址应以 http:// 或 https:// 开头，或留空。", "The API address must start with http:// or https://, or be empty.")
	}
	return nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// AddAccount validates and stores a new account.
func (db *DB) AddAccount(ctx context.Context, a Account) (Account, error) {
	if err := validateAccount(&a); err != nil {
		return a, err
	}
	a.CreatedAt = clock.Now().Truncate(time.Second)
	res, err := db.w.ExecContext(ctx, `INSERT INTO accounts(name, kind, appid, api_base, token_mode, token_url, demo, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.Name, a.Kind, a.AppID, a.APIBase, a.TokenMode, a.TokenURL, a.Demo, a.CreatedAt.Unix())
	if isUnique(err) {
		return a, api.Describe(ErrDuplicate, fmt.Sprintf("已有名为「%s」的账号。", a.Name), fmt.Sprintf("An account named %q already exists.", a.Name))
	}
	if err != nil {
		return a, err
	}
	a.ID, err = res.LastInsertId()
	return a, err
}

// UpdateAccount saves changes to the account with a.ID.
func (db *DB) UpdateAccount(ctx context.Context, a Account) error {
	if err := validateAccount(&a); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE accounts SET name=?, kind=?, appid=?, api_base=?, token_mode=?, token_url=?
		WHERE id=?`, a.Name, a.Kind, a.AppID, a.APIBase, a.TokenMode, a.TokenURL, a.ID)
	if isUnique(err) {
		return api.Describe(ErrDuplicate, fmt.Sprintf("已有名为「%s」的账号。", a.Name), fmt.Sprintf("An account named %q already exists.", a.Name))
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteAccount removes an account and its cached tokens.
func (db *DB) DeleteAccount(ctx context.Context, name string) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		var appid string
		if err := tx.QueryRowContext(ctx, "SELECT appid FROM accounts WHERE name=?", name).Scan(&appid); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM accounts WHERE name=?", name); err != nil {
			return err
		}
		// Another account may use the same AppID (a second name for it): keep its tokens then.
		var others int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM accounts WHERE appid=?", appid).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			_, err := tx.ExecContext(ctx, "DELETE FROM tokens WHERE key LIKE ? ESCAPE '\\'", escapeLike(appid)+":%")
			return err
		}
		return nil
	})
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const accountCols = "id, name, kind, appid, api_base, token_mode, token_url, demo, created_at"

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created int64
	err := row.Scan(&a.ID, &a.Name, &a.Kind, &a.AppID, &a.APIBase, &a.TokenMode, &a.TokenURL, &a.Demo, &created)
	a.CreatedAt = time.Unix(created, 0)
	return a, err
}

// Accounts lists every account, by name.
func (db *DB) Accounts(ctx context.Context) ([]Account, error) {
	return queryAll(ctx, db.r, scanAccount, "SELECT "+accountCols+" FROM accounts ORDER BY name")
}

// Account finds one account by name.
func (db *DB) Account(ctx context.Context, name string) (Account, error) {
	a, err := scanAccount(db.r.QueryRowContext(ctx, "SELECT "+accountCols+" FROM accounts WHERE name=?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return a, api.Describe(ErrNotFound, fmt.Sprintf("没有名为「%s」的账号。", name), fmt.Sprintf("There is no account named %q.", name))
	}
	return a, err
}

// Setting reads a key; ok is false when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = db.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key=?", key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// SetSetting writes a key.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value=excluded.value`, key, value)
	return err
}

// LoadToken returns the cached token for key, or the zero Token (api.TokenStore).
func (db *DB) LoadToken(ctx context.Context, key string) (api.Token, error) {
	var t api.Token
	var exp int64
	err := db.r.QueryRowContext(ctx, "SELECT value, expires_at FROM tokens WHERE key=?", key).Scan(&t.Value, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return api.Token{}, nil
	}
	if err != nil {
		return api.Token{}, err
	}
	t.ExpiresAt = time.Unix(exp, 0)
	return t, nil
}

// SaveToken caches a token so the next run and other processes reuse it.
func (db *DB) SaveToken(ctx context.Context, key string, t api.Token) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO tokens(key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value=excluded.value, expires_at=excluded.expires_at`, key, t.Value, t.ExpiresAt.Unix())
	return err
}

// DeleteToken forgets a cached token.
func (db *DB) DeleteToken(ctx context.Context, key string) error {
	_, err := db.w.ExecContext(ctx, "DELETE FROM tokens WHERE key=?", key)
	return err
}
