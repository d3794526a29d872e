package storage

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

// The quality benchmark of suggested replies (issue 15 §3): a generated archive
// whose customers ask known questions in other words and get the shop's usual
// answers (with noise: other wordings, "please wait" replies, questions nobody
// asked before), and the demo data. The newest 10% of exchanges are held out: the
// archive holds the older 90% only, and each held-out customer message is asked.

// intent is a kind of question with its paraphrases and the shop's usual answers.
type intent struct {
	asks    []string
	answers []string // the first is the usual one
}

var genIntents = []intent{
	{[]string{"什么时候发货", "几时发货", "多久能发货", "什么时候能发出", "今天能发货吗", "下单后多久发货"},
		[]string{"您好，下单后 48 小时内发货，顺丰包邮～", "一般 48 小时内发出哦"}},
	{[]string{"退款到账了吗", "钱什么时候退回来", "退款多久到账", "退款怎么还没到", "退的钱到了吗"},
		[]string{"已经原路退回了，一般 1-3 个工作日到账，请留意银行通知。", "退款已提交，1-3 个工作日到账"}},
	{[]string{"有优惠吗", "有没有优惠券", "现在有什么活动", "能便宜点吗", "有折扣吗"},
		[]string{"新人券满 199 减 30，点菜单「会员中心」→「领券」就能领～", "目前满 199 减 30 哦"}},
	{[]string{"可以开发票吗", "能开发票吗", "发票怎么开", "需要开发票", "可以开专票吗"},
		[]string{"可以的，下单时备注抬头和税号就行。", "可以开，备注抬头税号即可"}},
	{[]string{"快递到哪里了", "我的快递到哪了", "物流怎么不动了", "包裹什么时候到", "查一下物流"},
		[]string{"帮您查了，包裹在派送中，今天应该能到。", "物流显示在路上了，请耐心等待"}},
	{[]string{"明前龙井还有货吗", "龙井有货吗", "龙井还有吗", "明前龙井卖完了吗"},
		[]string{"明前龙井还有货的，250g 礼盒装 ¥368。"}},
	{[]string{"普洱怎么泡", "普洱茶怎么冲泡", "熟普怎么泡好喝", "普洱要洗茶吗"},
		[]string{"熟普建议 95℃ 以上沸水，先洗茶一次，之后每泡 10-20 秒出汤。"}},
	{[]string{"绿茶怎么保存", "茶叶怎么存放", "绿茶要放冰箱吗", "茶叶放久了会坏吗"},
		[]string{"密封后放冰箱冷藏，避光防潮，开封后尽量一个月内喝完。"}},
	{[]string{"门店几点关门", "你们几点下班", "营业时间是多少", "周末营业吗"},
		[]string{"门店营业时间是每天 9:00-21:30，周末也营业。"}},
	{[]string{"地址写错了能改吗", "可以改地址吗", "收货地址填错了", "怎么修改地址"},
		[]string{"还没发货可以改，请把新地址发给我。"}},
	{[]string{"我想取消订单", "订单不要了", "怎么取消订单", "能取消吗"},
		[]string{"好的，请提供一下订单号，我帮您取消。"}},
	{[]string{"包装破损了", "收到的罐子压坏了", "盒子坏了", "茶叶罐被压扁了"},
		[]string{"非常抱歉！麻烦拍张照片，我们给您补发或者退款都可以。"}},
	{[]string{"积分可以换什么", "积分怎么用", "积分有什么用", "怎么兑换积分"},
		[]string{"500 积分可以换一个品鉴装，1000 积分换定制茶杯。"}},
	{[]string{"有团购价吗", "公司订礼盒有优惠吗", "批量买能便宜吗", "订 50 份有折扣吗"},
		[]string{"有的！50 份以上享 8.5 折，还可以免费印公司 logo。"}},
	{[]string{"do you ship to hong kong", "can you ship to HK", "shipping to hong kong?", "delivery to hong kong possible"},
		[]string{"Yes, we ship to Hong Kong via SF Express, usually 3-5 days."}},
	{[]string{"what's the shipping fee", "how much is shipping", "shipping cost?", "is shipping free"},
		[]string{"It's HK$45 per order, free for orders over ¥500."}},
	{[]string{"可以退货吗", "不想要了能退吗", "七天无理由吗", "怎么退货"},
		[]string{"支持七天无理由退货，未拆封的商品可以直接在订单页申请。"}},
	{[]string{"这个茶饼发霉了吗", "茶饼上有白点", "茶叶上有白毛正常吗"},
		[]string{"是正常的茶毫（白霜），不是霉变，可以放心饮用。"}},
	{[]string{"送长辈买什么茶好", "推荐一款送礼的茶", "送人的茶叶推荐", "有适合送礼的吗"},
		[]string{"推荐武夷大红袍礼盒 ¥488，或者安吉白茶 + 紫砂杯套装 ¥520。"}},
	{[]string{"能包装成礼品吗", "有礼品包装吗", "可以写贺卡吗"},
		[]string{"可以的，免费礼品包装，还可以写贺卡。"}},
}

