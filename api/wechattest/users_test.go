package wechattest_test

import (
	"fmt"
	"net/url"
	"testing"
)

func TestUserGetPaging(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 25 {
		id := fmt.Sprintf("oFollower%019d", i)
		ids = append(ids, id)
		e.srv.AddFollower(id)
	}
	e.srv.SetUserPageSize(10)
	var got []string
	next := ""
	for page := 0; ; page++ {
		r := e.apiGet("/cgi-bin/user/get", url.Values{"next_openid": {next}})
		if r.num("total") != 25 {
			t.Fatalf("total %v", r.m["total"])
		}
		count := int(r.num("count"))
		if count == 0 {
			if _, has := r.m["data"]; has || r.str("next_openid") != "" || page != 3 {
				t.Fatalf("last page %s (page %d)", r.raw, page)
			}
			break
		}
		data := r.m["data"].(map[string]any)["openid"].([]any)
		if len(data) != count || count != []int{10, 10, 5}[page] {
			t.Fatalf("page %d: count %d, %d ids", page, count, len(data))
		}
		for _, id := range data {
			got = append(got, id.(string))
		}
		next = r.str("next_openid")
		if next != got[len(got)-1] {
			t.Fatalf("next_openid %q", next)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("followers %v", got)
	}

	// Unfollowed users are skipped, and paging past one that left still works.
	e.srv.RemoveFollower(ids[9])
	r := e.apiGet("/cgi-bin/user/get", url.Values{"next_openid": {ids[9]}})
	if r.num("total") != 24 || r.num("count") != 10 || r.str("next_openid") != ids[19] {
		t.Fatalf("after unfollow %s", r.raw)
	}
	r = e.apiGet("/cgi-bin/user/get", nil)
	if r.num("count") != 10 || r.str("next_openid") != ids[10] {
		t.Fatalf("first page skips the unfollowed: %s", r.raw)
	}
	e.apiGet("/cgi-bin/user/get", url.Values{"next_openid": {"oNobody"}}).is(40003)

	// A follower who comes back moves to the end.
	e.srv.RemoveFollower(ids[0])
	e.srv.AddFollower(ids[0])
	if f := e.srv.Followers(); len(f) != 24 || f[23] != ids[0] || f[0] != ids[1] {
		t.Fatalf("Followers %v", f)
	}
}

func TestUserBatchGet(t *testing.T) {
	e := newEnv(t)
	e.srv.AddFollower(alice)
	e.srv.AddFollower(bob)
	e.srv.RemoveFollower(bob)
	e.srv.SetUserRemark(alice, "老顾客")
	r := e.apiPost("/cgi-bin/user/info/batchget", obj{"user_list": []any{obj{"openid": alice, "lang": "zh_CN"}, obj{"openid": bob}}})
	want := fmt.Sprintf(`{"user_info_list":[{"subscribe":1,"openid":"%s","language":"zh_CN","subscribe_time":%d,"remark":"老顾客","groupid":0,"tagid_list":[],"subscribe_scene":"ADD_SCENE_QR_CODE","qr_scene":0,"qr_scene_str":""},{"subscribe":0,"openid":"%s"}]}`,
		alice, t0.Unix(), bob)
	if string(r.raw) != want {
		t.Fatalf("got  %s\nwant %s", r.raw, want)
	}
	e.apiPost("/cgi-bin/user/info/batchget", obj{"user_list": []any{obj{"openid": "oNobody"}}}).is(40003)
	e.apiPost("/cgi-bin/user/info/batchget", obj{"user_list": []any{}}).is(40032)
	many := make([]any, 101)
	for i := range many {
		many[i] = obj{"openid": alice}
	}
	e.apiPost("/cgi-bin/user/info/batchget", obj{"user_list": many}).is(40032)
}
