package urgent

import (
	"fmt"
	"math/bits"
	"strings"
)

// The rule language, one pattern per string:
//
//	chest ..3 (pain|hurt*|tight*) !(xray)
//
//	word       a literal word; matched exactly or, in flag rules and for
//	           words of four letters or more, as a likely misspelling
//	=word      a literal word matched exactly only
//	^WORD      matches only when written in capitals ("SOB", "TIA", "HI")
//	pre*       any word starting with pre
//	#num       any number; #many a whole number >= 10; #year 1900..2035
//	(a|b c|d)  alternatives, each a sequence of atoms
//	x?         optional element
//	@name      a named group from groups (expanded textually)
//	..N        up to N arbitrary tokens before the next element (same sentence)
//	!x !(a|b)  the next token must not match (only at the end of a pattern)
//
// Alternations and optional elements are expanded at compile time into flat
// sequences of token sets, so matching is a small bounded search.

const maxElems = 12

type atomKind uint8

const (
	atomWord atomKind = iota
	atomExact
	atomCaps
	atomPrefix
	atomNum
	atomMany
	atomYear
)

type atom struct {
	kind atomKind
	s    string
}

type item struct {
	alts     [][]atom
	optional bool
	gap      int
	notNext  bool
}

// bitset over vocabulary ids.
type bitset []uint64

func (b bitset) has(id int32) bool { return b[id>>6]&(1<<(uint(id)&63)) != 0 }
func (b bitset) set(id int32)      { b[id>>6] |= 1 << (uint(id) & 63) }

type elem struct {
	set     bitset
	gap     int
	notNext bool
}

type rule struct {
	elems []elem
	kind  ruleKind
	flag  Flag
	src   string
}

type ruleKind uint8

// vocab maps token text to term ids.
type vocab struct {
	ids      map[string]int32         // literal and exact words
	caps     map[string]int32         // capitals-only words, keyed lower case
	fuzzy    map[uint64][]int32       // hash of a word or of one of its one-letter deletions
	prefixes map[string][]prefixEntry // keyed by the first three bytes
	words    []string
	fuzzyOK  []bool
	numID    int32
	manyID   int32
	yearID   int32
}

type prefixEntry struct {
	p  string
	id int32
}

func newVocab() *vocab {
	v := &vocab{
		ids:      map[string]int32{},
		caps:     map[string]int32{},
		fuzzy:    map[uint64][]int32{},
		prefixes: map[string][]prefixEntry{},
	}
	v.numID = v.add("#num")
	v.manyID = v.add("#many")
	v.yearID = v.add("#year")
	return v
}

func (v *vocab) add(key string) int32 {
	id := int32(len(v.words))
	v.words = append(v.words, key)
	v.fuzzyOK = append(v.fuzzyOK, false)
	return id
}

// idFor returns the id of an atom, registering it on first use.
func (v *vocab) idFor(a atom, fuzzy bool) int32 {
	switch a.kind {
	case atomNum:
		return v.numID
	case atomMany:
		return v.manyID
	case atomYear:
		return v.yearID
	case atomCaps:
		if id, ok := v.caps[a.s]; ok {
			return id
		}
		id := v.add("^" + a.s)
		v.caps[a.s] = id
		return id
	case atomPrefix:
		key := a.s[:min(3, len(a.s))]
		for _, e := range v.prefixes[key] {
			if e.p == a.s {
				return e.id
			}
		}
		id := v.add(a.s + "*")
		v.prefixes[key] = append(v.prefixes[key], prefixEntry{a.s, id})
		return id
	}
	id, ok := v.ids[a.s]
	if !ok {
		id = v.add(a.s)
		v.ids[a.s] = id
	}
	if fuzzy && a.kind == atomWord && len(a.s) >= 4 && isASCIIWord(a.s) {
		v.fuzzyOK[id] = true
	}
	return id
}

func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// buildFuzzy indexes every fuzzy-eligible word and its one-letter deletions
// (symmetric delete: two words within one edit share a key).
func (v *vocab) buildFuzzy() {
	for id, ok := range v.fuzzyOK {
		if !ok {
			continue
		}
		w := v.words[id]
		h := skipHash(w, -1)
		v.fuzzy[h] = appendUnique(v.fuzzy[h], int32(id))
		for i := 0; i < len(w); i++ {
			h := skipHash(w, i)
			v.fuzzy[h] = appendUnique(v.fuzzy[h], int32(id))
		}
	}
}

func appendUnique(s []int32, id int32) []int32 {
	for _, x := range s {
		if x == id {
			return s
		}
	}
	return append(s, id)
}

// skipHash is the FNV-1a hash of s without the byte at skip (-1: all of s).
// Candidates are always confirmed by misspelt, so collisions only cost time.
func skipHash(s string, skip int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		if i != skip {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
	}
	n := len(s)
	if skip >= 0 && skip < len(s) {
		n--
	}
	return h ^ uint64(n)
}

