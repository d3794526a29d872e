package wechattest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// SampleMiniProgramAppID is the mini program bound to the demo OA (Config.Sample).
const SampleMiniProgramAppID = "wx3a9c5e7f1b2d4680"

// Sample data sizes.
const (
	sampleFollowers = 40
	sampleDays      = 60
)

// line is one message of a conversation template: from the user (2003) or the KF (2002).
type line struct {
	user bool
	text string
}

func u(t string) line { return line{true, t} }
func k(t string) line { return line{false, t} }

// conversations of a small tea shop (茶语轩) with its customers. {nick} is the
// worker's nickname, {order} an order number. A repeated line marked "=" is
// sent again in the same second (a double tap), which dedupe must keep.
var conversations = [][]line{
	{u("你好，请问明前龙井还有货吗？"), k("您好，我是{nick}，很高兴为您服务～明前龙井还有货的，250g 礼盒装 ¥368。"),
		u("可以开发票吗？"), k("可以的，下单时备注抬头和税号就行。"), u("好的，我去下单了"), k("好的，有问题随时找我们哦～")},
	{u("在吗？"), u("=在吗？"), k("在的，请问有什么可以帮您？"), u("我昨天下的单，什么时候发货？订单号 {order}"),
		k("帮您查了一下，今天下午顺丰发出，单号稍后同步给您。"), u("谢谢！")},
	{u("收到的茶叶罐子压坏了"), u("[image]"), k("非常抱歉给您带来不便！照片收到了，我们给您补发一罐，或者直接退款都可以。"),
		u("退款吧"), k("好的，已提交退款申请，1-3 个工作日原路退回。"), u("好")},
	{u("新人优惠券怎么领？"), k("点菜单「会员中心」→「领券」，满 199 减 30～"), u("领到了，能和满减一起用吗？"),
		k("抱歉，优惠券和店铺满减不能叠加哦。"), u("好吧")},
	{u("你们门店几点关门？"), k("门店营业时间是每天 9:00-21:30，周末也营业。"), u("好的 谢谢")},
	{k("您好，请问对本次服务满意吗？回复「满意」或「不满意」"), u("满意"), k("感谢您的支持，祝您生活愉快！")},
	{u("快递太慢了，等了五天"), k("非常抱歉，最近物流高峰，我们已经联系快递加急处理。"), u("不满意，下次不买了"),
		k("真的很抱歉，给您发一张 10 元无门槛优惠券作为补偿，希望您再给我们一次机会。")},
	{u("Hi, do you ship to Hong Kong?"), k("Hello! Yes, we ship to Hong Kong via SF Express, usually 3-5 days."),
		u("Great, what's the shipping fee?"), k("It's HK$45 per order, free for orders over ¥500."), u("Thanks!")},
	{u("请问 Earl Grey 伯爵红茶有 decaf 版本吗？"), k("目前没有低因版本哦，推荐您试试我们的 Rooibos 南非博士茶，天然无咖啡因。"),
		u("OK 那我试试 rooibos")},
	{u("[voice]"), k("抱歉，语音暂时听不了，麻烦您打字描述一下～"), u("我想问下普洱怎么泡"),
		k("熟普建议 95℃ 以上沸水，先洗茶一次，之后每泡 10-20 秒出汤。")},
	{u("[video]"), u("这个茶饼里面有白点，是发霉了吗？"), k("您好，从视频看是正常的茶毫（白霜），不是霉变，可以放心饮用。"),
		u("原来是这样，谢谢")},
	{u("公司中秋要订 50 份礼盒，有团购价吗？"), k("有的！50 份以上享 8.5 折，还可以免费印公司 logo。"), u("能先寄一份样品吗？"),
		k("可以，麻烦留一下收件地址和电话。"), u("上海市浦东新区世纪大道 88 号，张先生 138****5678"), k("收到，样品明天寄出 🎁")},
	{u("积分可以换什么？"), k("500 积分可以换一个品鉴装，1000 积分换定制茶杯。"), u("👍")},
	{u("地址写错了，能改吗？"), k("还没发货可以改，请把新地址发给我。"), u("杭州市西湖区文三路 100 号"), k("已修改好啦 ✅")},
	{k(`秋季上新活动详情 <a href="https://shop.example.com/autumn?from=kf&id=1">秋季上新 & 满 199 减 30</a>`), u("好的，我去看看")},
	{u("绿茶怎么保存比较好？"), k("密封后放冰箱冷藏，避光防潮，开封后尽量一个月内喝完。"), u("明白了")},
	{u("[image]"), u("这是我的订单，怎么还没到"), k("查到了，包裹在派送中，今天应该能到。"), u("好的")},
	{u("我想取消订单"), k("好的，请提供一下订单号"), u("{order}"), k("已为您取消，款项会原路退回。")},
	{u("请问有没有适合送长辈的茶？预算 500 左右"), k("推荐武夷大红袍礼盒 ¥488，或者安吉白茶 + 紫砂杯套装 ¥520。"),
		u("大红袍吧，能包装成礼品吗？"), k("可以的，免费礼品包装，还可以写贺卡。")},
	{u("退款到账了吗？"), k("已经原路退回了，一般 1-3 个工作日到账，请留意银行通知。"), u("收到了 谢谢")},
}

