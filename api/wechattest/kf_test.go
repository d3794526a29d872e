package wechattest_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

func jpegBytes(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func acct(prefix string) string { return prefix + "@" + weChatID }

func (e *env) kfList() []map[string]any {
	e.t.Helper()
	r := e.apiGet("/cgi-bin/customservice/getkflist", nil)
	r.noErr()
	var out []map[string]any
	for _, it := range r.list("kf_list") {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestKFAccountAddUpdateDel(t *testing.T) {
	e := newEnv(t)
	add := func(account, nick string) result {
		return e.apiPost("/customservice/kfaccount/add", obj{"kf_account": account, "nickname": nick, "password": "ignored"})
	}
	add(acct("xiaomei"), "小美").ok()
	add(acct("A_b9"), strings.Repeat("茶", 16)).ok()
	cases := []struct {
		name, account, nick string
		code                int
	}{
		{"exists", acct("xiaomei"), "又一个", 65406},
		{"prefix too long", acct("abcdefghijk"), "n", 65404},
		{"prefix bad char", acct("xiao-mei"), "n", 65404},
		{"prefix empty", acct(""), "n", 65404},
		{"wrong suffix", "xiaomei2@otheroa", "n", 65404},
		{"no suffix", "xiaomei2", "n", 65404},
		{"nickname empty", acct("n1"), "", 65403},
		{"nickname 17 chars", acct("n2"), strings.Repeat("茶", 17), 65403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			add(tc.account, tc.nick).is(tc.code)
		})
	}
	e.t = t
	e.apiPost("/customservice/kfaccount/add", "{bad").is(47001)
	e.apiPost("/customservice/kfaccount/add", "").is(44002)

	list := e.kfList()
	if len(list) != 2 || list[0]["kf_account"] != acct("xiaomei") || list[0]["kf_nick"] != "小美" ||
		list[0]["kf_id"] != "1001" || list[1]["kf_id"] != "1002" {
		t.Fatalf("kf_list %v", list)
	}
	if _, has := list[0]["kf_wx"]; has {
		t.Fatal("an unbound account must not report kf_wx")
	}

	upd := func(account, nick string) result {
		return e.apiPost("/customservice/kfaccount/update", obj{"kf_account": account, "nickname": nick})
	}
	upd(acct("xiaomei"), "美美").ok()
	upd(acct("ghost"), "x").is(65401)
	upd(acct("xiaomei"), "").is(65403)
	upd("bad account", "x").is(65404)
	if e.kfList()[0]["kf_nick"] != "美美" {
		t.Fatal("update not applied")
	}

	// del: the current POST JSON form and the old GET query form both work.
	e.apiPost("/customservice/kfaccount/del", obj{"kf_account": acct("xiaomei")}).ok()
	e.apiGet("/customservice/kfaccount/del", url.Values{"kf_account": {acct("A_b9")}}).ok()
	e.apiGet("/customservice/kfaccount/del", url.Values{"kf_account": {acct("A_b9")}}).is(65401)
	e.apiPost("/customservice/kfaccount/del", obj{"kf_account": acct("ghost")}).is(65401)
	e.apiPost("/customservice/kfaccount/del", "{").is(47001)
	add(acct("q"), "q").ok()
	e.post("/customservice/kfaccount/del", e.authed(url.Values{"kf_account": {acct("q")}}), "").ok() // POST + query
	if n := len(e.kfList()); n != 0 {
		t.Fatalf("%d accounts left", n)
	}
	// kf_id keeps counting after deletes.
	add(acct("new"), "新").ok()
	if id := e.kfList()[0]["kf_id"]; id != "1004" {
		t.Fatalf("kf_id %v", id)
	}
}

func TestKFAccountLimits(t *testing.T) {
	e := newEnv(t)
	for i := range 100 {
		e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct(fmt.Sprintf("kf%d", i)), "nickname": "客服"}).ok()
	}
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("kf100"), "nickname": "客服"}).is(65405)

	e.srv.SetWeChatID("")
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": "a@", "nickname": "n"}).is(65402)
}

