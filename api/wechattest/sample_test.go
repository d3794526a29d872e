package wechattest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"kfdesk/api/wechattest"
)

func sampleEnv(t *testing.T, seed int64) *env {
	return newEnv(t, func(c *wechattest.Config) { c.Sample = true; c.Seed = seed; c.WeChatID = "kfdesk_demo" })
}

func TestSampleDeterministic(t *testing.T) {
	a, b, c := sampleEnv(t, 20261123), sampleEnv(t, 20261123), sampleEnv(t, 1)
	if !reflect.DeepEqual(a.srv.Records(), b.srv.Records()) || !reflect.DeepEqual(a.srv.Followers(), b.srv.Followers()) {
		t.Fatal("the same seed and clock must give the same data")
	}
	if reflect.DeepEqual(a.srv.Followers(), c.srv.Followers()) {
		t.Fatal("another seed must give other openids")
	}
}

func TestSampleData(t *testing.T) {
	e := sampleEnv(t, 20261123)
	s := e.srv
	now := e.clock.Now().Unix()

	followers := s.Followers()
	if len(followers) != 38 { // 40, two of whom left
		t.Fatalf("%d followers", len(followers))
	}
	for _, id := range followers {
		if len(id) != 28 || !strings.HasPrefix(id, "oDemo") {
			t.Fatalf("openid %q", id)
		}
	}

	ks := s.KFAccounts()
	if len(ks) != 4 || ks[0].Account != "xiaomei@kfdesk_demo" || ks[0].Nick != "小美" || ks[0].Status != 1 || ks[0].WX == "" {
		t.Fatalf("KF accounts %+v", ks)
	}
	online, waiting, expired := 0, 0, 0
	for _, k := range ks {
		online += k.Status
		switch k.InviteStatus {
		case "waiting":
			waiting++
		case "expired":
			expired++
		}
	}
	if online != 1 || waiting != 1 || expired != 1 {
		t.Fatalf("online %d waiting %d expired %d", online, waiting, expired)
	}
	if !strings.HasPrefix(e.kfList()[0]["kf_headimgurl"].(string), s.URL+"/") {
		t.Fatal("sample avatar URL")
	}

	recs := s.Records()
	if len(recs) < 1500 {
		t.Fatalf("only %d records", len(recs))
	}
	first, last := recs[0].Time, recs[len(recs)-1].Time
	if now-first < 59*86400 || last > now || now-last > 3600 {
		t.Fatalf("records span %v .. %v before now", time.Duration(now-first)*time.Second, time.Duration(now-last)*time.Second)
	}
	ops := map[int]int{}
	var image, english, dupes int
	for i, r := range recs {
		ops[r.OperCode]++
		if !utf8.ValidString(r.Text) {
			t.Fatalf("invalid UTF-8 %q", r.Text)
		}
		if r.Text == "[image]" {
			image++
		}
		if strings.HasPrefix(r.Text, "Hi, ") {
			english++
		}
		if i > 0 && r == recs[i-1] && r.Text != "" {
			dupes++
		}
		if r.OperCode >= 2002 && r.Worker == "" && r.OperCode != 2003 {
			t.Fatalf("KF message without worker: %+v", r)
		}
	}
	for _, op := range []int{1000, 1001, 1002, 1004, 2002, 2003} {
		if ops[op] == 0 {
			t.Fatalf("no opercode %d in %v", op, ops)
		}
	}
	if image == 0 || english == 0 || dupes == 0 {
		t.Fatalf("image %d english %d identical %d", image, english, dupes)
	}
	workers := map[string]bool{}
	for _, r := range recs {
		if r.Worker != "" {
			workers[r.Worker] = true
		}
	}
	if len(workers) < 2 {
		t.Fatalf("workers %v", workers)
	}

	// Several users wrote within 48 h: the demo can send to them.
	open := 0
	for _, id := range followers {
		if s.RepliesLeft(id) > 0 {
			open++
		}
	}
	if open < 5 {
		t.Fatalf("%d followers with an open window", open)
	}
	// The most recent speaker can be answered, from the online KF account.
	var target string
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].OperCode == 2003 {
			target = recs[i].OpenID
			break
		}
	}
	m := text(target, "您好，小美为您服务 😊")
	m["customservice"] = obj{"kf_account": "xiaomei@kfdesk_demo"}
	e.send(m).ok()
	e.apiPost("/cgi-bin/message/custom/typing", obj{"touser": target, "command": "Typing"}).ok()
	// Unfollowed users keep their history but cannot be sent to.
	all := map[string]bool{}
	for _, r := range recs {
		all[r.OpenID] = true
	}
	for id := range all {
		if !contains(followers, id) {
			e.send(text(id, "hi")).is(43004)
		}
	}

	// The sample's history is served: yesterday (Beijing) in one or two pages, and
	// the send above shows up as a 2002 record (Config.Sample records sends).
	y := time.Date(2026, 11, 22, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).Unix()
	got, _ := e.pageAll(y, y+86399, 10000)
	if len(got) == 0 {
		t.Fatal("no records yesterday")
	}
	rs := s.Records()
	if l := rs[len(rs)-1]; l.OperCode != 2002 || l.Worker != "xiaomei@kfdesk_demo" || l.OpenID != target {
		t.Fatalf("send not recorded: %+v", l)
	}
	// A mini program is bound for data-miniprogram-appid links.
	e.send(text(target, `<a href="https://x" data-miniprogram-appid="`+wechattest.SampleMiniProgramAppID+`" data-miniprogram-path="pages/index/index">小程序</a>`)).ok()
	// Waiting users and an open session.
	if r := e.apiGet("/customservice/kfsession/getwaitcase", nil); r.num("count") < 1 {
		t.Fatalf("wait cases %s", r.raw)
	}
	if r := e.apiGet("/cgi-bin/customservice/getonlinekflist", nil); len(r.list("kf_online_list")) != 1 {
		t.Fatalf("online %s", r.raw)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