// recentOpeners are unanswered last messages of the open conversations in the last 48 h.
var recentOpeners = []string{
	"你好，桂花乌龙还有吗？", "我的快递显示已签收但是我没收到", "[image]", "能开专票吗？",
	"请问周末门店有品鉴活动吗", "Hi, is the jasmine tea available in 100g packs?",
}

var sampleRemarks = []string{"老顾客 王姐", "公司团购 李经理", "VIP 陈先生", "杭州 周小姐", "投诉过物流"}

// seedSample fills the demo account: followers, KF accounts, a bound mini
// program, 60 days of conversations ending now and open reply windows. s.mu is
// not held (New has not returned yet).
func (s *Server) seedSample() {
	rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0x9e3779b97f4a7c15))
	now := s.clock.Now()
	s.boundApps[SampleMiniProgramAppID] = true

	// KF accounts: two bound workers (小美 online), one invitation waiting, one expired.
	wid := s.weChatID
	mei := s.addKF("xiaomei@"+wid, "小美")
	mei.WX, mei.Status, mei.HeadImgURL = "xiaomei_cy", 1, s.putHead(avatarJPEG(color.RGBA{0xe8, 0x8f, 0xa8, 0xff}))
	jie := s.addKF("ajie@"+wid, "阿杰")
	jie.WX, jie.HeadImgURL = "ajie_0521", s.putHead(avatarJPEG(color.RGBA{0x5b, 0x8d, 0xd6, 0xff}))
	li := s.addKF("lili@"+wid, "莉莉")
	li.InviteWX, li.InviteStatus, li.InviteExpireTime = "lili_tea88", "waiting", now.Add(5*24*time.Hour).Unix()
	wang := s.addKF("laowang@"+wid, "老王")
	wang.InviteWX, wang.InviteStatus, wang.InviteExpireTime = "laowang_1975", "expired", now.Add(-2*24*time.Hour).Unix()
	workers := []*KFAccount{mei, jie}

	// Followers, in follow order over the past year.
	openids := make([]string, sampleFollowers)
	followed := make([]time.Time, sampleFollowers)
	for i := range openids {
		openids[i] = "oDemo" + sampleID(rng, 23)
		followed[i] = now.Add(-time.Duration(rng.IntN(365*24)+sampleDays*24) * time.Hour)
	}
	sort.Slice(followed, func(i, j int) bool { return followed[i].Before(followed[j]) })
	for i, id := range openids {
		usr := s.follow(id, followed[i])
		if i%8 == 3 {
			usr.remark = sampleRemarks[(i/8)%len(sampleRemarks)]
			usr.tags = []int{100}
		}
	}
	// Two of them left later: they keep their history, sends answer 43004.
	unfollowed := map[string]bool{openids[5]: true, openids[17]: true}

	// History: a few conversations a day in opening hours, all closed.
	day0 := time.Date(now.In(beijing).Year(), now.In(beijing).Month(), now.In(beijing).Day(), 0, 0, 0, 0, beijing)
	var recs []Record
	for d := -sampleDays; d <= 0; d++ {
		day := day0.AddDate(0, 0, d)
		n := 4 + rng.IntN(7)
		for range n {
			start := day.Add(9*time.Hour + time.Duration(rng.IntN(12*3600+1800))*time.Second)
			openid := openids[rng.IntN(len(openids))]
			w := workers[rng.IntN(len(workers))]
			conv := conversations[rng.IntN(len(conversations))]
			rs, end, lastUser := s.conversation(rng, conv, openid, w, start, now, true)
			if end.After(now.Add(-time.Hour)) {
				continue // the last hour belongs to the open conversations below
			}
			recs = append(recs, rs...)
			if !lastUser.IsZero() && !unfollowed[openid] {
				s.noteUserMessage(openid, lastUser)
			}
		}
	}

	// Open conversations in the last 48 h: the user spoke last and waits for a reply.
	ago := []time.Duration{4 * time.Minute, 35 * time.Minute, 2 * time.Hour, 6 * time.Hour, 18 * time.Hour, 30 * time.Hour}
	for i, back := range ago {
		openid := openids[20+i]
		start := now.Add(-back - 3*time.Minute)
		conv := []line{u(recentOpeners[i])}
		if i%2 == 1 {
			conv = []line{u("在吗"), k("在的，请问有什么可以帮您？"), u(recentOpeners[i])}
		}
		accepted := i < 4
		rs, _, lastUser := s.conversation(rng, conv, openid, mei, start, now, false)
		if !accepted {
			rs = rs[:1] // only "session created": still waiting for a worker
			rs = append(rs, Record{OpenID: openid, OperCode: 2003, Text: recentOpeners[i], Time: lastUser.Unix()})
			s.waits = append(s.waits, waitCase{openid, lastUser.Unix(), lastUser.Unix()})
		} else {
			s.sessions[openid] = &session{kf: mei.Account, created: rs[1].Time}
		}
		recs = append(recs, rs...)
		s.noteUserMessage(openid, lastUser)
	}
	sort.SliceStable(s.waits, func(i, j int) bool { return s.waits[i].arrived < s.waits[j].arrived })
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time < recs[j].Time })
	s.records = recs
	s.version++

	for id := range unfollowed {
		s.users[id].following = false
	}
}

