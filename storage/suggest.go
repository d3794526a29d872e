package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"kfdesk/api"
)

// Suggested replies (issue 15): the answers the shop's KF staff gave to similar
// customer messages, found in the archive. The exchanges (question → next reply)
// are computed while syncing (buildSuggest, from suggest_dirty), never at question
// time; a question looks up similar past questions in suggest_fts (bm25), keeps
// those similar enough (suggestMinSim), and groups and ranks their replies.

// Suggestion is one suggested reply.
type Suggestion struct {
	Text     string          // the reply as a KF worker last sent it in its most used wording
	Count    int             // how many times it (or nearly the same text) answered a similar message
	LastUsed time.Time       // when it was last sent for one
	Score    float64         // ranking score (similarity × recency, summed)
	Sources  []SuggestSource // two or three of the exchanges it comes from ("Why this?")
}

// SuggestSource is one past exchange behind a suggestion.
type SuggestSource struct {
	RecordID  int64 // the customer's message in the records (to open that conversation)
	OpenID    string
	Time      time.Time // the customer's message
	Question  string
	Reply     string
	ReplyTime time.Time
	Sim       float64 // similarity of its question to the one asked, 0–1
}

// conversationGap ends a conversation: a reply more than this after the customer's
// last message (or a message this long after the previous one) belongs to another.
const conversationGap = 30 * 60

// SuggestOptions tune Suggest; the zero value is the tuned default (docs/BENCHMARKS.md).
type SuggestOptions struct {
	Limit  int     // suggestions, default 3
	MinSim float64 // similarity a past question needs, default suggestMinSim
	Before int64   // only exchanges whose question record id is below this (benchmark hold-out); 0 = all
	OpenID string  // the customer asking: replies written to them may hold their own data
}

// suggestMinSim: below it a past question is not "similar" (tuned with BenchmarkSuggest).
const suggestMinSim = 0.45

// ---------------------------------------------------------------------------
// Normalising and terms

