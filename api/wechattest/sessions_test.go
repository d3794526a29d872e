package wechattest_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// onlineKF adds prefix@teashop, binds a worker and signs them in.
func (e *env) onlineKF(prefix string) string {
	e.t.Helper()
	a := acct(prefix)
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": a, "nickname": prefix}).ok()
	e.apiPost("/customservice/kfaccount/inviteworker", obj{"kf_account": a, "invite_wx": "worker_" + prefix + "1"}).ok()
	e.srv.AcceptInvite(a)
	e.srv.SetKFStatus(a, 1)
	return a
}

func (e *env) createSession(kf, openid string) result {
	return e.apiPost("/customservice/kfsession/create", obj{"kf_account": kf, "openid": openid})
}

// "如果该客服和用户会话已存在，则直接返回0": a second create changes nothing.
func TestSessionCreateAgainKeepsTheSession(t *testing.T) {
	e := newEnv(t)
	e.srv.AddFollower(alice)
	a := e.onlineKF("a")
	e.createSession(a, alice).ok()
	e.advance(time.Hour)
	e.createSession(a, alice).ok()
	r := e.apiGet("/customservice/kfsession/getsession", url.Values{"openid": {alice}})
	if want := fmt.Sprintf(`{"createtime":%d,"kf_account":"%s"}`, t0.Unix(), a); string(r.raw) != want {
		t.Fatalf("got %s, want %s", r.raw, want)
	}
}

// close documents 40003 for an openid that is not a follower of the account.
func TestSessionCloseUnknownOpenID(t *testing.T) {
	e := newEnv(t)
	a := e.onlineKF("a")
	e.apiPost("/customservice/kfsession/close", obj{"kf_account": a, "openid": "oNobody"}).is(40003)
}

// getsessionlist documents 65402 for an account without a worker.
func TestSessionListOfAnUnboundAccount(t *testing.T) {
	e := newEnv(t)
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("a"), "nickname": "a"}).ok()
	e.apiGet("/customservice/kfsession/getsessionlist", url.Values{"kf_account": {acct("a")}}).is(65402)
}

// The waiting list is "按照来访顺序" and latest_time is the customer's last message:
// writing again while waiting moves latest_time, not the place in the queue.
func TestWaitCasesKeepArrivalOrder(t *testing.T) {
	e := newEnv(t)
	e.srv.AddWaitCase(alice, t0.Add(-2*time.Minute))
	e.srv.AddWaitCase(bob, t0.Add(-time.Minute))
	e.srv.UserMessage(alice, t0)
	want := fmt.Sprintf(`{"count":2,"waitcaselist":[{"latest_time":%d,"openid":"%s"},{"latest_time":%d,"openid":"%s"}]}`,
		t0.Unix(), alice, t0.Unix()-60, bob)
	if r := e.apiGet("/customservice/kfsession/getwaitcase", nil); string(r.raw) != want {
		t.Fatalf("after alice wrote again:\n got %s\nwant %s", r.raw, want)
	}
	e.srv.AddWaitCase(alice, t0.Add(time.Second)) // transferred again (transfer_customer_service)
	if r := e.apiGet("/customservice/kfsession/getwaitcase", nil); r.list("waitcaselist")[0].(map[string]any)["openid"] != alice {
		t.Fatalf("alice lost her place: %s", r.raw)
	}
}

// count is every waiting customer; the list holds the first 100.
func TestWaitCasesListAtMost100(t *testing.T) {
	e := newEnv(t)
	for i := range 150 {
		e.srv.AddWaitCase(fmt.Sprintf("oWaiting%020d", i), t0.Add(time.Duration(i)*time.Second))
	}
	r := e.apiGet("/customservice/kfsession/getwaitcase", nil)
	l := r.list("waitcaselist")
	if r.num("count") != 150 || len(l) != 100 || l[0].(map[string]any)["openid"] != fmt.Sprintf("oWaiting%020d", 0) {
		t.Fatalf("count %v, %d listed, first %v", r.m["count"], len(l), l[0])
	}
}

// create "不会受客服自动接入数以及自动接入开关限制": no cap on one account's sessions.
func TestSessionCreateHasNoAcceptLimit(t *testing.T) {
	e := newEnv(t)
	a := e.onlineKF("a")
	for i := range 30 {
		u := fmt.Sprintf("oServed%021d", i)
		e.srv.AddFollower(u)
		e.createSession(a, u).ok()
	}
	r := e.apiGet("/customservice/kfsession/getsessionlist", url.Values{"kf_account": {a}})
	if n := len(r.list("sessionlist")); n != 30 {
		t.Fatalf("%d sessions", n)
	}
}
