package urgent

import "sort"

// evaluator decides whether a flag match is cancelled by its context. All
// of its lookups are bounded: cue hits are sorted by start, so windows are
// found by binary search, and clause- or sentence-wide cues are kept as
// bit masks. A long message costs linear time, however it is built.
type evaluator struct {
	toks       []token
	hits       []cueHit // sorted by start
	live       []bool
	immune     []bool
	clauseMask []uint32 // kinds of live cues starting in each clause
	sentMask   []uint32 // … in each sentence
	startMask  []uint32 // … at each token
}

const (
	negWindow     = 6  // tokens between a negation and the term it negates
	negListWindow = 10 // … when the term is a later item of a comma list ending in "or"
	postWindow    = 5  // tokens between a term and "is gone"
	hypoWindow    = 6  // tokens between "if"/"risk of" and the term
	maxCueLen     = 12 // no negation, hypothetical or benign cue is longer
	listScan      = 30 // how far to look for the "or" that closes a list
)

func bit(k ruleKind) uint32 { return 1 << uint(k) }

func grow(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func (e *evaluator) init(toks []token, hits []cueHit, immune []bool) {
	e.toks, e.hits, e.immune = toks, hits, immune
	if cap(e.live) < len(hits) {
		e.live = make([]bool, len(hits))
	}
	e.live = e.live[:len(hits)]
	for j := range e.live {
		e.live[j] = true
	}
	e.cancelPseudo()
	last := &toks[len(toks)-1]
	e.clauseMask = grow(e.clauseMask, int(last.clause)+1)
	e.sentMask = grow(e.sentMask, int(last.sent)+1)
	e.startMask = grow(e.startMask, len(toks))
	for j, h := range hits {
		if !e.live[j] {
			continue
		}
		t := &toks[h.start]
		e.clauseMask[t.clause] |= bit(h.kind)
		e.sentMask[t.sent] |= bit(h.kind)
		e.startMask[h.start] |= bit(h.kind)
	}
}

// first returns the index of the first hit starting at or after token tok.
func (e *evaluator) first(tok int) int {
	return sort.Search(len(e.hits), func(k int) bool { return int(e.hits[k].start) >= tok })
}

// cancelPseudo: a pseudo cue cancels the cues of its kind that start inside
// it ("not sure" is no negation, "even if" is not hypothetical).
func (e *evaluator) cancelPseudo() {
	for _, p := range e.hits {
		var target ruleKind
		switch p.kind {
		case kPseudoNeg:
			target = kNeg
		case kPseudoPost:
			target = kPost
		case kPseudoHypo:
			target = kHypo
		case kPseudoHist:
			target = kHist
		default:
			continue
		}
		for j := e.first(int(p.start)); j < len(e.hits) && e.hits[j].start < p.end; j++ {
			if e.hits[j].kind == target {
				e.live[j] = false
			}
		}
	}
}

func (e *evaluator) clauseHas(kind ruleKind, clause int32) bool {
	return e.clauseMask[clause]&bit(kind) != 0
}

func (e *evaluator) sentenceHas(kind ruleKind, sent int32) bool {
	return e.sentMask[sent]&bit(kind) != 0
}

// suppressed reports whether the match m is negated, resolved, hypothetical,
// historical or part of a benign fixed phrase.
func (e *evaluator) suppressed(m *match, f Flag) bool {
	toks := e.toks
	start, end := int(m.start), int(m.end)
	clause := toks[start].clause
	immune := e.immune[flagIndex(f)]
	for j := e.first(start - negListWindow - maxCueLen); j < len(e.hits); j++ {
		h := e.hits[j]
		hs, he := int(h.start), int(h.end)
		if hs > end+postWindow {
			break
		}
		if !e.live[j] {
			continue
		}
		switch h.kind {
		case kNeg:
			if he <= start && toks[hs].clause == clause && !e.newSubject(he, start) {
				gap := start - he
				if toks[hs].seg == toks[start].seg {
					if gap <= negWindow {
						return true
					}
				} else if gap <= negListWindow && e.inheritsNegation(hs, start) {
					return true
				}
			}
			if hs > start && hs < end && !m.isElem(hs) {
				return true
			}
		case kPost:
			if hs >= end && hs-end <= postWindow && e.resolves(end, hs) && !e.sentenceHas(kRecur, toks[start].sent) {
				return true
			}
		case kHypo:
			if !immune && he <= start && start-he <= hypoWindow && toks[hs].clause == clause {
				return true
			}
		case kBenign:
			if f != FlagCrisisMeasurement && hs < end && he > start {
				return true
			}
		}
	}
	if immune || !e.clauseHas(kHist, clause) {
		return false
	}
	return !e.clauseHas(kRecent, clause) && !e.sentenceHas(kRecur, toks[start].sent)
}

// subjects start a new finite clause: "if I don't get my meds I'll kill
// myself" — the negation belongs to the first clause only.
var subjects = map[string]bool{
	"i": true, "im": true, "ive": true, "ill": true, "id": true, "he": true, "hes": true, "she": true,
	"shes": true, "they": true, "theyre": true, "we": true, "youre": true,
}

func (e *evaluator) newSubject(from, to int) bool {
	for i := from; i < to; i++ {
		if subjects[e.toks[i].text] {
			return true
		}
	}
	return false
}

func (m *match) isElem(i int) bool {
	for k := 0; k < int(m.n); k++ {
		if int(m.pos[k]) == i {
			return true
		}
	}
	return false
}

// inheritsNegation: "no fever, chills, or chest pain" — a negation carries
// over commas into later items of a short list that ends with "or"/"nor".
func (e *evaluator) inheritsNegation(cue, term int) bool {
	toks := e.toks
	cueSeg, termSeg := toks[cue].seg, toks[term].seg
	// segments strictly between must be short list items
	count := 0
	cur := cueSeg
	for i := cue + 1; i < term; i++ {
		if toks[i].seg != cur {
			cur = toks[i].seg
			count = 0
		}
		if cur != cueSeg && cur != termSeg {
			count++
			if count > 4 {
				return false
			}
		}
	}
	isOr := func(t *token) bool { return t.kind == tkWord && (t.text == "or" || t.text == "nor") }
	for i := term; i < len(toks) && i < term+listScan && toks[i].clause == toks[term].clause; i++ {
		if isOr(&toks[i]) {
			return true
		}
	}
	// "or" earlier in the term's own segment: "..., or chest pain"
	for i := term - 1; i > cue && toks[i].seg == termSeg; i-- {
		if isOr(&toks[i]) {
			return true
		}
	}
	return false
}

// resolveFiller may stand between a term and its resolution: "chest pain
// is completely gone", "my chest gets tight but it passes". Anything else in
// between ("chest pain, headache gone") keeps the term.
var resolveFiller = map[string]bool{
	"but": true, "it": true, "its": true, "that": true, "this": true, "then": true, "has": true,
	"had": true, "have": true, "is": true, "are": true, "was": true, "were": true, "been": true, "be": true,
	"now": true, "all": true, "finally": true, "eventually": true, "completely": true, "totally": true,
	"fully": true, "entirely": true, "quickly": true, "soon": true, "though": true, "they": true,
	"theyre": true, "seems": true, "seem": true, "seemed": true, "to": true, "pretty": true, "much": true,
	"just": true, "basically": true, "thankfully": true, "luckily": true, "i": true, "think": true,
	"guess": true, "which": true, "and": true, "so": true, "since": true, "after": true,
	"a": true, "few": true, "minutes": true, "minute": true, "while": true, "the": true, "by": true,
	"itself": true, "on": true, "own": true, "got": true, "better": true,
}

// resolves reports whether a resolution cue at post applies to a term
// ending at end: only filler words between them, in the same sentence.
func (e *evaluator) resolves(end, post int) bool {
	toks := e.toks
	if toks[post].sent != toks[end-1].sent {
		return false
	}
	for i := end; i < post; i++ {
		if !resolveFiller[toks[i].text] {
			return false
		}
	}
	return true
}