func TestKFHeadImg(t *testing.T) {
	e := newEnv(t)
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("mei"), "nickname": "小美"}).ok()
	q := url.Values{"kf_account": {acct("mei")}}
	pic := jpegBytes(t, 64)
	e.upload("/customservice/kfaccount/uploadheadimg", q, "media", "AVATAR.JPG", pic).ok()
	head, _ := e.kfList()[0]["kf_headimgurl"].(string)
	if !strings.HasPrefix(head, e.srv.URL+"/") {
		t.Fatalf("kf_headimgurl %q", head)
	}
	resp, err := http.Get(head)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(got, pic) {
		t.Fatalf("served avatar: %s, %d bytes", resp.Header.Get("Content-Type"), len(got))
	}
	if k := e.srv.KFAccounts()[0]; k.HeadImgURL != head {
		t.Fatalf("KFAccounts HeadImgURL %q", k.HeadImgURL)
	}
	reqs := e.srv.Requests("/customservice/kfaccount/uploadheadimg")
	if f := reqs[0].Files["media"]; f.Filename != "AVATAR.JPG" || !bytes.Equal(f.Data, pic) {
		t.Fatalf("logged file %q (%d bytes)", f.Filename, len(f.Data))
	}

	e.upload("/customservice/kfaccount/uploadheadimg", q, "media", "a.png", pngBytes(t)).is(61457)
	e.upload("/customservice/kfaccount/uploadheadimg", q, "media", "a.jpg", pic[:len(pic)/2]).is(61457) // truncated
	e.upload("/customservice/kfaccount/uploadheadimg", q, "file", "a.jpg", pic).is(41005)
	big := append(append([]byte{}, pic...), make([]byte, 5<<20)...)
	e.upload("/customservice/kfaccount/uploadheadimg", q, "media", "a.jpg", big).is(40006)
	e.upload("/customservice/kfaccount/uploadheadimg", url.Values{"kf_account": {acct("ghost")}}, "media", "a.jpg", pic).is(65401)
	e.apiPost("/customservice/kfaccount/uploadheadimg", "").is(65401)
}

func TestKFInviteWorker(t *testing.T) {
	e := newEnv(t)
	s := e.srv
	for _, p := range []string{"a", "b", "c"} {
		e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct(p), "nickname": p}).ok()
	}
	invite := func(account, wx string) result {
		return e.apiPost("/customservice/kfaccount/inviteworker", obj{"kf_account": account, "invite_wx": wx})
	}
	invite(acct("a"), "worker_01").ok()
	l := e.kfList()[0]
	if l["invite_wx"] != "worker_01" || l["invite_status"] != "waiting" || l["invite_expire_time"] != float64(t0.Add(7*24*time.Hour).Unix()) {
		t.Fatalf("after invite: %v", l)
	}
	invite(acct("ghost"), "worker_02").is(65401)
	invite(acct("b"), "1abc").is(65409)
	invite(acct("b"), "").is(65409)
	invite(acct("a"), "worker_02").is(65411) // a has a pending invitation
	invite(acct("b"), "worker_01").is(65408) // worker_01 already invited

	if !s.AcceptInvite(acct("a")) {
		t.Fatal("AcceptInvite")
	}
	l = e.kfList()[0]
	if l["kf_wx"] != "worker_01" || l["invite_status"] != nil {
		t.Fatalf("after accept: %v", l)
	}
	invite(acct("a"), "worker_03").is(65412) // a is bound
	invite(acct("b"), "worker_01").is(65407) // worker_01 serves a

	s.MarkWorkerFull("busy_worker")
	invite(acct("b"), "busy_worker").is(65410)

	invite(acct("b"), "worker_04").ok()
	s.RejectInvite(acct("b"))
	if st := e.kfList()[1]["invite_status"]; st != "rejected" {
		t.Fatalf("status %v", st)
	}
	invite(acct("c"), "worker_05").ok()
	e.advance(7 * 24 * time.Hour)
	if st := e.kfList()[2]["invite_status"]; st != "expired" {
		t.Fatalf("status %v", st)
	}
	invite(acct("c"), "worker_05").ok() // an expired invitation can be renewed
	if s.AcceptInvite(acct("b")) {
		t.Fatal("a rejected invitation cannot be accepted")
	}
}

func TestKFOnlineList(t *testing.T) {
	e := newEnv(t)
	s := e.srv
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("a"), "nickname": "a"}).ok()
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("b"), "nickname": "b"}).ok()
	r := e.apiGet("/cgi-bin/customservice/getonlinekflist", nil)
	if string(r.raw) != `{"kf_online_list":[]}` {
		t.Fatalf("nobody online: %s", r.raw)
	}
	s.SetKFStatus(acct("b"), 1)
	s.AddFollower(alice)
	e.apiPost("/customservice/kfaccount/inviteworker", obj{"kf_account": acct("b"), "invite_wx": "worker_b1"}).ok()
	s.AcceptInvite(acct("b"))
	e.apiPost("/customservice/kfsession/create", obj{"kf_account": acct("b"), "openid": alice}).ok()
	r = e.apiGet("/cgi-bin/customservice/getonlinekflist", nil)
	want := `{"kf_online_list":[{"kf_account":"b@teashop","status":1,"kf_id":1002,"accepted_case":1}]}`
	if string(r.raw) != want {
		t.Fatalf("got %s\nwant %s", r.raw, want)
	}
}