var (
	askPrefixes = []string{"", "", "", "你好，", "亲，", "请问", "老板，", "在吗？", "hello "}
	askSuffixes = []string{"", "", "？", "?", "呀", "呢", "啊？", "~", "？？"}
	// A common first reply that answers nothing yet: the next reply in the data is it.
	holdReplies = []string{"稍等，我帮您查一下", "好的，请稍等"}
)

// oneOffQuestions use the shop's words (茶, 普洱, 发货, 优惠, 可以…) but ask what no
// one asked before: the hard case for "nothing for a question with no similar history".
var oneOffQuestions = []string{
	"孕妇可以喝普洱吗", "茶叶可以带上飞机吗", "你们招聘兼职客服吗", "能用花呗分期付款吗", "可以到店自提吗",
	"龙井和碧螺春哪个更香", "茶具怎么清洗", "你们老板是哪里人", "能不能寄到国外", "发票抬头写错了能重开吗",
	"积分会过期吗", "可以加盟你们店吗", "喝茶会失眠吗", "紫砂壶怎么开壶", "有没有茶艺培训课程",
	"你们的茶有农药残留检测报告吗", "下雨天发货会受潮吗", "优惠券能转送给朋友吗", "礼盒可以定制颜色吗", "小孩可以喝绿茶吗",
	"白茶能放几年", "冷泡茶怎么做", "茶叶过期了还能喝吗", "可以用支付宝付款吗", "你们有实体店在北京吗",
	"do you have a store in london", "is your tea organic certified", "can i pay with paypal",
}

// genConv is one generated conversation: its records and, for its first question,
// the intent (-1 for a question about something never asked before).
type genConv struct {
	recs   []api.Record
	intent int
}

