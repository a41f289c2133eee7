package urgent

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
)

// Flag is the machine code of one red flag. It never contains patient text.
type Flag string

const (
	FlagChestPain         Flag = "chest_pain"
	FlagBreathing         Flag = "breathing"
	FlagStroke            Flag = "stroke"
	FlagSelfHarm          Flag = "self_harm"
	FlagHarmOthers        Flag = "harm_others"
	FlagBleeding          Flag = "bleeding"
	FlagAnaphylaxis       Flag = "anaphylaxis"
	FlagUnconscious       Flag = "unconscious"
	FlagSeizure           Flag = "seizure"
	FlagOverdose          Flag = "overdose"
	FlagWorstHeadache     Flag = "worst_headache"
	FlagSeverePain        Flag = "severe_pain"
	FlagHeadInjury        Flag = "head_injury"
	FlagPregnancy         Flag = "pregnancy"
	FlagEmergencyQuestion Flag = "emergency_question" // "should I go to the ER?"
	FlagCrisisMeasurement Flag = "crisis_measurement"
	FlagCustomTerm        Flag = "custom_term" // a practice-added term
)

// allFlags is the order flags appear in a Result.
var allFlags = []Flag{
	FlagChestPain, FlagBreathing, FlagStroke, FlagSelfHarm, FlagHarmOthers, FlagBleeding,
	FlagAnaphylaxis, FlagUnconscious, FlagSeizure, FlagOverdose, FlagWorstHeadache, FlagSeverePain,
	FlagHeadInjury, FlagPregnancy, FlagEmergencyQuestion, FlagCrisisMeasurement, FlagCustomTerm,
}

func flagIndex(f Flag) int {
	for i, g := range allFlags {
		if g == f {
			return i
		}
	}
	panic("urgent: unknown flag " + string(f))
}

// Advice is what the patient is told at once.
type Advice string

const (
	AdviceNone       Advice = ""
	AdviceEmergency  Advice = "emergency"   // call 911
	AdviceCrisisLine Advice = "crisis_line" // call or text 988, the suicide & crisis lifeline
)

// Result of a check. It carries flag codes only, never text. Advice is
// AdviceCrisisLine when self-harm is the only kind of flag, AdviceEmergency
// when any other flag is present (911 also covers a self-harm emergency).
type Result struct {
	Urgent bool
	Flags  []Flag
	Advice Advice
}

// Reading is one typed measurement from a form.
//
// Kind is "blood_pressure" (Value systolic, Value2 diastolic, mmHg or kPa),
// "glucose" (mg/dL or mmol/L), "temperature" (C or F), "heart_rate" (bpm),
// "spo2" (%) or "weight" (never urgent). An empty or unknown unit is
// interpreted from the value's range.
type Reading struct {
	Kind   string  `json:"kind"`
	Value  float64 `json:"value"`
	Value2 float64 `json:"value2,omitempty"`
	Unit   string  `json:"unit,omitempty"`
}

// Checker holds compiled rules. It is immutable after New and safe for
// concurrent use.
type Checker struct {
	base  *compiled
	extra []extraTerm
}

type extraTerm struct{ words []string }

type compiled struct {
	v         *vocab
	cues      []rule
	cueIdx    [][]int32
	flags     []rule
	flagIdx   [][]int32
	flagBit   []uint32 // per flag rule: bit of its flag
	immuneCtx []bool   // per flag index: ignores hypothetical/historical context
}

var (
	baseOnce sync.Once
	baseRule *compiled
	baseErr  error
)

func compileBase() (*compiled, error) {
	baseOnce.Do(func() {
		c := &compiled{v: newVocab()}
		var cueSpecs, flagSpecs []ruleSpec
		for _, t := range cueRules {
			for _, p := range t.patterns {
				cueSpecs = append(cueSpecs, ruleSpec{kind: t.kind, pattern: p})
			}
		}
		for _, t := range flagRules {
			for _, p := range t.patterns {
				flagSpecs = append(flagSpecs, ruleSpec{kind: kFlag, flag: t.flag, pattern: p, fuzzy: true})
			}
		}
		// Flag rules first so that their words are fuzzy-eligible.
		flags, err := compileRules(c.v, flagSpecs, groups)
		if err != nil {
			baseErr = err
			return
		}
		cues, err := compileRules(c.v, cueSpecs, groups)
		if err != nil {
			baseErr = err
			return
		}
		n := len(c.v.words)
		resizeRules(flags, n)
		resizeRules(cues, n)
		c.v.buildFuzzy()
		c.flags, c.cues = flags, cues
		c.flagIdx, c.cueIdx = indexRules(flags, n), indexRules(cues, n)
		for _, r := range flags {
			c.flagBit = append(c.flagBit, 1<<uint(flagIndex(r.flag)))
		}
		c.immuneCtx = make([]bool, len(allFlags))
		c.immuneCtx[flagIndex(FlagSelfHarm)] = true
		baseRule = c
	})
	return baseRule, baseErr
}