// commonWords are frequent words that are never read as misspellings; they
// only save time (the misspelling check would reject most of them anyway).
var commonWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`about after again also been before being both came come could does done down each even
		every from gets give goes going good got have having here into just know last like look
		made make many more most much need next only other over said same should show since some
		still such take than thank thanks that their them then there these they thing think this
		those though through time today told tomorrow under very want week weeks well went were
		what when where which while will with would year your yours appointment insurance refill
		please pharmacy doctor morning evening tuesday monday wednesday thursday friday saturday
		sunday january february march april june july august september october november december
		visit follow hope nice weekend dose seems working readings talked evenings happen
		medication send street card bring name number email phone call back office front desk
		schedule`) {
		commonWords[w] = true
	}
}

// fuzzyBlock lists real words one edit away from a rule word that must never
// be read as that rule word.
var fuzzyBlock = map[string]bool{
	"strobe": true, "strike": true, "strode": true, "stoke": true, "stokes": true,
	"overdone": true, "cooking": true, "cooked": true, "bleeping": true, "breeding": true,
	"heating": true, "breach": true, "deaf": true,
	"dread": true, "bloom": true, "chase": true, "chess": true, "painting": true, "painted": true,
	"smelling": true, "spelling": true, "dwelling": true, "selling": true, "telling": true,
	"trout": true,
}

// misspelt reports whether tok is word with one adjacent transposition, one
// inserted or deleted letter, or (for words of six letters or more) one
// substituted letter. The first letter must match unless it was transposed.
func misspelt(word, tok string) bool {
	lw, lt := len(word), len(tok)
	switch {
	case lt == lw:
		diff, first := 0, -1
		for i := 0; i < lw; i++ {
			if word[i] != tok[i] {
				if diff == 0 {
					first = i
				}
				diff++
				if diff > 2 {
					return false
				}
			}
		}
		if diff == 2 {
			return first+1 < lw && word[first] == tok[first+1] && word[first+1] == tok[first]
		}
		return diff == 1 && lw >= 6 && first > 0
	case lt == lw+1: // inserted letter
		if tok[0] != word[0] {
			return false
		}
		i := 0
		for i < lw && word[i] == tok[i] {
			i++
		}
		return word[i:] == tok[i+1:]
	case lt == lw-1: // dropped letter
		if lw < 5 || tok[0] != word[0] {
			return false
		}
		i := 0
		for i < lt && word[i] == tok[i] {
			i++
		}
		return word[i+1:] == tok[i:]
	}
	return false
}

// classify appends the ids token t matches to ids.
func (v *vocab) classify(t *token, ids []int32) []int32 {
	switch t.kind {
	case tkNum:
		ids = append(ids, v.numID)
		if t.num >= 10 && t.num == float64(int64(t.num)) {
			ids = append(ids, v.manyID)
			if t.num >= 1900 && t.num <= 2035 {
				ids = append(ids, v.yearID)
			}
		}
		if id, ok := v.ids[t.text]; ok {
			ids = append(ids, id)
		}
		return ids
	case tkRatio, tkTime:
		return ids
	}
	s := t.text
	exact := false
	if id, ok := v.ids[s]; ok {
		ids = append(ids, id)
		exact = true
	}
	if t.upper {
		if id, ok := v.caps[s]; ok {
			ids = append(ids, id)
		}
	}
	if len(s) >= 3 {
		for _, e := range v.prefixes[s[:3]] {
			if strings.HasPrefix(s, e.p) {
				ids = append(ids, e.id)
			}
		}
	}
	if exact || len(s) < 4 || len(s) > 24 || !isASCIIWord(s) || commonWords[s] || fuzzyBlock[s] {
		return ids
	}
	// Unknown word: look for a rule word one edit away.
	n0 := len(ids)
	check := func(cands []int32) {
		for _, id := range cands {
			if misspelt(v.words[id], s) {
				dup := false
				for _, x := range ids[n0:] {
					dup = dup || x == id
				}
				if !dup {
					ids = append(ids, id)
				}
			}
		}
	}
	check(v.fuzzy[skipHash(s, -1)])
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i] == s[i-1] {
			continue // deleting either of a double letter gives the same string
		}
		check(v.fuzzy[skipHash(s, i)])
	}
	return ids
}

// ---- parsing and expansion

type parseError struct{ pattern, msg string }

func (e *parseError) Error() string { return fmt.Sprintf("urgent: rule %q: %s", e.pattern, e.msg) }