// suggestArchive generates n conversations over days days before end, oldest first.
func suggestArchive(seed uint64, n, days int, end time.Time) []genConv {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	start := end.AddDate(0, 0, -days).Unix()
	span := end.Unix() - start
	out := make([]genConv, 0, n)
	oneOff := slices.Clone(oneOffQuestions)
	for i := range n {
		at := start + int64(i)*span/int64(n)
		openid := fmt.Sprintf("oSug%020d", rng.IntN(n/3+1))
		var c genConv
		add := func(in bool, text string) {
			r := api.Record{OpenID: openid, Time: at, OperCode: 2002, Worker: "kf01@teashop", Text: text}
			if in {
				r.OperCode, r.Worker = 2003, ""
			}
			c.recs = append(c.recs, r)
			at += int64(20 + rng.IntN(200))
		}
		switch k := rng.IntN(100); {
		case k < 12 && i >= n*92/100 && len(oneOff) > 0: // the newest days: questions in the shop's words, asked once
			c.intent = -1
			add(true, oneOff[0])
			add(false, "这个我问一下同事再回复您")
			oneOff = oneOff[1:]
		case k < 8: // never asked before: a rare thing, or a known shape about an unknown item
			var b strings.Builder
			for range 4 + rng.IntN(5) {
				b.WriteRune(rune(0x4E00 + rng.IntN(0x9FA5-0x4E00))) // any CJK character: a thing nobody asked about
			}
			q, a := "请问"+b.String()+"怎么样", "关于"+b.String()+"，我们还没有这类商品。"
			if k < 3 {
				item := string([]rune(b.String())[:3]) // the shop's usual words around them
				q, a = "你们卖"+item+"吗", "抱歉，本店不卖"+item+"。"
			}
			c.intent = -1
			add(true, q)
			add(false, a)
		default:
			c.intent = rng.IntN(len(genIntents))
			it := genIntents[c.intent]
			q := askPrefixes[rng.IntN(len(askPrefixes))] + it.asks[rng.IntN(len(it.asks))] + askSuffixes[rng.IntN(len(askSuffixes))]
			add(true, q)
			switch r := rng.IntN(100); {
			case r < 6:
				add(false, holdReplies[rng.IntN(len(holdReplies))])
			case r < 20 && len(it.answers) > 1:
				add(false, it.answers[1])
			case r < 28: // the usual answer, other punctuation
				add(false, strings.NewReplacer("，", ", ", "。", "", "～", "~").Replace(it.answers[0]))
			default:
				add(false, it.answers[0])
			}
			if rng.IntN(3) == 0 {
				add(true, "好的，谢谢")
				add(false, "不客气，有问题随时找我们～")
			}
		}
		out = append(out, c)
	}
	return out
}

// heldOut is one held-out customer message with the reply it got.
type heldOut struct {
	question, reply api.Record
	repeated        bool // a question like it (same intent or same text) is in the older 90%
	newWording      bool // repeated, but never in these words (normalised text)
}

// holdOut splits the records: those before the newest 10% of exchanges, and the
// held-out messages. repeated(question, older) decides whether a message was asked before.
func holdOut(recs []api.Record, intentOf map[string]int) (older []api.Record, held []heldOut) {
	byOpenID := map[string][]api.Record{}
	for _, r := range recs {
		byOpenID[r.OpenID] = append(byOpenID[r.OpenID], r)
	}
	var all []heldOut
	for _, rs := range byOpenID {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time < rs[j].Time })
		var ex []exchangeRec
		for i, r := range rs {
			if d := api.OperCodeDirection(r.OperCode); d == api.DirIn || d == api.DirOut {
				ex = append(ex, exchangeRec{id: int64(i), time: r.Time, in: d == api.DirIn, text: r.Text})
			}
		}
		for _, e := range exchanges(ex) {
			all = append(all, heldOut{question: rs[e.question.id], reply: rs[e.reply.id]})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].question.Time < all[j].question.Time })
	cut := all[len(all)*9/10].question.Time
	seen, said := map[string]bool{}, map[string]bool{} // older questions: intent keys and normalised texts; normalised texts
	key := func(q string) string {
		if i, ok := intentOf[q]; ok {
			return fmt.Sprint("intent ", i)
		}
		return suggestNorm(q)
	}
	for _, e := range all {
		if e.question.Time < cut {
			seen[key(e.question.Text)] = true
			said[suggestNorm(e.question.Text)] = true
		}
	}
	for _, r := range recs {
		if r.Time < cut {
			older = append(older, r)
		}
	}
	for _, e := range all {
		if e.question.Time >= cut {
			e.repeated = seen[key(e.question.Text)]
			e.newWording = e.repeated && !said[suggestNorm(e.question.Text)]
			held = append(held, e)
		}
	}
	return older, held
}

// quality is what a hold-out run measured.
type quality struct {
	repeated, hit1, hit3   int // held-out messages asked before; the reply given was 1st / in the top 3
	novel, novelSuggested  int // held-out messages never asked before; of them, those that got a suggestion
	reworded, rewordedHit3 int // repeated ones in words never used before; of them, hits at 3
	durations              []time.Duration
}