// Limits on practice terms.
const (
	maxTermBytes = 100
	maxTermWords = 8
	maxTerms     = 500
)

var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "to": true, "in": true,
	"on": true, "my": true, "i": true, "im": true, "is": true, "it": true, "its": true, "me": true,
	"at": true, "for": true, "with": true, "be": true, "have": true, "has": true, "had": true, "was": true,
	"are": true, "this": true, "that": true, "you": true, "your": true, "we": true, "he": true, "she": true,
	"not": true, "no": true, "so": true, "but": true, "if": true, "do": true, "can": true, "am": true,
	"hi": true, "hello": true, "please": true, "thanks": true, "thank": true, "doctor": true, "dr": true,
}

// New compiles the built-in rules plus a practice's extra terms (phrases such
// as "sepsis" or "blood clot"). A term is matched as its words in order,
// case-insensitively, subject to the same negation and context rules as the
// built-in ones, and raises FlagCustomTerm. An empty, over-long, or
// stop-word-only term is an error; errors name the term's position, never
// its content.
func New(extraTerms []string) (*Checker, error) {
	base, err := compileBase()
	if err != nil {
		return nil, carepost.Wrap(carepost.CodeInternal, err, "urgent-symptom rules failed to compile")
	}
	if len(extraTerms) > maxTerms {
		return nil, carepost.FieldError(carepost.CodeValidation, "urgentTerms", "at most %d practice terms are allowed", maxTerms)
	}
	c := &Checker{base: base}
	seen := map[string]bool{}
	for i, term := range extraTerms {
		field := fmt.Sprintf("urgentTerms[%d]", i)
		words, reason := termWords(term)
		if reason != "" {
			return nil, carepost.FieldError(carepost.CodeValidation, field, "%s", reason)
		}
		key := strings.Join(words, " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		c.extra = append(c.extra, extraTerm{words: words})
	}
	return c, nil
}

func termWords(term string) ([]string, string) {
	if !utf8.ValidString(term) {
		return nil, "term is not valid UTF-8"
	}
	term = strings.TrimSpace(term)
	if term == "" {
		return nil, "term is empty"
	}
	if len(term) > maxTermBytes {
		return nil, fmt.Sprintf("term is longer than %d bytes", maxTermBytes)
	}
	for _, r := range term {
		if unicode.IsControl(r) {
			return nil, "term contains control characters"
		}
		switch r {
		case '.', '!', '?', ';', ',', '\u2026':
			return nil, "term must be one phrase without sentence or list punctuation"
		}
	}
	var n normalizer
	n.add(term)
	toks := n.finish()
	if len(toks) == 0 {
		return nil, "term has no words"
	}
	if len(toks) > maxTermWords {
		return nil, fmt.Sprintf("term has more than %d words", maxTermWords)
	}
	words := make([]string, len(toks))
	content := 0
	for i, t := range toks {
		if t.kind == tkTime {
			return nil, "term must not contain a time of day"
		}
		words[i] = t.text
		if !stopWords[t.text] && t.kind == tkWord {
			content++
		}
	}
	if content == 0 {
		return nil, "term needs at least one word that is not a common word"
	}
	if len(toks) == 1 && utf8.RuneCountInString(words[0]) < 3 {
		return nil, "a one-word term needs at least three letters"
	}
	return words, ""
}

// cueHit is one match of a cue rule.
type cueHit struct {
	kind       ruleKind
	start, end int32
}

type scratch struct {
	n    normalizer
	ids  []int32
	hits []cueHit
	ev   evaluator
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Check looks for red flags in the subject, the text and the readings. It
// never fails: anything it cannot read is ignored, never treated as a reason
// to lower urgency. It keeps no reference to its inputs.
func (c *Checker) Check(subject, text string, readings []Reading) Result {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var raised uint32
	if c != nil && c.base != nil {
		raised = c.checkText(sc, subject, text)
	}
	for _, r := range readings {
		if readingCrisis(r) {
			raised |= 1 << uint(flagIndex(FlagCrisisMeasurement))
		}
	}
	return resultFor(raised)
}

// ResultOf rebuilds the Result of a check from the flag codes stored with
// a message (an idempotent retry answers as the first attempt did). A code
// this version does not know counts as an emergency flag: when in doubt,
// the stronger advice.
func ResultOf(codes []string) Result {
	flags := make([]Flag, len(codes))
	for i, c := range codes {
		flags[i] = Flag(c)
	}
	return resultOf(flags)
}

func resultFor(raised uint32) Result {
	var flags []Flag
	for i, f := range allFlags {
		if raised&(1<<uint(i)) != 0 {
			flags = append(flags, f)
		}
	}
	return resultOf(flags)
}

// resultOf is the one rule for the advice: the crisis line when self-harm
// is the only kind of flag, 911 when any other is present.
func resultOf(flags []Flag) Result {
	if len(flags) == 0 {
		return Result{}
	}
	res := Result{Urgent: true, Flags: flags, Advice: AdviceCrisisLine}
	for _, f := range flags {
		if f != FlagSelfHarm {
			res.Advice = AdviceEmergency
			break
		}
	}
	return res
}

func (c *Checker) checkText(sc *scratch, subject, text string) uint32 {
	b := c.base
	sc.n.reset()
	sc.n.add(subject)
	sc.n.setBreak(brkSentence)
	sc.n.add(text)
	toks := sc.n.finish()
	if len(toks) == 0 {
		return 0
	}
	// Vocabulary ids.
	sc.ids = sc.ids[:0]
	for i := range toks {
		off := len(sc.ids)
		sc.ids = b.v.classify(&toks[i], sc.ids)
		toks[i].idOff, toks[i].idLen = int32(off), int32(len(sc.ids)-off)
	}
	structure(toks)

	// Cues.
	sc.hits = sc.hits[:0]
	var m match
	for i := range toks {
		for _, id := range tokIDs(&toks[i], sc.ids) {
			for _, ri := range b.cueIdx[id] {
				r := &b.cues[ri]
				if try(r, toks, sc.ids, i, &m) {
					sc.hits = append(sc.hits, cueHit{kind: r.kind, start: m.start, end: m.end})
				}
			}
		}
	}
	ev := &sc.ev
	ev.init(toks, sc.hits, b.immuneCtx)

	// Flags.
	var raised uint32
	for i := range toks {
		for _, id := range tokIDs(&toks[i], sc.ids) {
			for _, ri := range b.flagIdx[id] {
				if raised&b.flagBit[ri] != 0 {
					continue
				}
				r := &b.flags[ri]
				if try(r, toks, sc.ids, i, &m) && !ev.suppressed(&m, r.flag) {
					raised |= b.flagBit[ri]
				}
			}
		}
	}
	// Practice terms.
	customBit := uint32(1) << uint(flagIndex(FlagCustomTerm))
	for i := range toks {
		if raised&customBit != 0 {
			break
		}
		for _, t := range c.extra {
			if n := matchWords(toks, i, t.words); n > 0 {
				m = match{start: int32(i), end: int32(i + n)}
				for k := 0; k < n && k < maxElems; k++ {
					m.pos[k] = int32(i + k)
				}
				m.n = int8(min(n, maxElems))
				if !ev.suppressed(&m, FlagCustomTerm) {
					raised |= customBit
					break
				}
			}
		}
	}
	if ev.textReadings() {
		raised |= 1 << uint(flagIndex(FlagCrisisMeasurement))
	}
	return raised
}

func matchWords(toks []token, i int, words []string) int {
	if i+len(words) > len(toks) {
		return 0
	}
	for k, w := range words {
		t := &toks[i+k]
		if t.text != w || (k > 0 && t.sent != toks[i].sent) {
			return 0
		}
	}
	return len(words)
}

// structure assigns sentence, clause and segment numbers.
func structure(toks []token) {
	var sent, clause, seg int32
	for i := range toks {
		t := &toks[i]
		if i > 0 {
			switch t.brk {
			case brkSentence:
				sent++
				clause++
				seg++
			case brkClause:
				clause++
				seg++
			default:
				if t.kind == tkWord && (breakers[t.text] || t.text == "and" && i+1 < len(toks) && andBreakers[toks[i+1].text] && toks[i+1].brk == brkNone) {
					clause++
					seg++
				} else if t.brk == brkSegment {
					seg++
				}
			}
		}
		t.sent, t.clause, t.seg = sent, clause, seg
	}
}