// foldWidth maps full-width ASCII (！ＡＢ１) to ASCII and the ideographic space to a space.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// suggestNorm is the comparable form of a message: width folded, lower-cased, runs of
// letters and digits separated by one space, everything else (punctuation, emoji) gone.
func suggestNorm(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range s {
		r = unicode.ToLower(foldWidth(r))
		if !isGramRune(r) {
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isWordRune: scripts written with spaces between words (ASCII letters, Latin, …)
// give whole words as terms; the others (Chinese) give bigrams.
func isWordRune(r rune) bool { return r < 0x2E80 }

// suggestTerms are the distinct terms of a normalised text: bigrams of Chinese runs
// (a lone character alone), lower-case words of the others. Words with five digits
// or more (order numbers like cy202611151902, phones) say nothing about the question
// and are left out.
func suggestTerms(norm string) []string {
	var out []string
	for _, run := range strings.Fields(norm) {
		rs := []rune(run)
		for i := 0; i < len(rs); {
			j := i + 1
			word := isWordRune(rs[i])
			for j < len(rs) && isWordRune(rs[j]) == word {
				j++
			}
			seg := rs[i:j]
			switch {
			case word && digits(seg) >= 5:
			case word || len(seg) == 1:
				out = append(out, string(seg))
			default:
				for k := 1; k < len(seg); k++ {
					out = append(out, string(seg[k-1:k+1]))
				}
			}
			i = j
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func digits(rs []rune) int {
	n := 0
	for _, r := range rs {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// termPrefix makes a term per account: "a7q" + term (the q ends the number: a1q1 ≠ a11q).
func termPrefix(accountID int64) string { return "a" + strconv.FormatInt(accountID, 10) + "q" }

// ftsTerms is the suggest_fts text of a question: its account's marker (every
// question has it, so its document count is the account's number of questions)
// and its prefixed terms.
func ftsTerms(accountID int64, terms []string) string {
	p := termPrefix(accountID)
	var b strings.Builder
	b.WriteString(p)
	for _, t := range terms {
		b.WriteString(" " + p + t)
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Personal data

// personalPatterns: the obvious shapes of another customer's personal data in a reply:
// a mainland mobile number, any run of 6+ digits (order, tracking, phone, ID numbers,
// codes; 8+ also with spaces or dashes inside), an e-mail address, and an address (a province or
// city followed by a district or street, or a street or building number).
var personalPatterns = []*regexp.Regexp{
	regexp.MustCompile(`1[3-9]\d{9}`),
	regexp.MustCompile(`\d{6,}`),
	regexp.MustCompile(`\d(?:[\s-]?\d){7,}`),
	regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.]+`),
	regexp.MustCompile(`\p{Han}{1,8}[省市]\p{Han}{0,12}?[区县镇路街]`),
	regexp.MustCompile(`\p{Han}{1,10}[路街道巷弄]\s*\d+\s*号`),
	regexp.MustCompile(`\d+\s*(?:号楼|栋|幢|单元|室)`),
}

// HasPersonalData reports whether text looks like it holds someone's phone number,
// order or tracking number, e-mail or address.
func HasPersonalData(text string) bool {
	t := strings.Map(foldWidth, text)
	for _, p := range personalPatterns {
		if p.MatchString(t) {
			return true
		}
	}
	return false
}

// MaskPersonalData replaces what HasPersonalData finds with ＊＊＊: for showing where
// a suggestion comes from without another customer's number or address.
func MaskPersonalData(text string) string {
	for _, p := range personalPatterns {
		text = p.ReplaceAllString(text, "＊＊＊")
	}
	return text
}

// ---------------------------------------------------------------------------
// Building the exchanges (at sync time)

// markSuggestDirty records, in a page's transaction, the customers it added messages of.
func markSuggestDirty(ctx context.Context, tx *sql.Tx, accountID int64, openids map[string]bool) error {
	if len(openids) == 0 {
		return nil
	}
	list := make([]string, 0, len(openids))
	for o := range openids {
		list = append(list, o)
	}
	js, err := json.Marshal(list)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO suggest_dirty(account_id, openid) SELECT ?, value FROM json_each(?)`, accountID, string(js))
	return err
}

// suggestChunk is how many customers one transaction of buildSuggest computes at
// most; suggestHold how long one holds the write lock at most (a push to the
// inbox waits for it meanwhile): whichever comes first ends the transaction.
const (
	suggestChunk = 500
	suggestHold  = 100 * time.Millisecond
)

// SuggestPending is how many customers' exchanges are still to be computed.
func (db *DB) SuggestPending(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM suggest_dirty WHERE account_id = ?`, accountID).Scan(&n)
	return n, err
}

// BuildSuggestIndex computes the exchanges of every customer of the account marked
// in suggest_dirty (new records since, or an archive from before issue 15), in short
// transactions, so an interruption loses nothing: the customers not done stay marked.
// A sync calls it at its end (buildSuggest, with progress).
func (db *DB) BuildSuggestIndex(ctx context.Context, accountID int64) error {
	return db.buildSuggest(ctx, accountID, suggestChunk, suggestHold, nil)
}

// buildSuggest is BuildSuggestIndex in transactions of at most chunk customers and
// about hold (0 = no limit), calling progress (if any) with the customers done of
// those to do: once before the first and after every transaction. Nothing to do
// calls it never.
func (db *DB) buildSuggest(ctx context.Context, accountID int64, chunk int, hold time.Duration, progress func(done, total int)) (err error) {
	defer func() { err = cancelCause(ctx, err) }()
	total, err := db.SuggestPending(ctx, accountID)
	if err != nil || total == 0 {
		return err
	}
	report := func(done int) {
		if progress != nil {
			progress(done, total)
		}
	}
	done := 0
	report(done)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var openids []string
		rows, err := db.r.QueryContext(ctx, `SELECT openid FROM suggest_dirty WHERE account_id = ? LIMIT ?`, accountID, chunk)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return err
			}
			openids = append(openids, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(openids) == 0 {
			if done < total { // customers forgotten meanwhile: the count ends where the work did
				total = done
				report(done)
			}
			return nil
		}
		n := 0
		if err := db.WriteTx(ctx, func(tx *sql.Tx) error {
			b, err := newSuggestBuilder(ctx, tx, accountID)
			if err != nil {
				return err
			}
			defer b.close()
			start := time.Now()
			for _, o := range openids {
				if n > 0 && hold > 0 && time.Since(start) >= hold {
					break // the rest stay marked: the next transaction takes them
				}
				if err := b.customer(o); err != nil {
					return err
				}
				n++
			}
			return nil
		}); err != nil {
			return err
		}
		done += n
		if done >= total { // customers marked meanwhile (a push stored while building)
			pending, err := db.SuggestPending(ctx, accountID)
			if err != nil {
				return err
			}
			total = done + pending
		}
		report(done)
	}
}

// suggestBuilder recomputes customers' exchanges inside one write transaction.
type suggestBuilder struct {
	ctx                                    context.Context
	tx                                     *sql.Tx
	account                                int64
	read, delEx, insQ, getQ, insFTS, insEx *sql.Stmt
	qids                                   map[string]int64
}

// customerMessagesSQL reads one customer's messages in time order. ORDER BY +id: with
// a plain id SQLite walks all the account's records in id order to save sorting one
// customer's few (a full scan per customer: 6 customers/s at 1M records).
const customerMessagesSQL = `SELECT id, time, opercode, text FROM records
	WHERE account_id = ? AND openid = ? AND opercode IN (2001, 2002, 2003) ORDER BY +id`

func newSuggestBuilder(ctx context.Context, tx *sql.Tx, accountID int64) (*suggestBuilder, error) {
	b := &suggestBuilder{ctx: ctx, tx: tx, account: accountID, qids: map[string]int64{}}
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&b.read, customerMessagesSQL},
		{&b.delEx, `DELETE FROM suggest_exchanges WHERE account_id = ? AND openid = ?`},
		{&b.insQ, `INSERT INTO suggest_questions(account_id, norm) VALUES (?, ?) ON CONFLICT DO NOTHING`},
		{&b.getQ, `SELECT id FROM suggest_questions WHERE account_id = ? AND norm = ?`},
		{&b.insFTS, `INSERT INTO suggest_fts(rowid, terms) VALUES (?, ?)`},
		{&b.insEx, `INSERT INTO suggest_exchanges(question_rec, account_id, openid, qid, reply_rec) VALUES (?, ?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, s.q)
		if err != nil {
			b.close()
			return nil, err
		}
		*s.st = st
	}
	return b, nil
}

func (b *suggestBuilder) close() {
	for _, st := range []*sql.Stmt{b.read, b.delEx, b.insQ, b.getQ, b.insFTS, b.insEx} {
		if st != nil {
			st.Close()
		}
	}
}

type exchangeRec struct {
	id, time int64
	in       bool
	text     string
}

// Exchange is a customer's message and the KF reply that answered it.
type exchange struct{ question, reply exchangeRec }

// exchanges pairs, in one customer's in/out records in time order, every customer
// message with the next KF reply of the same conversation: several messages before
// one reply all get that reply; a gap over conversationGap between two records
// ends the conversation; a reply without text (an image) answers but is not kept.
func exchanges(recs []exchangeRec) []exchange {
	var out []exchange
	var waiting []exchangeRec
	var last int64
	for i, r := range recs {
		if i > 0 && r.time-last > conversationGap {
			waiting = waiting[:0]
		}
		last = r.time
		if r.in {
			if suggestNorm(r.text) != "" {
				waiting = append(waiting, r)
			}
			continue
		}
		if strings.TrimSpace(r.text) != "" {
			for _, q := range waiting {
				out = append(out, exchange{q, r})
			}
		}
		waiting = waiting[:0]
	}
	return out
}

// customer recomputes one customer's exchanges and clears the mark.
func (b *suggestBuilder) customer(openid string) error {
	rows, err := b.read.QueryContext(b.ctx, b.account, openid)
	if err != nil {
		return err
	}
	var recs []exchangeRec
	for rows.Next() {
		var r exchangeRec
		var code int
		if err := rows.Scan(&r.id, &r.time, &code, &r.text); err != nil {
			rows.Close()
			return err
		}
		r.in = api.OperCodeDirection(code) == api.DirIn
		recs = append(recs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := b.delEx.ExecContext(b.ctx, b.account, openid); err != nil {
		return err
	}
	for _, e := range exchanges(recs) {
		qid, err := b.question(suggestNorm(e.question.text))
		if err != nil {
			return err
		}
		if _, err := b.insEx.ExecContext(b.ctx, e.question.id, b.account, openid, qid, e.reply.id); err != nil {
			return err
		}
	}
	_, err = b.tx.ExecContext(b.ctx, `DELETE FROM suggest_dirty WHERE account_id = ? AND openid = ?`, b.account, openid)
	return err
}

// question returns the id of a normalised question, adding it (and its index entry) if new.
func (b *suggestBuilder) question(norm string) (int64, error) {
	if id, ok := b.qids[norm]; ok {
		return id, nil
	}
	res, err := b.insQ.ExecContext(b.ctx, b.account, norm)
	if err != nil {
		return 0, err
	}
	var id int64
	if n, _ := res.RowsAffected(); n == 1 {
		if id, err = res.LastInsertId(); err != nil {
			return 0, err
		}
		if _, err := b.insFTS.ExecContext(b.ctx, id, ftsTerms(b.account, suggestTerms(norm))); err != nil {
			return 0, err
		}
	} else if err := b.getQ.QueryRowContext(b.ctx, b.account, norm).Scan(&id); err != nil {
		return 0, err
	}
	b.qids[norm] = id
	return id, nil
}

// ---------------------------------------------------------------------------
// Finding (at question time)

// suggestCandidates is how many past questions bm25 hands to the similarity check.
const suggestCandidates = 40

// questionsRead similar questions (the most similar) give their newest
// exchangesPerQuestion exchanges: what a suggestion's count and sources are made of.
// Reading more cost most of the time at 1M records (p50 47 ms with 40 × 50).
const (
	questionsRead        = 12
	exchangesPerQuestion = 25
)

// recencyHalfLife halves an exchange's weight per this much age.
const recencyHalfLife = 60 * 24 * time.Hour

// maxSuggestText bounds the characters of a message looked at.
const maxSuggestText = 300

// Suggest returns up to three replies for a customer's message text, from the
// account's past exchanges; none when no past question is similar enough.
func (db *DB) Suggest(ctx context.Context, accountID int64, text string, now time.Time, o SuggestOptions) ([]Suggestion, error) {
	if o.Limit <= 0 {
		o.Limit = 3
	}
	if o.MinSim <= 0 {
		o.MinSim = suggestMinSim
	}
	if r := []rune(text); len(r) > maxSuggestText { // a pasted essay: its start says what it is about
		text = string(r[:maxSuggestText])
	}
	qTerms := suggestTerms(suggestNorm(text))
	if len(qTerms) == 0 {
		return nil, nil
	}
	var out []Suggestion
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		w, known, err := termWeights(ctx, tx, accountID, qTerms)
		if err != nil {
			return err
		}
		look := lookupTerms(qTerms, w, known)
		if len(look) == 0 {
			return nil // no word of it was ever in a question
		}
		cands, err := similarQuestions(ctx, tx, accountID, look, qTerms, w, o.MinSim)
		if err != nil || len(cands) == 0 {
			return err
		}
		// The most similar ones are read: a common question has hundreds of wordings.
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].sim > cands[j].sim })
		cands = cands[:min(len(cands), questionsRead)]
		var exs []pastExchange
		seen := map[string]replyCheck{}
		for _, c := range cands {
			e, err := questionExchanges(ctx, tx, c, o, seen)
			if err != nil {
				return err
			}
			exs = append(exs, e...)
		}
		out = rankReplies(exs, now, o.Limit)
		return sourceQuestions(ctx, tx, out)
	})
	return out, err
}

// termWeights are the query terms' inverse document frequencies among the account's
// questions (fts5vocab, no scan): common words (吗, 请问) weigh little, a term no
// question has weighs most — a question about something never asked stays unmatched.
// seen: the terms some question has.
func termWeights(ctx context.Context, tx *sql.Tx, accountID int64, terms []string) (w map[string]float64, seen map[string]bool, err error) {
	p := termPrefix(accountID)
	keys := []string{p}
	for _, t := range terms {
		keys = append(keys, p+t)
	}
	// One term = ? lookup each: fts5vocab reads only that term's doclist then, while
	// an IN (…) walks the whole vocabulary (p95 156 ms at 1M records).
	st, err := tx.PrepareContext(ctx, `SELECT doc FROM suggest_vocab WHERE term = ?`)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	df := map[string]float64{}
	for _, k := range keys {
		var n float64
		switch err := st.QueryRowContext(ctx, k).Scan(&n); {
		case err == nil:
			df[k] = n
		case !errors.Is(err, sql.ErrNoRows):
			return nil, nil, err
		}
	}
	total := df[p]
	w, seen = map[string]float64{}, map[string]bool{}
	for _, t := range terms {
		w[t] = math.Log((total + 1) / (df[p+t] + 0.5))
		if w[t] < 0.05 {
			w[t] = 0.05
		}
		seen[t] = df[p+t] > 0
	}
	return w, seen, nil
}

type candidate struct {
	qid  int64
	norm string
	sim  float64
}

// similarQuestions: the account's past questions having one of the look terms
// (lookupTerms), best bm25 first, that are similar enough to the asked one's terms
// by weighted overlap (similarity).
func similarQuestions(ctx context.Context, tx *sql.Tx, accountID int64, look, qTerms []string, w map[string]float64, minSim float64) ([]candidate, error) {
	p := termPrefix(accountID)
	var match strings.Builder
	for _, t := range look {
		if match.Len() > 0 {
			match.WriteString(" OR ")
		}
		match.WriteString(`"` + p + strings.ReplaceAll(t, `"`, `""`) + `"`)
	}
	rows, err := tx.QueryContext(ctx, `SELECT f.rowid, q.norm FROM (SELECT rowid, rank FROM suggest_fts WHERE suggest_fts MATCH ? ORDER BY rank LIMIT ?) f
		JOIN suggest_questions q ON q.id = f.rowid ORDER BY f.rank`, match.String(), suggestCandidates)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.qid, &c.norm); err != nil {
			return nil, err
		}
		if c.sim = similarity(qTerms, suggestTerms(c.norm), w); c.sim >= minSim {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// commonWeight: a term in more than about a quarter of the questions (吗, 请问 in a
// big archive) has a weight below it. Its long doclist makes the bm25 query slow
// and finds nothing the rarer terms miss, so it is left out of the MATCH (not of
// the similarity) when the message has a rarer one that some question has. A term no
// question has finds nothing: left to it alone, a known question with one new
// character (请问什么时候发货呀 after 请问什么时候发货) was never found.
const commonWeight = 1.386 // ln 4

func lookupTerms(terms []string, w map[string]float64, seen map[string]bool) []string {
	var rare, known []string
	for _, t := range terms {
		if !seen[t] {
			continue
		}
		known = append(known, t)
		if w[t] >= commonWeight {
			rare = append(rare, t)
		}
	}
	if len(rare) == 0 {
		return known
	}
	return rare
}

// similarity of two term sets, 0–1: the weighted shares of each set the other covers
// (geometric mean, see queryCoverage), where a candidate's terms the question lacks
// weigh as much as the question's average term.
func similarity(q, c []string, w map[string]float64) float64 {
	var wq, common float64
	shared := 0
	for _, t := range q {
		wq += w[t]
		if _, ok := slices.BinarySearch(c, t); ok {
			common += w[t]
			shared++
		}
	}
	if common == 0 {
		return 0
	}
	avg := wq / float64(len(q))
	wc := common + float64(len(c)-shared)*avg
	covQ, covC := common/wq, common/wc
	if covC < minCandidateCoverage {
		return 0 // a word or two found inside a longer question ("请问" in every 请问…)
	}
	return math.Pow(covQ, queryCoverage) * math.Pow(covC, 1-queryCoverage)
}

// minCandidateCoverage: at least this share of a past question must be in the message.
const minCandidateCoverage = 0.3

// queryCoverage weighs how much of the asked message a past question covers against
// how much of the past question the message covers: a short message inside a longer
// past one ("什么时候发货" in "我昨天下的单，什么时候发货？订单号 …") is the same question.
const queryCoverage = 0.7

// sourceQuestions fills in the text of the customer messages the suggestions cite.
func sourceQuestions(ctx context.Context, tx *sql.Tx, ss []Suggestion) error {
	for i := range ss {
		for j := range ss[i].Sources {
			src := &ss[i].Sources[j]
			if err := tx.QueryRowContext(ctx, `SELECT text FROM records WHERE id = ?`, src.RecordID).Scan(&src.Question); err != nil {
				return err
			}
		}
	}
	return nil
}

type replyCheck struct {
	norm     string
	personal bool
}

type pastExchange struct {
	SuggestSource
	norm string // of the reply
}

// questionExchanges reads the newest exchanges of a similar question, skipping
// replies to another customer that hold personal data (that customer's).
func questionExchanges(ctx context.Context, tx *sql.Tx, c candidate, o SuggestOptions, seen map[string]replyCheck) ([]pastExchange, error) {
	before := o.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	// Times come from the ids (time<<idShift | n, records.go); the question's text only
	// for the few sources shown (sourceQuestions).
	rows, err := tx.QueryContext(ctx, `SELECT e.question_rec, e.openid, e.reply_rec, r.text FROM suggest_exchanges e
		JOIN records r ON r.id = e.reply_rec
		WHERE e.qid = ? AND e.question_rec < ? ORDER BY e.reply_rec DESC LIMIT ?`, c.qid, before, exchangesPerQuestion)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pastExchange
	for rows.Next() {
		var e pastExchange
		var rid int64
		if err := rows.Scan(&e.RecordID, &e.OpenID, &rid, &e.Reply); err != nil {
			return nil, err
		}
		chk, ok := seen[e.Reply] // the same replies come back many times: check each once
		if !ok {
			chk = replyCheck{suggestNorm(e.Reply), HasPersonalData(e.Reply)}
			seen[e.Reply] = chk
		}
		if chk.personal && e.OpenID != o.OpenID {
			continue
		}
		e.Time, e.ReplyTime, e.Sim = time.Unix(e.RecordID>>idShift, 0), time.Unix(rid>>idShift, 0), c.sim
		if e.norm = chk.norm; e.norm != "" {
			out = append(out, e)
		}
	}
	return out, rows.Err()
}

// replySim is how alike two normalised replies must be (Dice of character bigrams)
// to count as one suggestion: "好的，马上为您发货～" and "好的 马上为您发货" are one.
const replySim = 0.8

type replyGroup struct {
	Suggestion
	bigrams map[string]bool
	texts   map[string]int
	members []pastExchange
}

// rankReplies groups the replies of the similar questions (the same or nearly the
// same text) and ranks the groups by their summed weight: each exchange weighs its
// question's similarity, halved per recencyHalfLife of age.
func rankReplies(exs []pastExchange, now time.Time, limit int) []Suggestion {
	// Most similar and newest first: a group's first member names it.
	sort.SliceStable(exs, func(i, j int) bool {
		if exs[i].Sim != exs[j].Sim {
			return exs[i].Sim > exs[j].Sim
		}
		return exs[i].ReplyTime.After(exs[j].ReplyTime)
	})
	var groups []*replyGroup
	byNorm := map[string]*replyGroup{}
	for _, e := range exs {
		g := byNorm[e.norm]
		if g == nil {
			bg := charBigrams(e.norm)
			for _, o := range groups {
				if dice(bg, o.bigrams) >= replySim {
					g = o
					break
				}
			}
			if g == nil {
				g = &replyGroup{bigrams: bg, texts: map[string]int{}}
				groups = append(groups, g)
			}
			byNorm[e.norm] = g
		}
		age := now.Sub(e.ReplyTime)
		g.Score += e.Sim * math.Exp2(-max(age, 0).Hours()/recencyHalfLife.Hours())
		g.Count++
		g.texts[e.Reply]++
		if e.ReplyTime.After(g.LastUsed) {
			g.LastUsed = e.ReplyTime
		}
		g.members = append(g.members, e)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Score > groups[j].Score })
	var out []Suggestion
	for _, g := range groups[:min(limit, len(groups))] {
		best := 0
		for t, n := range g.texts {
			if n > best || (n == best && t < g.Text) {
				g.Text, best = t, n
			}
		}
		seen := map[string]bool{}
		for _, m := range g.members { // different customers where there are
			if len(g.Sources) < 3 && !seen[m.OpenID] {
				seen[m.OpenID] = true
				g.Sources = append(g.Sources, m.SuggestSource)
			}
		}
		out = append(out, g.Suggestion)
	}
	return out
}

func charBigrams(norm string) map[string]bool {
	rs := []rune(strings.ReplaceAll(norm, " ", ""))
	out := map[string]bool{}
	if len(rs) == 1 {
		out[string(rs)] = true
	}
	for i := 1; i < len(rs); i++ {
		out[string(rs[i-1:i+1])] = true
	}
	return out
}

func dice(a, b map[string]bool) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}