func expandGroups(p string, groups map[string]string) (string, error) {
	for depth := 0; strings.Contains(p, "@"); depth++ {
		if depth > 5 {
			return "", &parseError{p, "group nesting too deep"}
		}
		var b strings.Builder
		for i := 0; i < len(p); i++ {
			if p[i] != '@' {
				b.WriteByte(p[i])
				continue
			}
			j := i + 1
			for j < len(p) && (p[j] >= 'a' && p[j] <= 'z' || p[j] == '_') {
				j++
			}
			g, ok := groups[p[i+1:j]]
			if !ok {
				return "", &parseError{p, "unknown group " + p[i+1:j]}
			}
			b.WriteString(g)
			i = j - 1
		}
		p = b.String()
	}
	return p, nil
}

func parseAtom(w string) (atom, error) {
	switch {
	case w == "#num":
		return atom{kind: atomNum}, nil
	case w == "#many":
		return atom{kind: atomMany}, nil
	case w == "#year":
		return atom{kind: atomYear}, nil
	case strings.HasPrefix(w, "="):
		return atom{kind: atomExact, s: w[1:]}, nil
	case strings.HasPrefix(w, "^"):
		return atom{kind: atomCaps, s: strings.ToLower(w[1:])}, nil
	case strings.HasSuffix(w, "*"):
		if len(w) < 4 {
			return atom{}, fmt.Errorf("prefix %q too short", w)
		}
		return atom{kind: atomPrefix, s: w[:len(w)-1]}, nil
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '%') {
			return atom{}, fmt.Errorf("bad word %q", w)
		}
	}
	if w == "" {
		return atom{}, fmt.Errorf("empty word")
	}
	return atom{kind: atomWord, s: w}, nil
}

