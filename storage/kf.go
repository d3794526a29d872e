package storage

import (
	"context"
	"database/sql"
	"errors"
)

// OAWeChatID is the account's Official Account WeChat ID as remembered ("" if never learnt).
func (db *DB) OAWeChatID(ctx context.Context, accountID int64) (string, error) {
	var id string
	err := db.r.QueryRowContext(ctx, "SELECT oa_wechat_id FROM kf_settings WHERE account_id=?", accountID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// SetOAWeChatID remembers the account's Official Account WeChat ID.
func (db *DB) SetOAWeChatID(ctx context.Context, accountID int64, id string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO kf_settings(account_id, oa_wechat_id) VALUES (?, ?)
		ON CONFLICT(account_id) DO UPDATE SET oa_wechat_id=excluded.oa_wechat_id`, accountID, id)
	return err
}
