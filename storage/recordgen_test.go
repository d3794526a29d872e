package storage

import (
	"fmt"
	"strings"

	"kfdesk/api/wechattest"
)

// Realistic generated chat records for tests and benchmarks: customers write
// (2003), KF workers answer (2002), sessions open and close (1000/1001/1004),
// in mixed Chinese and English with media placeholders.
var (
	genPhrases = []string{
		"你好", "请问", "这款茶叶还有货吗", "什么时候发货", "我要退款", "退款发货", "已经收到了，很满意", "不满意", "包装破损了",
		"快递到哪里了", "可以开发票吗", "谢谢", "好的", "稍等一下", "亲，已为您查询", "红包雨活动", "满减优惠", "会员积分",
		"Hello", "Refund please", "order number", "iPhone", "WeChat Pay", "OK", "thanks a lot", "tracking ID", "SF Express",
		"Where is my parcel?", "龙井", "普洱", "铁观音", "明前茶", "礼盒装", "退换货", "尺码", "颜色", "地址改一下", "=SUM(A1)",
		"[image]", "[voice]", "[video]", "😊", "价格 ¥128", "满意度调查", "评价有礼",
		// For multi-word search: a phrase, a word to exclude, a hyphenated model number.
		"已原路退回", "电子发票", "型号 A-1",
		// Letters beyond ASCII with case: only Go folds them, not the FTS5 tokenizers.
		"Éclair", "MÜNCHEN", "Äpfel und Öl", "crème brûlée",
	}
	genWorkers = []string{"kf01@teashop", "kf02@teashop", "kf03@teashop", "amy@teashop", "bob@teashop", "小王@teashop", "li@teashop", "zhao@teashop"}
)

func mix(x uint64) uint64 { // splitmix64
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// genRecord is record i of n spread evenly over span seconds from from.
func genRecord(i, n, from, span int64) wechattest.Record {
	h := mix(uint64(i))
	r := wechattest.Record{Time: from + i*span/n, OpenID: fmt.Sprintf("oGen%024d", h%20011), Worker: genWorkers[(h>>16)%uint64(len(genWorkers))]}
	switch k := (h >> 24) % 100; {
	case k < 3:
		r.OperCode, r.Worker = 1000, ""
	case k < 6:
		r.OperCode = 1001
	case k < 9:
		r.OperCode = 1004
	case k < 52:
		r.OperCode = 2003
	default:
		r.OperCode = 2002
	}
	if r.OperCode >= 2000 {
		var b strings.Builder
		parts := 1 + (h>>32)%3
		for p := range parts {
			if p > 0 {
				b.WriteString([]string{"，", " ", "。", ", "}[(h>>(40+2*p))%4])
			}
			b.WriteString(genPhrases[mix(h+p)%uint64(len(genPhrases))])
		}
		if (h>>48)%7 == 0 {
			fmt.Fprintf(&b, " #%d", i%100000)
		}
		r.Text = b.String()
	}
	return r
}

// genSource is a wechattest record source of n generated records over span seconds from from.
func genSource(n, from, span int64) func(start, end int64) []wechattest.Record {
	return func(start, end int64) []wechattest.Record {
		lo := max(0, (start-from)*n/span-1)
		for lo < n && from+lo*span/n < start {
			lo++
		}
		var out []wechattest.Record
		for i := lo; i < n && from+i*span/n <= end; i++ {
			out = append(out, genRecord(i, n, from, span))
		}
		return out
	}
}
