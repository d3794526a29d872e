package cli

import "fmt"

func init() {
	register("serve forget-unfollowers", "serve forget-unfollowers on|off [--account NAME]   (delete a customer's pushes, chat records,\n"+
		"        notes and sends when they unfollow, as WeChat asks of developers: 开发者收到用户取消关注事件时需要删除该用户的所有信息;\n"+
		"        off by default)", serveForget)
}

func serveForget(e *Env, args []string) error {
	pos, err := parse(flags("serve forget-unfollowers"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "on" && pos[0] != "off" {
		return fmt.Errorf("%w: serve forget-unfollowers on|off", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	if err := e.WS.SetForgetUnfollowers(e.Ctx, a, pos[0] == "on"); err != nil {
		return err
	}
	if pos[0] == "on" {
		fmt.Fprintf(e.Stderr, "%s: a customer who unfollows is deleted from this server's data (pushes, chat records, notes, sends) / 客户取消关注后，其数据将被删除\n", a.Name)
	} else {
		fmt.Fprintf(e.Stderr, "%s: data of customers who unfollow is kept / 客户取消关注后保留其数据\n", a.Name)
	}
	return nil
}
