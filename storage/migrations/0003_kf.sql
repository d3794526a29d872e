-- KF account manager (#4). The Official Account's WeChat ID is the "@suffix" of
-- every KF account, but no API returns it: it is learnt from existing KF accounts
-- or asked once, and kept here per account.
CREATE TABLE kf_settings (
	account_id   INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	oa_wechat_id TEXT    NOT NULL
);
