package storage

import (
	"slices"
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
// of stopWords separate like punctuation. Then a three-character phrase replaces its two-character
// parts when it accounts for most (dominates) of the messages of each (铁观音, not 铁观
// and 观音), and of overlapping phrases with about the same count the first one stands
// for them (a longer phrase: 这款茶叶 gives one of 这款茶 and 款茶叶, not both).

// stopRunes make a Han gram no word of its own: particles and pronouns.
const stopRunes = "的了吗呢吧啊呀哦嗯么哈啦嘛我你您他她它们这那是在有和就都也还又什怎"

var stopWords = map[string]bool{}

// stopBigrams are the two-character Han stop words, packed as gram keys.
var stopBigrams = map[uint64]bool{}

func init() {
	for _, w := range strings.Fields(`什么 怎么 一下 一个 可以 没有 已经 现在 因为 所以 如果 但是 不是 不要 不会 知道 时候 你好 您好 谢谢 好的 请问 麻烦
		image voice video 
		a an and are as at be but by can do does for from have how i if in is it its me my no not of ok on or our please so
		that the them then there they this to us was we what when where which will with yes you your hi hello thanks thank`) {
		stopWords[w] = true
		if rs := []rune(w); len(rs) == 2 && isHan(rs[0]) {
			stopBigrams[uint64(rs[0])<<21|uint64(rs[1])] = true
		}
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
	stop  []bool // which runes of run are (in) a stop word
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
		// Stop characters and stop words separate, like punctuation: 什么时候发货 gives 发货, not 候发货.
		c.stop = c.stop[:0]
		for i, r := range c.run {
			c.stop = append(c.stop, strings.ContainsRune(stopRunes, r))
			if i > 0 && stopBigrams[uint64(c.run[i-1])<<21|uint64(r)] {
				c.stop[i-1], c.stop[i] = true, true
			}
		}
		for i := 0; i+1 < len(c.run); i++ {
			if c.stop[i] || c.stop[i+1] {
				continue
			}
			a, b := c.run[i], c.run[i+1]
			c.count(c.han, uint64(a)<<21|uint64(b))
			if i+2 < len(c.run) && !c.stop[i+2] {
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

func hanRunes(k uint64) []rune {
	if k>>42 != 0 {
		return []rune{rune(k >> 42), rune(k >> 21 & (1<<21 - 1)), rune(k & (1<<21 - 1))}
	}
	return []rune{rune(k >> 21), rune(k & (1<<21 - 1))}
}

// top returns the n most frequent words and phrases (at least 2 messages each).
func (c *wordCounter) top(n int) []WordCount {
	type cand struct {
		key uint64 // the Han gram (0 for another word)
		WordCount
	}
	var cands []cand
	dropped := map[uint64]bool{}
	// Trigrams by their first and their last two characters, to find overlapping ones.
	byPrefix, bySuffix := map[uint64][]uint64{}, map[uint64][]uint64{}
	for k, g := range c.han {
		if g.n < 2 || k>>42 == 0 {
			continue
		}
		ab, bc := k>>21, k&(1<<42-1)
		byPrefix[ab] = append(byPrefix[ab], k)
		bySuffix[bc] = append(bySuffix[bc], k)
		// Both parts are (mostly) only ever inside it: it is the word, they are pieces.
		if float64(g.n) >= dominates*float64(max(c.han[ab].n, c.han[bc].n)) {
			dropped[ab], dropped[bc] = true, true
			cands = append(cands, cand{k, WordCount{string(hanRunes(k)), int(g.n)}})
		}
	}
	for k, g := range c.han {
		if g.n >= 2 && k>>42 == 0 && !dropped[k] {
			cands = append(cands, cand{k, WordCount{string(hanRunes(k)), int(g.n)}})
		}
	}
	for w, g := range c.words {
		if g.n >= 2 {
			cands = append(cands, cand{0, WordCount{w, int(g.n)}})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].Messages != cands[j].Messages {
			return cands[i].Messages > cands[j].Messages
		}
		return cands[i].Word < cands[j].Word
	})
	// A chain of overlapping trigrams with about the same count (abc, bcd, cde …) is
	// one longer phrase: the first of them stands for it.
	covered := map[uint64]bool{}
	cover := func(k uint64) {
		n := float64(c.han[k].n)
		for todo := []uint64{k}; len(todo) > 0; {
			x := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			if covered[x] {
				continue
			}
			covered[x] = true
			for _, y := range append(slices.Clone(byPrefix[x&(1<<42-1)]), bySuffix[x>>21]...) {
				if m := float64(c.han[y].n); min(m, n) >= dominates*max(m, n) {
					todo = append(todo, y)
				}
			}
		}
	}
	var out []WordCount
	for _, cd := range cands {
		if len(out) == n {
			break
		}
		if cd.key>>42 != 0 {
			if covered[cd.key] {
				continue
			}
			cover(cd.key)
		}
		out = append(out, cd.WordCount)
	}
	return out
}
