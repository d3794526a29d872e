package cli

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"kfdesk/api"
	"kfdesk/api/kfavatar"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("kf list", "kf list                  (KF accounts; --json: one object per line, API field names)", kfList)
	register("kf add", "kf add ACCOUNT --nickname NICK   (ACCOUNT is prefix@OA-WeChat-ID, or just the prefix once it is known)", kfAdd)
	register("kf update", "kf update ACCOUNT --nickname NICK", kfUpdate)
	register("kf delete", "kf delete ACCOUNT [--yes]", kfDelete)
	register("kf invite", "kf invite ACCOUNT --wx WECHAT_ID   (the worker accepts in WeChat within 7 days)", kfInvite)
	register("kf avatar", "kf avatar ACCOUNT FILE   (any JPG/PNG/GIF/BMP/WebP; sent as a 640×640 JPG)", kfAvatar)
}

func kfList(e *Env, args []string) error {
	if _, err := parse(flags("kf list"), args); err != nil {
		return err
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	list, _, err := e.WS.KFAccounts(e.Ctx, a)
	if err != nil {
		return err
	}
	if e.G.JSON {
		for _, k := range list {
			if err := e.printJSON(k); err != nil {
				return err
			}
		}
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(e.Stderr, "no KF accounts yet: `kfdesk kf add prefix@OA-WeChat-ID --nickname NICK`")
		return nil
	}
	t := newTable(e.Stdout)
	fmt.Fprintln(t, "ACCOUNT\tNICKNAME\tWECHAT ID\tINVITATION\tSTATUS")
	for _, k := range list {
		status := "offline"
		if k.Online() {
			status = fmt.Sprintf("online (%d chats)", k.AcceptedCase)
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", k.Account, k.Nick, dash(k.WX), invitation(k), status)
	}
	return t.Flush()
}

func invitation(k api.KFAccount) string {
	if k.InviteStatus == "" {
		return "-"
	}
	s := k.InviteStatus + " " + k.InviteWX
	if k.InviteStatus == api.InviteWaiting && k.InviteExpireTime > 0 {
		s += " until " + time.Unix(k.InviteExpireTime, 0).Format("2006-01-02 15:04")
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// resolveKF completes a bare prefix with the OA's WeChat ID: the remembered one, or
// learnt from the KF list. It returns that ID too ("" if still unknown).
func resolveKF(e *Env, a storage.Account, input string) (string, string, error) {
	oaID, err := e.WS.OAWeChatID(e.Ctx, a)
	if err != nil {
		return "", "", err
	}
	if oaID == "" {
		if _, oaID, err = e.WS.KFAccounts(e.Ctx, a); err != nil {
			return "", "", err
		}
	}
	account := workspace.FullKFAccount(input, oaID)
	if !strings.Contains(account, "@") {
		return "", "", fmt.Errorf("%w: the Official Account's WeChat ID is not known yet; give the full account, prefix@OA-WeChat-ID", ErrUsage)
	}
	return account, oaID, nil
}

func kfAdd(e *Env, args []string) error {
	fs := flags("kf add")
	nick := fs.String("nickname", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *nick == "" {
		return fmt.Errorf("%w: kf add ACCOUNT --nickname NICK", ErrUsage)
	}
	a, c, account, oaID, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := api.CheckKFAccount(account, oaID); err != nil {
		return err
	}
	if err := c.AddKF(e.Ctx, account, *nick); err != nil {
		return err
	}
	if oaID == "" { // WeChat accepted the suffix: it is the OA's WeChat ID
		if err := e.WS.SetOAWeChatID(e.Ctx, a, api.KFSuffix(account)); err != nil {
			slog.Warn("could not save the Official Account's WeChat ID", "err", err)
		}
	}
	fmt.Fprintf(e.Stderr, "added KF account %s (%s); invite a worker with `kfdesk kf invite %s --wx WECHAT_ID`\n", account, *nick, account)
	return nil
}

func kfUpdate(e *Env, args []string) error {
	fs := flags("kf update")
	nick := fs.String("nickname", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *nick == "" {
		return fmt.Errorf("%w: kf update ACCOUNT --nickname NICK", ErrUsage)
	}
	_, c, account, _, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := c.UpdateKF(e.Ctx, account, *nick); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "nickname of %s is now %s\n", account, *nick)
	return nil
}

func kfDelete(e *Env, args []string) error {
	fs := flags("kf delete")
	yes := fs.Bool("yes", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: kf delete ACCOUNT [--yes]", ErrUsage)
	}
	_, c, account, _, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	// On a terminal, ask; scripts (no terminal) and --yes go ahead.
	if f, ok := e.Stdin.(*os.File); ok && !*yes && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.Stderr, "delete KF account %s on WeChat? Its worker loses access. [y/N] ", account)
		if !confirmed(e.Stdin) {
			fmt.Fprintln(e.Stderr, "not deleted")
			return nil
		}
	}
	if err := c.DeleteKF(e.Ctx, account); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "deleted KF account %s\n", account)
	return nil
}

func confirmed(r io.Reader) bool {
	line, _ := bufio.NewReader(r).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "是":
		return true
	}
	return false
}

func kfInvite(e *Env, args []string) error {
	fs := flags("kf invite")
	wx := fs.String("wx", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *wx == "" {
		return fmt.Errorf("%w: kf invite ACCOUNT --wx WECHAT_ID", ErrUsage)
	}
	_, c, account, _, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := c.InviteKFWorker(e.Ctx, account, *wx); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "invited %s to %s; they must accept in WeChat within 7 days\n", *wx, account)
	return nil
}

func kfAvatar(e *Env, args []string) error {
	pos, err := parse(flags("kf avatar"), args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: kf avatar ACCOUNT FILE", ErrUsage)
	}
	file, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	data, err := kfavatar.Read(file)
	file.Close()
	if err != nil {
		return err
	}
	jpg, err := kfavatar.Prepare(data)
	if err != nil {
		return err
	}
	_, c, account, _, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := c.UploadKFAvatar(e.Ctx, account, jpg); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "avatar of %s set (%d×%d JPG, %d KB)\n", account, kfavatar.Size, kfavatar.Size, (len(jpg)+1023)/1024)
	return nil
}

// kfTarget resolves the account, its client and the full KF account named by input
// (a bare prefix is completed with the OA's WeChat ID, also returned).
func (e *Env) kfTarget(input string) (a storage.Account, c *api.Client, account, oaID string, err error) {
	if a, err = e.account(); err != nil {
		return
	}
	if c, err = e.WS.Client(e.Ctx, a); err != nil {
		return
	}
	account, oaID, err = resolveKF(e, a, input)
	return
}
