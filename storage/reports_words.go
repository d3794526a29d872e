package storage

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Frequent words of customer messages, without a dictionary: Chinese has no spaces,
// so every two and three adjacent Han characters are candidates (most Chinese words
// have two or three characters); other text splits into words at anything but letters
// and digits. A candidate counts once per message (how many messages mention it, which
// is what a search for it finds). Grams with a particle (的, 了, 吗, …) and the words
// of stopWords are left out. Then a three-character phrase replaces its two-character
// parts when it accounts for most (dominates) of the messages of each (铁观音, not 铁观
// and 观音), and of overlapping phrases with about the same count the first one stands
// for them (a longer phrase: 这款茶叶 gives one of 这款茶 and 款茶叶, not both).

// stopRunes make a Han gram no word of its own: particles and pronouns.
const stopRunes = "的了吗呢吧啊呀哦嗯么哈啦嘛我你您他她它这那是在有和就都也还又"

var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`什么 怎么 一下 一个 可以 没有 已经 现在 因为 所以 如果 但是 不是 不要 不会 知道 时候 
		a an and are as at be but by can do does for from have how i if in is it its me my no not of ok on or our please so
		that the them then there they this to us was we what when where which will with yes you your hi hello thanks thank`) {
		stopWords[w] = true
	}
}

// dominates: a phrase with at least this share of a part's messages replaces the part.
const dominates = 0.7

type gramCount struct {
	n    int32
	last int32 // the message it was last counted in
}

type wordCounter struct {
	msg   int32
	han   map[uint64]*gramCount // 2 or 3 runes packed 21 bits each (a trigram's first rune is never 0)
	words map[string]*gramCount
	buf   []byte
	run   []rune
}

func newWordCounter() *wordCounter {
	return &wordCounter{han: map[uint64]*gramCount{}, words: map[string]*gramCount{}}
}

func isHan(r rune) bool { return r >= 0x2E80 && unicode.Is(unicode.Han, r) }

func (c *wordCounter) count(m map[uint64]*gramCount, k uint64) {
	g := m[k]
	if g == nil {
		m[k] = &gramCount{n: 1, last: c.msg}
		return
	}
	if g.last != c.msg {
		g.n++
		g.last = c.msg
	}
}

// add counts one customer message.
func (c *wordCounter) add(text string) {
	c.msg++
	c.run, c.buf = c.run[:0], c.buf[:0]
	flush := func() {
		for i := 0; i+1 < len(c.run); i++ {
			a, b := c.run[i], c.run[i+1]
			if strings.ContainsRune(stopRunes, a) || strings.ContainsRune(stopRunes, b) {
				continue
			}
			c.count(c.han, uint64(a)<<21|uint64(b))
			if i+2 < len(c.run) && !strings.ContainsRune(stopRunes, c.run[i+2]) {
				c.count(c.han, uint64(a)<<42|uint64(b)<<21|uint64(c.run[i+2]))
			}
		}
		c.run = c.run[:0]
		if len(c.buf) >= 2 && !allDigits(c.buf) {
			if g := c.words[string(c.buf)]; g != nil { // no allocation for a word already seen
				if g.last != c.msg {
					g.n++
					g.last = c.msg
				}
			} else if !stopWords[string(c.buf)] {
				c.words[string(c.buf)] = &gramCount{n: 1, last: c.msg}
			}
		}
		c.buf = c.buf[:0]
	}
	for _, r := range text {
		switch {
		case isHan(r):
			if len(c.buf) > 0 {
				flush()
			}
			c.run = append(c.run, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if len(c.run) > 0 {
				flush()
			}
			c.buf = utf8.AppendRune(c.buf, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func hanKey(rs []rune) uint64 {
	var k uint64
	for _, r := range rs {
		k = k<<21 | uint64(r)
	}
	return k
}

func hanRunes(k uint64) []rune {
	if k>>42 != 0 {
		return []rune{rune(k >> 42), rune(k >> 21 & (1<<21 - 1)), rune(k & (1<<21 - 1))}
	}
	return []rune{rune(k >> 21), rune(k & (1<<21 - 1))}
}

// top returns the n most frequent words and phrases (at least 2 messages each).
func (c *wordCounter) top(n int) []WordCount {
	type cand struct {
		runes []rune // nil for a non-Han word
		WordCount
	}
	var cands []cand
	dropped := map[uint64]bool{}
	for k, g := range c.han {
		if g.n < 2 || k>>42 == 0 {
			continue
		}
		rs := hanRunes(k)
		// Both parts are (mostly) only ever inside it: it is the word, they are pieces.
		if float64(g.n) >= dominates*float64(max(c.han[hanKey(rs[:2])].n, c.han[hanKey(rs[1:])].n)) {
			dropped[hanKey(rs[:2])], dropped[hanKey(rs[1:])] = true, true
			cands = append(cands, cand{rs, WordCount{string(rs), int(g.n)}})
		}
	}
	for k, g := range c.han {
		if g.n >= 2 && k>>42 == 0 && !dropped[k] {
			rs := hanRunes(k)
			cands = append(cands, cand{rs, WordCount{string(rs), int(g.n)}})
		}
	}
	for w, g := range c.words {
		if g.n >= 2 {
			cands = append(cands, cand{nil, WordCount{w, int(g.n)}})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].Messages != cands[j].Messages {
			return cands[i].Messages > cands[j].Messages
		}
		return cands[i].Word < cands[j].Word
	})
	var out []WordCount
	var kept [][]rune
	for _, cd := range cands {
		if len(out) == n {
			break
		}
		if len(cd.runes) == 3 && overlapsKept(cd.runes, cd.Messages, kept, out) {
			continue
		}
		out = append(out, cd.WordCount)
		kept = append(kept, cd.runes)
	}
	return out
}

// overlapsKept: a kept three-character phrase shares two characters with rs
// (…abc then bcd…) and has about its count — both are pieces of one longer phrase.
func overlapsKept(rs []rune, n int, kept [][]rune, out []WordCount) bool {
	for i, k := range kept {
		if len(k) != 3 || float64(n) < dominates*float64(out[i].Messages) {
			continue
		}
		if (k[1] == rs[0] && k[2] == rs[1]) || (k[0] == rs[1] && k[1] == rs[2]) {
			return true
		}
	}
	return false
}
