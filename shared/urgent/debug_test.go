package urgent

import (
	"os"
	"testing"
)

// TestExplain prints tokens, cues and flag matches for $URGENT_EXPLAIN.
// It is a development aid; it never runs in CI unless the variable is set.
func TestExplain(t *testing.T) {
	text := os.Getenv("URGENT_EXPLAIN")
	if text == "" {
		t.Skip("set URGENT_EXPLAIN")
	}
	c, _ := New(nil)
	b := c.base
	sc := new(scratch)
	sc.n.add(text)
	toks := sc.n.finish()
	for i := range toks {
		off := len(sc.ids)
		sc.ids = b.v.classify(&toks[i], sc.ids)
		toks[i].idOff, toks[i].idLen = int32(off), int32(len(sc.ids)-off)
	}
	structure(toks)
	for i, tk := range toks {
		var ws []string
		for _, id := range tokIDs(&tk, sc.ids) {
			ws = append(ws, b.v.words[id])
		}
		t.Logf("%2d %-14q s%d c%d g%d %v", i, tk.text, tk.sent, tk.clause, tk.seg, ws)
	}
	var m match
	for i := range toks {
		for _, id := range tokIDs(&toks[i], sc.ids) {
			for _, ri := range b.cueIdx[id] {
				if try(&b.cues[ri], toks, sc.ids, i, &m) {
					sc.hits = append(sc.hits, cueHit{kind: b.cues[ri].kind, start: m.start, end: m.end})
				}
			}
		}
	}
	ev := &evaluator{}
	ev.init(toks, sc.hits, b.immuneCtx)
	for j, h := range sc.hits {
		t.Logf("cue kind=%d [%d,%d) live=%v", h.kind, h.start, h.end, ev.live[j])
	}
	for i := range toks {
		for _, id := range tokIDs(&toks[i], sc.ids) {
			for _, ri := range b.flagIdx[id] {
				if try(&b.flags[ri], toks, sc.ids, i, &m) {
					t.Logf("flag %s [%d,%d) %q suppressed=%v", b.flags[ri].flag, m.start, m.end, b.flags[ri].src, ev.suppressed(&m, b.flags[ri].flag))
				}
			}
		}
	}
	t.Logf("result %+v", c.Check("", text, nil))
}
