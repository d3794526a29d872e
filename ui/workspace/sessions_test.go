package workspace

import (
	"context"
	"strings"
	"testing"

	"kfdesk/api"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

const (
	mei = "xiaomei@teashop" // sample: bound, online, serving 4 customers
	jie = "ajie@teashop"    // sample: bound, offline
)

// sessionsWorkspace: an account on the sample fake (2 customers waiting).
func sessionsWorkspace(t *testing.T) (*Workspace, storage.Account, *wechattest.Server) {
	t.Helper()
	ws := openTemp(t)
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s", WeChatID: "teashop", Sample: true})
	t.Cleanup(srv.Close)
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA, AppID: "wx0123456789abcdef", APIBase: srv.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	return ws, a, srv
}

// servedBy maps each served customer to their KF account.
func servedBy(t *testing.T, ws *Workspace, a storage.Account) map[string]string {
	t.Helper()
	list, err := ws.Sessions(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range list {
		for _, s := range k.Sessions {
			out[s.OpenID] = k.KF.Account
		}
	}
	return out
}

func TestSessionsListEveryKFAccountAskingOnlyBoundOnes(t *testing.T) {
	ws, a, srv := sessionsWorkspace(t)
	list, err := ws.Sessions(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 || list[0].KF.Account != mei || len(list[0].Sessions) != 4 || list[1].KF.Account != jie || len(list[1].Sessions) != 0 {
		t.Fatalf("sessions %+v", list)
	}
	// The two accounts without a worker (invitation waiting / expired) would answer 65402.
	if n := len(srv.Requests("/customservice/kfsession/getsessionlist")); n != 2 {
		t.Fatalf("%d getsessionlist calls, want 2", n)
	}
}

func TestTakeAndCloseThroughTheWorkspace(t *testing.T) {
	ws, a, _ := sessionsWorkspace(t)
	ctx := context.Background()
	w, err := ws.WaitingCustomers(ctx, a)
	if err != nil || w.Count != 2 {
		t.Fatalf("waiting %+v %v", w, err)
	}
	first := w.List[0].OpenID
	if err := ws.TakeCustomer(ctx, a, mei, first); err != nil {
		t.Fatal(err)
	}
	if servedBy(t, ws, a)[first] != mei {
		t.Fatal("not taken")
	}
	if err := ws.CloseSession(ctx, a, mei, first); err != nil {
		t.Fatal(err)
	}
	if _, ok := servedBy(t, ws, a)[first]; ok {
		t.Fatal("not closed")
	}
}

func TestTransferSession(t *testing.T) {
	ws, a, srv := sessionsWorkspace(t)
	ctx := context.Background()
	var cust string
	for c := range servedBy(t, ws, a) {
		cust = c
		break
	}
	// To an offline account: WeChat refuses the create and nothing was closed.
	err := ws.TransferSession(ctx, a, "", jie, cust)
	if !api.IsCode(err, 65415) || len(srv.Requests("/customservice/kfsession/close")) != 0 || servedBy(t, ws, a)[cust] != mei {
		t.Fatalf("to an offline account: %v", err)
	}
	srv.SetKFStatus(jie, 1)
	if err := ws.TransferSession(ctx, a, "", jie, cust); err != nil {
		t.Fatal(err)
	}
	if got := servedBy(t, ws, a)[cust]; got != jie {
		t.Fatalf("served by %q after the transfer", got)
	}
	// The create after the close fails: the customer goes back to jie, and the error says so.
	srv.FailNth("/customservice/kfsession/create", 2, wechattest.Errcode(65415, ""))
	err = ws.TransferSession(ctx, a, jie, mei, cust)
	if !api.IsCode(err, 65415) || !strings.Contains(err.Error(), "客户仍由 "+jie+" 接待") || !strings.Contains(err.Error(), "mpkf.weixin.qq.com") {
		t.Fatalf("failed transfer: %v", err)
	}
	if got := servedBy(t, ws, a)[cust]; got != jie {
		t.Fatalf("served by %q after a failed transfer, want %s back", got, jie)
	}
}