func TestKFSessions(t *testing.T) {
	e := newEnv(t)
	s := e.srv
	s.AddFollower(alice)
	s.AddFollower(bob)
	for _, p := range []string{"a", "b"} {
		e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct(p), "nickname": p}).ok()
	}
	create := func(kf, openid string) result {
		return e.apiPost("/customservice/kfsession/create", obj{"kf_account": kf, "openid": openid})
	}
	closeS := func(kf, openid string) result {
		return e.apiPost("/customservice/kfsession/close", obj{"kf_account": kf, "openid": openid})
	}
	create(acct("ghost"), alice).is(65401)
	create(acct("a"), alice).is(65402) // not bound to a worker
	e.apiPost("/customservice/kfaccount/inviteworker", obj{"kf_account": acct("a"), "invite_wx": "worker_a1"}).ok()
	s.AcceptInvite(acct("a"))
	create(acct("a"), alice).is(65415) // offline
	s.SetKFStatus(acct("a"), 1)
	create(acct("a"), "oNobody").is(40003)
	s.AddWaitCase(alice, t0.Add(-time.Minute))
	s.AddWaitCase(bob, t0.Add(-2*time.Minute))
	r := e.apiGet("/customservice/kfsession/getwaitcase", nil)
	want := fmt.Sprintf(`{"count":2,"waitcaselist":[{"latest_time":%d,"openid":"%s"},{"latest_time":%d,"openid":"%s"}]}`,
		t0.Unix()-120, bob, t0.Unix()-60, alice)
	if string(r.raw) != want {
		t.Fatalf("waitcase %s", r.raw)
	}
	create(acct("a"), alice).ok()
	if r := e.apiGet("/customservice/kfsession/getwaitcase", nil); r.num("count") != 1 {
		t.Fatalf("accepted user still waiting: %s", r.raw)
	}
	r = e.apiGet("/customservice/kfsession/getsession", url.Values{"openid": {alice}})
	if string(r.raw) != fmt.Sprintf(`{"createtime":%d,"kf_account":"a@teashop"}`, t0.Unix()) {
		t.Fatalf("getsession %s", r.raw)
	}
	if r := e.apiGet("/customservice/kfsession/getsession", url.Values{"openid": {bob}}); string(r.raw) != `{"createtime":0,"kf_account":""}` {
		t.Fatalf("no session %s", r.raw)
	}
	e.apiGet("/customservice/kfsession/getsession", url.Values{"openid": {"oNobody"}}).is(40003)
	r = e.apiGet("/customservice/kfsession/getsessionlist", url.Values{"kf_account": {acct("a")}})
	if string(r.raw) != fmt.Sprintf(`{"sessionlist":[{"createtime":%d,"openid":"%s"}]}`, t0.Unix(), alice) {
		t.Fatalf("sessionlist %s", r.raw)
	}
	e.apiGet("/customservice/kfsession/getsessionlist", url.Values{"kf_account": {acct("ghost")}}).is(65401)

	// b (bound, online) cannot take a's customer, nor close a's session.
	e.apiPost("/customservice/kfaccount/inviteworker", obj{"kf_account": acct("b"), "invite_wx": "worker_b1"}).ok()
	s.AcceptInvite(acct("b"))
	s.SetKFStatus(acct("b"), 1)
	create(acct("b"), alice).is(65414)
	closeS(acct("b"), alice).is(65414)
	closeS(acct("a"), bob).is(65413)
	closeS(acct("ghost"), alice).is(65401)
	closeS(acct("a"), alice).ok()
	closeS(acct("a"), alice).is(65413)
}

func TestKFFeatureSwitch(t *testing.T) {
	e := newEnv(t)
	e.srv.SetKFEnabled(false)
	e.srv.UserMessage(alice, time.Time{})
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("a"), "nickname": "a"}).is(65400)
	e.apiGet("/cgi-bin/customservice/getkflist", nil).is(65400)
	e.apiGet("/cgi-bin/customservice/getonlinekflist", nil).is(65400)
	e.apiGet("/customservice/kfsession/getwaitcase", nil).is(65400)
	e.apiPost("/customservice/msgrecord/getmsglist", obj{"starttime": 1, "endtime": 2, "msgid": 1, "number": 1}).is(65400)
	e.send(text(alice, "plain custom messages still work")).ok()
	e.srv.SetKFEnabled(true)
	e.apiGet("/cgi-bin/customservice/getkflist", nil).noErr()
}

func TestKFAccountsHelper(t *testing.T) {
	e := newEnv(t)
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("a"), "nickname": "小A"}).ok()
	ks := e.srv.KFAccounts()
	want := wechattest.KFAccount{Account: acct("a"), Nick: "小A", ID: 1001}
	if len(ks) != 1 || ks[0] != want {
		t.Fatalf("KFAccounts %+v", ks)
	}
}
