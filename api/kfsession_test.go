package api

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	custA = "oCustomerAAAAAAAAAAAAAAAAAAA"
	custB = "oCustomerBBBBBBBBBBBBBBBBBBB"
)

// sessionSetup: a fake with two bound KF accounts (mei online, jie offline) and two
// followers waiting, B longer than A.
func sessionSetup(t *testing.T) (*Client, *fixture) {
	t.Helper()
	c, f := setup(t)
	ctx := context.Background()
	for _, k := range []struct{ account, wx string }{{"mei@teashop", "mei_worker"}, {"jie@teashop", "jie_worker"}} {
		if err := c.AddKF(ctx, k.account, "客服"); err != nil {
			t.Fatal(err)
		}
		if err := c.InviteKFWorker(ctx, k.account, k.wx); err != nil {
			t.Fatal(err)
		}
		f.srv.AcceptInvite(k.account)
	}
	f.srv.SetKFStatus("mei@teashop", 1)
	now := f.clock.Now()
	for _, w := range []struct {
		openid string
		at     time.Time
	}{{custB, now.Add(-5 * time.Minute)}, {custA, now.Add(-time.Minute)}} {
		f.srv.AddFollower(w.openid)
		f.srv.AddWaitCase(w.openid, w.at)
	}
	return c, f
}

func TestSessionsTakeListClose(t *testing.T) {
	c, f := sessionSetup(t)
	ctx := context.Background()
	now := f.clock.Now()
	w, err := c.WaitCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w.Count != 2 || len(w.List) != 2 || w.List[0] != (WaitCase{custB, now.Add(-5 * time.Minute).Unix()}) || w.List[1].OpenID != custA {
		t.Fatalf("wait cases %+v", w)
	}
	if err := c.CreateSession(ctx, "mei@teashop", custB); err != nil {
		t.Fatal(err)
	}
	if got := string(f.srv.Requests(sessionCreatePath)[0].Body); got != `{"kf_account":"mei@teashop","openid":"`+custB+`"}` {
		t.Fatalf("create body %s", got)
	}
	list, err := c.SessionList(ctx, "mei@teashop")
	if err != nil || len(list) != 1 || list[0] != (Session{"mei@teashop", custB, now.Unix()}) {
		t.Fatalf("session list %+v %v", list, err)
	}
	if w, _ := c.WaitCases(ctx); w.Count != 1 || w.List[0].OpenID != custA {
		t.Fatalf("taken customer still waits: %+v", w)
	}
	s, err := c.GetSession(ctx, custB)
	if err != nil || s != (Session{"mei@teashop", custB, now.Unix()}) {
		t.Fatalf("get session %+v %v", s, err)
	}
	if s, err := c.GetSession(ctx, custA); err != nil || s.KFAccount != "" {
		t.Fatalf("waiting customer's session %+v %v", s, err)
	}
	if err := c.CloseSession(ctx, "mei@teashop", custB); err != nil {
		t.Fatal(err)
	}
	if list, err := c.SessionList(ctx, "mei@teashop"); err != nil || len(list) != 0 {
		t.Fatalf("after close %+v %v", list, err)
	}
}

func TestSessionErrorsAreExplained(t *testing.T) {
	c, _ := sessionSetup(t)
	ctx := context.Background()
	if err := c.CreateSession(ctx, "mei@teashop", custA); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		code   int
		zh, en string
		err    error
	}{
		{65413, "没有客服会话", "no open customer-service session", c.CloseSession(ctx, "mei@teashop", custB)},
		{65414, "其他客服接待", "served by another KF account", c.CloseSession(ctx, "jie@teashop", custA)},
		{65415, "mpkf.weixin.qq.com", "客服小助手", c.CreateSession(ctx, "jie@teashop", custB)},
		{65401, "不存在", "does not exist", c.CreateSession(ctx, "nobody@teashop", custB)},
	}
	for _, tc := range cases {
		var e *Error
		if !errors.As(tc.err, &e) || e.Code != tc.code {
			t.Fatalf("want %d, got %v", tc.code, tc.err)
		}
		if !strings.Contains(e.ZH(), tc.zh) || !strings.Contains(e.EN(), tc.en) {
			t.Errorf("%d explained as %q / %q", tc.code, e.ZH(), e.EN())
		}
	}
}

func TestSessionArgumentsAreCheckedBeforeSending(t *testing.T) {
	c, f := sessionSetup(t)
	ctx := context.Background()
	var in *InputError
	for _, err := range []error{
		c.CreateSession(ctx, "", custA),
		c.CreateSession(ctx, "mei@teashop", "not an openid"),
		c.CloseSession(ctx, "mei@teashop", ""),
	} {
		if !errors.As(err, &in) {
			t.Errorf("want an input error, got %v", err)
		}
	}
	if _, err := c.GetSession(ctx, " "+custA); !errors.As(err, &in) || in.Field != "openid" {
		t.Errorf("GetSession: %v", err)
	}
	if _, err := c.SessionList(ctx, ""); !errors.As(err, &in) {
		t.Errorf("SessionList: %v", err)
	}
	if n := len(f.srv.Requests(sessionCreatePath)) + len(f.srv.Requests(sessionClosePath)); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
