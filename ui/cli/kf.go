package cli

import (
	"bufio"
	"fmt"
	"io"
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
		s += " until " + workspace.FormatTime(time.Unix(k.InviteExpireTime, 0), "2006-01-02 15:04")
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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
	a, account, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := e.WS.AddKF(e.Ctx, a, account, *nick); err != nil {
		return err
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
	a, account, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := e.WS.UpdateKF(e.Ctx, a, account, *nick); err != nil {
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
	a, account, err := e.kfTarget(pos[0])
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
	if err := e.WS.DeleteKF(e.Ctx, a, account); err != nil {
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
	a, account, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	if err := e.WS.InviteKF(e.Ctx, a, account, *wx); err != nil {
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
	a, account, err := e.kfTarget(pos[0])
	if err != nil {
		return err
	}
	n, err := e.WS.SetKFAvatar(e.Ctx, a, account, data)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "avatar of %s set (%d×%d JPG, %d KB)\n", account, kfavatar.Size, kfavatar.Size, (n+1023)/1024)
	return nil
}

// kfTarget resolves the account and the full KF account named by input (a bare
// prefix is completed with the OA's WeChat ID: workspace.ResolveKF).
func (e *Env) kfTarget(input string) (a storage.Account, account string, err error) {
	if a, err = e.account(); err != nil {
		return
	}
	account, _, err = e.WS.ResolveKF(e.Ctx, a, input)
	return
}