func (q quality) String() string {
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	return fmt.Sprintf("hit@1 %.1f%% (%d/%d), hit@3 %.1f%% (%d/%d; in new words %d/%d); never asked before: %d, of them with a suggestion %d",
		pct(q.hit1, q.repeated), q.hit1, q.repeated, pct(q.hit3, q.repeated), q.hit3, q.repeated, q.rewordedHit3, q.reworded, q.novel, q.novelSuggested)
}

// sameReply: the reply given and a suggestion are the same or nearly the same text.
func sameReply(a, b string) bool {
	na, nb := suggestNorm(a), suggestNorm(b)
	return na == nb || dice(charBigrams(na), charBigrams(nb)) >= replySim
}

// evaluate stores the older records in a fresh archive and asks every held-out message.
func evaluate(tb testing.TB, older []api.Record, held []heldOut, o SuggestOptions) quality {
	tb.Helper()
	db, acct := suggestArchiveDB(tb, older)
	return ask(tb, db, acct, held, o)
}

func ask(tb testing.TB, db *DB, acct int64, held []heldOut, o SuggestOptions) quality {
	var q quality
	for _, h := range held {
		start := time.Now()
		ss, err := db.Suggest(context.Background(), acct, h.question.Text, time.Unix(h.question.Time, 0), o)
		q.durations = append(q.durations, time.Since(start))
		if err != nil {
			tb.Fatal(err)
		}
		if !h.repeated {
			q.novel++
			if len(ss) > 0 {
				q.novelSuggested++
			}
			continue
		}
		q.repeated++
		if h.newWording {
			q.reworded++
		}
		for i, s := range ss {
			if sameReply(s.Text, h.reply.Text) {
				if i == 0 {
					q.hit1++
				}
				q.hit3++
				if h.newWording {
					q.rewordedHit3++
				}
				break
			}
		}
	}
	return q
}

// suggestArchiveDB stores records like a first sync does (deferred index, pages of
// 10,000, the index built at the end) and builds the exchanges.
func suggestArchiveDB(tb testing.TB, recs []api.Record) (*DB, int64) {
	tb.Helper()
	ctx := context.Background()
	db, err := Open(tb.TempDir() + "/" + DBFileName)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	a, err := db.AddAccount(ctx, Account{Name: "shop", Kind: KindOA, AppID: "wx0000000000000001"})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.deferIndexIfEmpty(ctx, a.ID, time.Now()); err != nil {
		tb.Fatal(err)
	}
	recs = slices.Clone(recs)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time < recs[j].Time })
	var inSecond, last int64 = 0, -1
	for lo := 0; lo < len(recs); lo += 10000 {
		var page []pendingRecord
		for _, r := range recs[lo:min(lo+10000, len(recs))] {
			if r.Time != last {
				last, inSecond = r.Time, 0
			}
			page = append(page, pendingRecord{Record: r, key: recordKey(r), n: inSecond})
			inSecond++
		}
		if _, err := db.storePage(ctx, a.ID, BeijingDay(time.Unix(recs[lo].Time, 0)), page, false, false, 0, time.Now()); err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.buildPendingIndex(ctx, a.ID, func(int, int) {}); err != nil {
		tb.Fatal(err)
	}
	if err := db.BuildSuggestIndex(ctx, a.ID); err != nil {
		tb.Fatal(err)
	}
	return db, a.ID
}

func generatedHoldOut(seed uint64, convs, days int) ([]api.Record, []heldOut) {
	gen := suggestArchive(seed, convs, days, time.Date(2026, 11, 30, 20, 0, 0, 0, Beijing))
	intentOf := map[string]int{}
	var recs []api.Record
	for _, c := range gen {
		recs = append(recs, c.recs...)
		if c.intent >= 0 {
			intentOf[c.recs[0].Text] = c.intent
		}
	}
	return holdOut(recs, intentOf)
}