func parsePattern(p string) ([]item, error) {
	var items []item
	gap := 0
	fields := splitTop(p)
	for _, f := range fields {
		if strings.HasPrefix(f, "..") {
			if len(items) == 0 {
				return nil, &parseError{p, "pattern starts with a gap"}
			}
			n := 0
			for _, c := range f[2:] {
				if c < '0' || c > '9' {
					return nil, &parseError{p, "bad gap " + f}
				}
				n = n*10 + int(c-'0')
			}
			gap += n
			continue
		}
		it := item{gap: gap}
		gap = 0
		if strings.HasPrefix(f, "!") {
			it.notNext = true
			f = f[1:]
		}
		if strings.HasSuffix(f, "?") {
			it.optional = true
			f = f[:len(f)-1]
		}
		body := f
		if strings.HasPrefix(f, "(") {
			if !strings.HasSuffix(f, ")") {
				return nil, &parseError{p, "unbalanced " + f}
			}
			body = f[1 : len(f)-1]
		}
		for _, alt := range strings.Split(body, "|") {
			var seq []atom
			for _, w := range strings.Fields(alt) {
				a, err := parseAtom(w)
				if err != nil {
					return nil, &parseError{p, err.Error()}
				}
				seq = append(seq, a)
			}
			if len(seq) == 0 {
				return nil, &parseError{p, "empty alternative"}
			}
			if it.notNext && len(seq) != 1 {
				return nil, &parseError{p, "lookahead alternatives must be single words"}
			}
			it.alts = append(it.alts, seq)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, &parseError{p, "empty pattern"}
	}
	if items[0].optional || items[0].notNext {
		return nil, &parseError{p, "first element must be required"}
	}
	for i, it := range items {
		if it.notNext && i != len(items)-1 {
			return nil, &parseError{p, "lookahead must come last"}
		}
	}
	if gap != 0 {
		return nil, &parseError{p, "trailing gap"}
	}
	return items, nil
}

// splitTop splits on spaces outside parentheses.
func splitTop(p string) []string {
	var out []string
	depth, start := 0, -1
	for i := 0; i <= len(p); i++ {
		if i == len(p) || (p[i] == ' ' && depth == 0) {
			if start >= 0 {
				out = append(out, p[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
		switch p[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	return out
}

// flatAtom is one position of an expanded pattern before ids are assigned.
type flatAtom struct {
	atoms   []atom // alternatives for this position
	gap     int
	notNext bool
}

// expand turns items into flat sequences. Single-atom alternatives of an
// item share one position; each multi-atom alternative gets its own
// sequence; an optional item adds a sequence without it.
func expand(items []item) [][]flatAtom {
	seqs := [][]flatAtom{nil}
	carry := []int{0} // pending gap per sequence (from skipped optional items)
	for _, it := range items {
		var next [][]flatAtom
		var nextCarry []int
		var singles []atom
		var multis [][]atom
		for _, alt := range it.alts {
			if len(alt) == 1 {
				singles = append(singles, alt[0])
			} else {
				multis = append(multis, alt)
			}
		}
		for si, s := range seqs {
			g := it.gap + carry[si]
			if len(singles) > 0 {
				ns := append(append([]flatAtom(nil), s...), flatAtom{atoms: singles, gap: g, notNext: it.notNext})
				next = append(next, ns)
				nextCarry = append(nextCarry, 0)
			}
			for _, m := range multis {
				ns := append([]flatAtom(nil), s...)
				for k, a := range m {
					gg := 0
					if k == 0 {
						gg = g
					}
					ns = append(ns, flatAtom{atoms: []atom{a}, gap: gg})
				}
				next = append(next, ns)
				nextCarry = append(nextCarry, 0)
			}
			if it.optional {
				next = append(next, s)
				nextCarry = append(nextCarry, g)
			}
		}
		seqs, carry = next, nextCarry
	}
	return seqs
}

// ruleSpec is a rule before compilation.
type ruleSpec struct {
	kind    ruleKind
	flag    Flag
	pattern string
	fuzzy   bool
}

// compileRules parses, expands and assigns ids. Bitsets are sized after all
// rules are registered so that every set covers the whole vocabulary.
func compileRules(v *vocab, specs []ruleSpec, groups map[string]string) ([]rule, error) {
	type pending struct {
		spec ruleSpec
		flat [][]int32
		gaps []int
		nn   []bool
	}
	var ps []pending
	for _, sp := range specs {
		p, err := expandGroups(sp.pattern, groups)
		if err != nil {
			return nil, err
		}
		items, err := parsePattern(p)
		if err != nil {
			return nil, err
		}
		for _, seq := range expand(items) {
			if len(seq) > maxElems {
				return nil, &parseError{sp.pattern, "too many elements"}
			}
			var pd pending
			pd.spec = sp
			for _, fa := range seq {
				var ids []int32
				for _, a := range fa.atoms {
					ids = append(ids, v.idFor(a, sp.fuzzy))
				}
				pd.flat = append(pd.flat, ids)
				pd.gaps = append(pd.gaps, fa.gap)
				pd.nn = append(pd.nn, fa.notNext)
			}
			ps = append(ps, pd)
		}
	}
	words := (len(v.words) + 63) / 64
	out := make([]rule, 0, len(ps))
	for _, pd := range ps {
		r := rule{kind: pd.spec.kind, flag: pd.spec.flag, src: pd.spec.pattern}
		for k, ids := range pd.flat {
			e := elem{set: make(bitset, words), gap: pd.gaps[k], notNext: pd.nn[k]}
			for _, id := range ids {
				e.set.set(id)
			}
			r.elems = append(r.elems, e)
		}
		out = append(out, r)
	}
	return out, nil
}

// resize grows every bitset to the final vocabulary size.
func resizeRules(rs []rule, nwords int) {
	n := (nwords + 63) / 64
	for i := range rs {
		for k := range rs[i].elems {
			if len(rs[i].elems[k].set) < n {
				s := make(bitset, n)
				copy(s, rs[i].elems[k].set)
				rs[i].elems[k].set = s
			}
		}
	}
}

// index maps each vocabulary id to the rules whose first element it can start.
func indexRules(rs []rule, nwords int) [][]int32 {
	idx := make([][]int32, nwords)
	for ri, r := range rs {
		for w, word := range r.elems[0].set {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &^= 1 << uint(b)
				id := w*64 + b
				idx[id] = append(idx[id], int32(ri))
			}
		}
	}
	return idx
}

// ---- matching

type match struct {
	start, end int32 // token span [start, end)
	pos        [maxElems]int32
	n          int8
}

func (e *elem) matches(ids []int32) bool {
	for _, id := range ids {
		if e.set.has(id) {
			return true
		}
	}
	return false
}

// try matches rule r starting at token start; on success m holds the span
// and the positions of the matched elements.
func try(r *rule, toks []token, ids []int32, start int, m *match) bool {
	m.pos[0] = int32(start)
	end, ok := step(r, toks, ids, 1, start, m)
	if !ok {
		return false
	}
	m.start, m.end = int32(start), int32(end)
	return true
}

func tokIDs(t *token, ids []int32) []int32 { return ids[t.idOff : t.idOff+t.idLen] }

func step(r *rule, toks []token, ids []int32, k, prev int, m *match) (int, bool) {
	if k == len(r.elems) {
		m.n = int8(k)
		return prev + 1, true
	}
	e := &r.elems[k]
	sent := toks[prev].sent
	if e.notNext {
		j := prev + 1
		if j < len(toks) && toks[j].sent == sent && e.matches(tokIDs(&toks[j], ids)) {
			return 0, false
		}
		m.n = int8(k)
		return prev + 1, true
	}
	for j := prev + 1; j <= prev+1+e.gap && j < len(toks); j++ {
		if toks[j].sent != sent {
			break
		}
		if e.matches(tokIDs(&toks[j], ids)) {
			m.pos[k] = int32(j)
			if end, ok := step(r, toks, ids, k+1, j, m); ok {
				return end, true
			}
		}
	}
	return 0, false
}