// noteUserMessage opens the reply window of a user message (UserMessage without the lock).
func (s *Server) noteUserMessage(openid string, at time.Time) {
	usr := s.users[openid]
	if at.After(usr.msgAt) {
		usr.msgAt, usr.msgUsed = at, 0
	}
	if at.After(usr.lastExchange) {
		usr.lastExchange = at
	}
}

// conversation renders one template as records: session created (1000) and
// accepted (1001) — or started by the KF (1002) when the KF speaks first — the
// messages, then closed (1004) if closed is set. It returns the records, the
// time of the last record and of the last user message.
func (s *Server) conversation(rng *rand.Rand, conv []line, openid string, w *KFAccount, start, now time.Time,
	closed bool) ([]Record, time.Time, time.Time) {
	order := fmt.Sprintf("CY%s%04d", start.In(beijing).Format("20060102"), rng.IntN(10000))
	t := start
	var recs []Record
	if conv[0].user {
		recs = append(recs, Record{OpenID: openid, OperCode: 1000, Time: t.Unix()})
		t = t.Add(time.Duration(5+rng.IntN(90)) * time.Second)
		recs = append(recs, Record{OpenID: openid, OperCode: 1001, Time: t.Unix(), Worker: w.Account})
	} else {
		recs = append(recs, Record{OpenID: openid, OperCode: 1002, Time: t.Unix(), Worker: w.Account})
	}
	var lastUser time.Time
	for i, l := range conv {
		text := strings.NewReplacer("{nick}", w.Nick, "{order}", order).Replace(l.text)
		if strings.HasPrefix(text, "=") {
			text = text[1:] // the same message again in the same second
		} else if i > 0 || !conv[0].user {
			t = t.Add(time.Duration(8+rng.IntN(170)) * time.Second)
		}
		op := 2002
		if l.user {
			op, lastUser = 2003, t
		}
		recs = append(recs, Record{OpenID: openid, OperCode: op, Text: text, Time: t.Unix(), Worker: w.Account})
	}
	if closed {
		t = t.Add(time.Duration(60+rng.IntN(600)) * time.Second)
		recs = append(recs, Record{OpenID: openid, OperCode: 1004, Time: t.Unix(), Worker: w.Account})
	}
	return recs, t, lastUser
}

// sampleID draws n characters of the openid alphabet.
func sampleID(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[rng.IntN(len(idChars))]
	}
	return string(b)
}

// avatarJPEG draws a small round avatar for the sample KF accounts.
func avatarJPEG(c color.RGBA) []byte {
	const size = 96
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			dx, dy := x-size/2, y-size/2
			px := color.RGBA{0xf4, 0xf1, 0xea, 0xff}
			if dx*dx+dy*dy < (size/2-4)*(size/2-4) {
				px = c
			}
			img.SetRGBA(x, y, px)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}