// demoRecords are the demo account's chat records (api/wechattest sample.go), all 60 days.
func demoRecords(tb testing.TB) []api.Record {
	tb.Helper()
	clock := wechattest.NewFakeClock(time.Date(2026, 11, 30, 20, 0, 0, 0, Beijing))
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s3cr3t", Clock: clock, Sample: true, Seed: 1})
	tb.Cleanup(srv.Close)
	cli, err := api.New(api.Options{BaseURL: srv.URL, Timeout: time.Minute,
		Tokens: api.TokenConfig{Mode: api.TokenClassic, AppID: "wx0123456789abcdef", Secret: "s3cr3t", Now: clock.Now}})
	if err != nil {
		tb.Fatal(err)
	}
	var out []api.Record
	for day := BeijingDay(clock.Now()).AddDate(0, 0, -61); !day.After(clock.Now()); day = day.AddDate(0, 0, 1) {
		for msgid := int64(1); ; {
			page, err := cli.GetMsgList(context.Background(), day.Unix(), day.AddDate(0, 0, 1).Unix()-1, msgid, api.MaxMsgListPage)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, page.Records...)
			if len(page.Records) < api.MaxMsgListPage {
				break
			}
			msgid = page.Next
		}
	}
	return out
}

// TestSuggestQuality is the quality target at a small size: the reply given is among
// the three suggestions for ≥ 60% of held-out messages asked before, and nothing is
// suggested for a message never asked before.
func TestSuggestQuality(t *testing.T) {
	older, held := generatedHoldOut(1, 4000, 30)
	q := evaluate(t, older, held, SuggestOptions{})
	t.Logf("generated, %d held out: %s", len(held), q)
	if q.repeated < 200 || q.novel < 20 {
		t.Fatalf("%d repeated, %d novel held-out messages: the generator is off", q.repeated, q.novel)
	}
	if q.hit3*100 < q.repeated*60 || q.novelSuggested > 0 {
		t.Errorf("generated: %s; want hit@3 ≥ 60%% and no suggestion for a new question", q)
	}
	dOlder, dHeld := holdOut(demoRecords(t), nil)
	dq := evaluate(t, dOlder, dHeld, SuggestOptions{})
	t.Logf("demo data, %d held out: %s", len(dHeld), dq)
	if dq.repeated == 0 || dq.hit3*100 < dq.repeated*60 || dq.novelSuggested > 0 {
		t.Errorf("demo data: %s; want hit@3 ≥ 60%% and no suggestion for a new question", dq)
	}
}

// BenchmarkSuggest: quality by threshold (generated and demo data), then the time per
// suggestion in an archive of -records records (default 1M) beside a plain bm25 query
// of the same terms. go test -tags $TAGS -run '^$' -bench Suggest -benchtime 1x ./storage/
func BenchmarkSuggest(b *testing.B) {
	out := os.Stdout // as it goes: the 1M part takes minutes
	fmt.Fprintf(out, "\n%s, GOMAXPROCS %d\n\n", runtime.Version(), runtime.GOMAXPROCS(0))
	if *suggestSweep {
		suggestThresholds(b, out)
	}
	suggestTiming(b, out)
}

var suggestSweep = flag.Bool("sweep", true, "BenchmarkSuggest: measure the quality by threshold too")

func suggestThresholds(b *testing.B, out io.Writer) {
	older, held := generatedHoldOut(1, 12000, 30)
	dOlder, dHeld := holdOut(demoRecords(b), nil)
	gdb, gacct := suggestArchiveDB(b, older)
	ddb, dacct := suggestArchiveDB(b, dOlder)
	fmt.Fprintf(out, "| threshold | generated (%d records, %d held out) | demo data (%d records, %d held out) |\n|---|---|---|\n",
		len(older), len(held), len(dOlder), len(dHeld))
	for _, th := range []float64{0.2, 0.3, 0.4, 0.45, 0.5, 0.6} {
		o := SuggestOptions{MinSim: th}
		fmt.Fprintf(out, "| %.2f | %s | %s |\n", th, ask(b, gdb, gacct, held, o), ask(b, ddb, dacct, dHeld, o))
	}
}

// suggestBenchRecords are n records: the generated shop, one conversation per about
// 3.4 records, plus the archive benchmark's random chatter for the rest; and the
// first messages of its 400 newest conversations.
func suggestBenchRecords(n int64) (recs []api.Record, questions []string) {
	convs := int(n / 4)
	gen := suggestArchive(2, convs, 30, time.Date(2026, 11, 30, 20, 0, 0, 0, Beijing))
	for i, c := range gen {
		recs = append(recs, c.recs...)
		if i >= len(gen)-400 {
			questions = append(questions, c.recs[0].Text)
		}
	}
	from := gen[0].recs[0].Time
	span := gen[len(gen)-1].recs[0].Time - from
	rest := n - int64(len(recs))
	for i := range rest {
		r := genRecord(i, rest, from, span)
		recs = append(recs, api.Record{OpenID: r.OpenID, Time: r.Time, OperCode: r.OperCode, Worker: r.Worker, Text: r.Text})
	}
	return recs, questions
}

func suggestTiming(b *testing.B, out io.Writer) {
	// Time per suggestion at the benchmark size.
	recs, questions := suggestBenchRecords(benchSize())
	start := time.Now()
	db, acct := suggestArchiveDB(b, recs)
	fmt.Fprintf(out, "\n%d records stored and indexed in %.1f s", len(recs), time.Since(start).Seconds())
	var nq, nx int
	_ = db.Reader().QueryRow(`SELECT (SELECT count(*) FROM suggest_questions), (SELECT count(*) FROM suggest_exchanges)`).Scan(&nq, &nx)
	st, _ := os.Stat(db.Path())
	fmt.Fprintf(out, "; %d distinct questions, %d exchanges; database %d MB\n\n", nq, nx, st.Size()>>20)
	// The exchanges alone, built again from scratch as after an upgrade.
	if _, err := db.Writer().Exec(`INSERT OR IGNORE INTO suggest_dirty(account_id, openid) SELECT DISTINCT account_id, openid FROM records WHERE openid <> ''`); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if err := db.BuildSuggestIndex(context.Background(), acct); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(out, "building the exchanges of every customer again (an upgraded archive): %.1f s\n\n", time.Since(start).Seconds())

	ctx := context.Background()
	var sugg, plain []time.Duration
	now := time.Unix(recs[len(recs)-1].Time, 0)
	found := 0
	for round := range 2 { // the first round warms the cache
		for _, q := range questions {
			t0 := time.Now()
			ss, err := db.Suggest(ctx, acct, q, now, SuggestOptions{})
			d := time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			terms := suggestTerms(suggestNorm(q))
			var match []string
			for _, t := range terms {
				match = append(match, `"`+termPrefix(acct)+t+`"`)
			}
			t1 := time.Now()
			rows, err := db.Reader().Query(`SELECT rowid FROM suggest_fts WHERE suggest_fts MATCH ? ORDER BY rank LIMIT ?`, strings.Join(match, " OR "), suggestCandidates)
			if err == nil {
				for rows.Next() {
				}
				rows.Close()
			}
			dp := time.Since(t1)
			if round == 1 {
				sugg, plain = append(sugg, d), append(plain, dp)
				if len(ss) > 0 {
					found++
				}
			}
		}
	}
	fmt.Fprintf(out, "| per message (%d newest customer messages) | p50 | p95 | max |\n|---|---|---|---|\n", len(sugg))
	fmt.Fprintf(out, "| Suggest | %s | %s | %s |\n", ms(percentile(sugg, 0.5)), ms(percentile(sugg, 0.95)), ms(percentile(sugg, 1)))
	fmt.Fprintf(out, "| baseline: the bm25 query alone | %s | %s | %s |\n\n%d of %d got a suggestion\n",
		ms(percentile(plain, 0.5)), ms(percentile(plain, 0.95)), ms(percentile(plain, 1)), found, len(sugg))
}
