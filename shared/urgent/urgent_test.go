package urgent

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/carepost/carepost/shared/carepost"
)

func mustNew(t testing.TB, terms ...string) *Checker {
	t.Helper()
	c, err := New(terms)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNegationAndContext: negation, resolution, hypothetical and
// historical mentions, each scoped to its clause.
func TestNegationAndContext(t *testing.T) {
	c := mustNew(t)
	tests := []struct {
		text string
		want bool
		flag Flag // when want: a flag that must be present
	}{
		// the examples from the brief
		{"no chest pain since Tuesday", false, ""},
		{"I don't have any trouble breathing", false, ""},
		{"denies chest pain", false, ""},
		{"chest pain is gone", false, ""},
		{"my chest feels tight and I can't catch my breath", true, FlagBreathing},
		{"my chest feels tight and I can't catch my breath", true, FlagChestPain},
		{"no fever but crushing chest pain", true, FlagChestPain},
		{"my father died of a heart attack", false, ""},
		// negation scope
		{"No fever, crushing chest pain since this morning", true, FlagChestPain},
		{"No fever or chills, chest pain since last night", true, FlagChestPain},
		{"No chest pain, shortness of breath, or dizziness", false, ""},
		{"I have no fever, chills, or chest pain", false, ""},
		{"no fever and my chest hurts", true, FlagChestPain},
		{"no fever. chest hurts", true, FlagChestPain},
		{"no fever\nchest hurts badly", true, FlagChestPain},
		{"I haven't had chest pain until this morning", true, FlagChestPain},
		{"I've never had chest pain like this before", true, FlagChestPain},
		{"my chest is not tight", false, ""},
		{"No, I have chest pain", true, FlagChestPain},
		{"I can't walk to the mailbox without getting short of breath", true, FlagBreathing},
		// pseudo negation
		{"I'm not sure if this is a heart attack", true, FlagChestPain},
		{"I don't know why but my chest hurts", true, FlagChestPain},
		{"the pain in my chest is not going away", true, FlagChestPain},
		{"no relief from the chest pain", true, FlagChestPain},
		// resolution
		{"the chest pain went away after the antacid", false, ""},
		{"chest pain went away but now it's back", true, FlagChestPain},
		{"chest pain comes and goes, gone right now", true, FlagChestPain},
		{"crushing chest pain, headache gone", true, FlagChestPain},
		{"chest pain that went down my left arm", true, FlagChestPain},
		{"a little bleeding when I brush my teeth", false, ""}, // plain "bleeding" is not a red flag
		{"the bleeding hasn't stopped", true, FlagBleeding},
		{"the cut won't stop bleeding", true, FlagBleeding},
		{"the bleeding stopped after 10 minutes of pressure", false, ""},
		// hypothetical
		{"What are the warning signs of a stroke?", false, ""},
		{"what should I do if I get chest pain again", false, ""},
		{"even if I sit still I can't catch my breath", true, FlagBreathing},
		{"how can I lower my risk of a heart attack", false, ""},
		{"this bill is going to give me a heart attack", false, ""},
		// historical and third party
		{"I had a stroke in 2019", false, ""},
		{"I had a stroke in 2019 and now my face is drooping", true, FlagStroke},
		{"I had a seizure years ago but today I had another one", true, FlagSeizure},
		{"my daughter had a seizure 10 minutes ago", true, FlagSeizure},
		{"my husband has crushing chest pain", true, FlagChestPain},
		{"My grandmother passed away after a stroke", false, ""},
		{"My brother had a stroke at 45, should I get screened?", false, ""},
		{"since my heart attack in 2021 I take plavix", false, ""},
		// self-harm: explicit denial only
		{"I'm not suicidal, just sad", false, ""},
		{"no thoughts of hurting myself", false, ""},
		{"I would never hurt myself", false, ""},
		{"I don't want to hurt myself but the thoughts keep coming", true, FlagSelfHarm},
		{"if I don't get my meds I'll kill myself", true, FlagSelfHarm},
		{"I tried to kill myself years ago", true, FlagSelfHarm},
		{"I don't want to be alive anymore", true, FlagSelfHarm},
		// misspellings and lay terms
		{"chest pian all day", true, FlagChestPain},
		{"chset pain", true, FlagChestPain},
		{"cant breath", true, FlagBreathing},
		{"i cnt breathe", true, FlagBreathing},
		{"think its a strok", true, FlagStroke},
		{"my ticker is acting up", true, FlagChestPain},
		{"shortnes of breath", true, FlagBreathing},
		{"she is slured and confused", true, FlagStroke},
		{"my sugar was 48", true, FlagCrisisMeasurement},
		// fixed phrases that are not red flags
		{"what a stroke of luck", false, ""},
		{"I think it was food poisoning", false, ""},
		{"refill my seizure medication please", false, ""},
		{"I painted the kitchen", false, ""},
		{"I was cooking dinner", false, ""},
		{"SI joint pain again", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := c.Check("", tt.text, nil)
			if got.Urgent != tt.want {
				t.Fatalf("Check(%q).Urgent = %v (flags %v), want %v", tt.text, got.Urgent, got.Flags, tt.want)
			}
			if tt.flag != "" && !slices.Contains(got.Flags, tt.flag) {
				t.Errorf("Check(%q).Flags = %v, want it to contain %s", tt.text, got.Flags, tt.flag)
			}
		})
	}
}

func TestTextReadings(t *testing.T) {
	c := mustNew(t)
	tests := []struct {
		text string
		want bool
	}{
		{"my bp is 190/125", true},
		{"bp 179/119", false},
		{"bp 180/90", true},
		{"bp 150/120", true},
		{"bp is 185 over 100", true},
		{"BP: 178 / 122", true},
		{"184/95 this morning", true},
		{"readings 132/84, 128/80, 141/88", false},
		{"readings 132/84,128/80,191/88", true},
		{"Please send my Advair 250/50 to Walgreens", false},
		{"losartan-hctz 100/25 refill", false},
		{"appointment on 3/14", false},
		{"bp meds 25 mg", false},
		{"My bp at 3 am was 196/118", true},
		{"systolic 200", true},
		{"diastolic 125", true},
		{"sugar was 48", true},
		{"sugar 54", false},
		{"sugar 400", false},
		{"sugar over 400", true},
		{"glucose 401 mg/dL", true},
		{"glucose 520 mg/dl", true},
		{"sugar in the 30s all night", true},
		{"sugars 380, 420, 450", true},
		{"glucose 2.9 mmol/L", true},
		{"glucose 3.0 mmol", false},
		{"glucose 22.5 mmol/l", true},
		{"glucose 7.2", false},
		{"meter says HI", true},
		{"sugar reading LO", true},
		{"my A1c is 14", false},
		{"sugar a1c 14", false},
		{"If my sugar goes under 54 what do I do", false},
		{"Dexcom alarm says 45 and dropping", true},
		{"temp 104", true},
		{"temp 103.9", false},
		{"a 104.5 fever", true},
		{"temp 40 C", true},
		{"temp 39.9", false},
		{"fever for 3 days", false},
		{"fever 40.5 c", true},
		{"o2 89%", true},
		{"o2 90%", false},
		{"88% oxygen", true},
		{"on 2 l oxygen", false},
		{"o2 sat 86 on room air", true},
		{"pulse ox 82", true},
		{"pulse 39", true},
		{"pulse 40", false},
		{"pulse 141", true},
		{"pulse 140", false},
		{"160 bpm", true},
		{"heart is racing at 180", true},
		{"heart rate 150 on the treadmill", false},
		{"heart rate 35 on the treadmill", true},
		{"my bp was 200/120 last year, now 125/80", false},
		{"I got a bill for $180", false},
		{"I'm 10 minutes late for my 2:30", false},
		{"Statement says I owe 190.25 for 12/02", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := c.Check("", tt.text, nil)
			if got.Urgent != tt.want {
				t.Fatalf("Check(%q) = %+v, want urgent %v", tt.text, got, tt.want)
			}
			if tt.want && !slices.Contains(got.Flags, FlagCrisisMeasurement) {
				t.Errorf("Check(%q).Flags = %v, want crisis_measurement", tt.text, got.Flags)
			}
		})
	}
}

func TestStructuredReadings(t *testing.T) {
	c := mustNew(t)
	tests := []struct {
		name string
		r    Reading
		want bool
	}{
		{"bp systolic boundary", Reading{Kind: "blood_pressure", Value: 180, Value2: 80, Unit: "mmHg"}, true},
		{"bp below", Reading{Kind: "blood_pressure", Value: 179, Value2: 119, Unit: "mmHg"}, false},
		{"bp diastolic boundary", Reading{Kind: "blood_pressure", Value: 150, Value2: 120}, true},
		{"bp kPa", Reading{Kind: "blood_pressure", Value: 25, Value2: 12, Unit: "kPa"}, true},
		{"glucose low mg", Reading{Kind: "glucose", Value: 53, Unit: "mg/dL"}, true},
		{"glucose 54 mg", Reading{Kind: "glucose", Value: 54, Unit: "mg/dL"}, false},
		{"glucose 400 mg", Reading{Kind: "glucose", Value: 400, Unit: "mg/dL"}, false},
		{"glucose 401 mg", Reading{Kind: "glucose", Value: 401, Unit: "mg/dL"}, true},
		{"glucose low mmol", Reading{Kind: "glucose", Value: 2.9, Unit: "mmol/L"}, true},
		{"glucose 3.0 mmol", Reading{Kind: "glucose", Value: 3.0, Unit: "mmol/L"}, false},
		{"glucose high mmol", Reading{Kind: "glucose", Value: 23, Unit: "mmol/L"}, true},
		{"glucose no unit mmol range", Reading{Kind: "glucose", Value: 12}, false},
		{"glucose no unit 45", Reading{Kind: "glucose", Value: 45}, true},
		{"temp 40 C", Reading{Kind: "temperature", Value: 40, Unit: "C"}, true},
		{"temp 39.9 C", Reading{Kind: "temperature", Value: 39.9, Unit: "°C"}, false},
		{"temp 104 F", Reading{Kind: "temperature", Value: 104, Unit: "F"}, true},
		{"temp 103.9 F", Reading{Kind: "temperature", Value: 103.9, Unit: "F"}, false},
		{"temp no unit F", Reading{Kind: "temperature", Value: 105}, true},
		{"hr 39", Reading{Kind: "heart_rate", Value: 39, Unit: "bpm"}, true},
		{"hr 40", Reading{Kind: "heart_rate", Value: 40, Unit: "bpm"}, false},
		{"hr 140", Reading{Kind: "heart_rate", Value: 140, Unit: "bpm"}, false},
		{"hr 141", Reading{Kind: "heart_rate", Value: 141, Unit: "bpm"}, true},
		{"spo2 89", Reading{Kind: "spo2", Value: 89, Unit: "%"}, true},
		{"spo2 90", Reading{Kind: "spo2", Value: 90, Unit: "%"}, false},
		{"weight never", Reading{Kind: "weight", Value: 500, Unit: "lb"}, false},
		{"unknown kind", Reading{Kind: "mood", Value: 1}, false},
		{"NaN", Reading{Kind: "glucose", Value: math.NaN()}, false},
		{"Inf", Reading{Kind: "blood_pressure", Value: math.Inf(1), Value2: 80}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Check("", "", []Reading{tt.r})
			if got.Urgent != tt.want {
				t.Fatalf("Check(%+v) = %+v, want urgent %v", tt.r, got, tt.want)
			}
		})
	}
	// One crisis among normal readings raises; normal ones never lower.
	got := c.Check("", "fine", []Reading{{Kind: "heart_rate", Value: 70}, {Kind: "spo2", Value: 85}, {Kind: "weight", Value: 180}})
	if !got.Urgent || !slices.Equal(got.Flags, []Flag{FlagCrisisMeasurement}) {
		t.Errorf("mixed readings = %+v, want crisis_measurement", got)
	}
}

func TestAdvice(t *testing.T) {
	c := mustNew(t)
	tests := []struct {
		text string
		want Advice
	}{
		{"please refill my lisinopril", AdviceNone},
		{"I want to kill myself", AdviceCrisisLine},
		{"I want to kill myself and I took all my pills", AdviceEmergency},
		{"crushing chest pain", AdviceEmergency},
		{"my bp is 220/130", AdviceEmergency},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := c.Check("", tt.text, nil)
			if got.Advice != tt.want {
				t.Errorf("Check(%q).Advice = %q (flags %v), want %q", tt.text, got.Advice, got.Flags, tt.want)
			}
			if got.Urgent != (tt.want != AdviceNone) || got.Urgent != (len(got.Flags) > 0) {
				t.Errorf("Check(%q) = %+v: Urgent, Flags and Advice disagree", tt.text, got)
			}
		})
	}
}

func TestSubjectIsChecked(t *testing.T) {
	c := mustNew(t)
	if got := c.Check("chest pain", "started an hour ago", nil); !got.Urgent {
		t.Errorf("red flag in subject not found: %+v", got)
	}
	// The subject is its own sentence: its negation does not reach the text.
	if got := c.Check("no fever", "crushing chest pain", nil); !got.Urgent {
		t.Errorf("negation leaked from subject into text: %+v", got)
	}
}

func TestNewValidatesTerms(t *testing.T) {
	long := strings.Repeat("word ", 30)
	tests := []struct {
		name  string
		terms []string
		field string // "" = valid
	}{
		{"nil", nil, ""},
		{"good", []string{"sepsis", "blood clot", "Pulmonary Embolism"}, ""},
		{"duplicates collapse", []string{"sepsis", "SEPSIS"}, ""},
		{"empty", []string{"sepsis", ""}, "urgentTerms[1]"},
		{"blank", []string{"   "}, "urgentTerms[0]"},
		{"punctuation only", []string{"!!!"}, "urgentTerms[0]"},
		{"stop words only", []string{"the and"}, "urgentTerms[0]"},
		{"too short", []string{"ok"}, "urgentTerms[0]"},
		{"too long", []string{long}, "urgentTerms[0]"},
		{"too many words", []string{"one two three four five six seven eight nine"}, "urgentTerms[0]"},
		{"sentence punctuation", []string{"chest. pain"}, "urgentTerms[0]"},
		{"control character", []string{"chest\x00pain"}, "urgentTerms[0]"},
		{"invalid utf8", []string{"chest \xff pain"}, "urgentTerms[0]"},
		{"time", []string{"pain at 2:30"}, "urgentTerms[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.terms)
			if tt.field == "" {
				if err != nil || c == nil {
					t.Fatalf("New(%q) = %v, %v; want a checker", tt.terms, c, err)
				}
				return
			}
			var ce *carepost.Error
			if !errors.As(err, &ce) {
				t.Fatalf("New(%q) error = %v, want *carepost.Error", tt.terms, err)
			}
			if got, want := ce.Code, carepost.CodeValidation; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
			if got, want := ce.Field, tt.field; got != want {
				t.Errorf("field = %q, want %q", got, want)
			}
			for _, term := range tt.terms {
				if w := strings.TrimSpace(term); len(w) > 2 && strings.Contains(err.Error(), w) {
					t.Errorf("error %q repeats the term", err)
				}
			}
		})
	}
	if _, err := New(make([]string, maxTerms+1)); err == nil {
		t.Error("New accepted more than maxTerms terms")
	}
}

func TestCustomTerms(t *testing.T) {
	c := mustNew(t, "pulmonary embolism", "sepsis")
	tests := []struct {
		text string
		want bool
	}{
		{"I'm worried I have a Pulmonary Embolism", true},
		{"could this be sepsis?", true},
		{"the CT showed no pulmonary embolism", false},
		{"pulmonary. embolism", false},
		{"pulmonary function test", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := c.Check("", tt.text, nil)
			if got.Urgent != tt.want {
				t.Fatalf("Check(%q) = %+v, want urgent %v", tt.text, got, tt.want)
			}
			if tt.want && !slices.Equal(got.Flags, []Flag{FlagCustomTerm}) {
				t.Errorf("Check(%q).Flags = %v, want [custom_term]", tt.text, got.Flags)
			}
		})
	}
	// Practice terms only add: the built-in rules still apply.
	if got := c.Check("", "crushing chest pain", nil); !slices.Contains(got.Flags, FlagChestPain) {
		t.Errorf("built-in rule lost with practice terms: %+v", got)
	}
}

// TestResultCarriesNoText: a result is flag codes only, whatever the input.
func TestResultCarriesNoText(t *testing.T) {
	c := mustNew(t, "secret phrase")
	msg := "Secret phrase: crushing chest pain and I want to kill myself, bp 220/130, Jane Doe DOB 1/2/1960"
	got := c.Check("Jane Doe", msg, []Reading{{Kind: "glucose", Value: 30}})
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, f := range allFlags {
		s = strings.ReplaceAll(s, `"`+string(f)+`"`, "")
	}
	for _, w := range []string{"jane", "doe", "secret", "chest", "kill", "220", "1960"} {
		if strings.Contains(strings.ToLower(s), w) {
			t.Errorf("result %s contains %q", b, w)
		}
	}
}

func TestTokenize(t *testing.T) {
	var n normalizer
	n.add("I can't BREATHE, bp 190 / 125 at 2:30. Temp 104F 98.6 “don’t” café")
	toks := n.finish()
	var got []string
	for _, tk := range toks {
		got = append(got, tk.text)
	}
	want := []string{"i", "cant", "breathe", "bp", "190/125", "at", "2:30", "temp", "104", "f", "98.6", "dont", "café"}
	if !slices.Equal(got, want) {
		t.Fatalf("tokens = %q, want %q", got, want)
	}
	if !toks[2].upper || toks[1].upper {
		t.Errorf("upper flags wrong: %v %v", toks[1].upper, toks[2].upper)
	}
	if toks[4].kind != tkRatio || toks[4].num != 190 || toks[4].num2 != 125 {
		t.Errorf("ratio = %+v", toks[4])
	}
	if toks[6].kind != tkTime {
		t.Errorf("2:30 kind = %v, want time", toks[6].kind)
	}
	if toks[3].brk != brkSegment || toks[7].brk != brkSentence {
		t.Errorf("breaks = %d %d, want segment, sentence", toks[3].brk, toks[7].brk)
	}
}

func TestMisspelt(t *testing.T) {
	tests := []struct {
		word, tok string
		want      bool
	}{
		{"pain", "pian", true},    // transposition
		{"pain", "paint", true},   // insertion (4 letters: allowed)
		{"pain", "pan", false},    // deletion needs 5+ letters
		{"pain", "rain", false},   // substitution needs 6+ letters
		{"chest", "chst", true},   // deletion
		{"chest", "cehst", true},  // transposition
		{"chest", "chess", false}, // substitution in a short word
		{"tight", "night", false}, // first letter differs
		{"breathe", "breahte", true},
		{"breathe", "brethe", true},
		{"stroke", "strok", true},
		{"stroke", "storke", true},
		{"choking", "chiking", true},
		{"choking", "cooking", true}, // one substitution; blocked by fuzzyBlock instead
		{"seizure", "seizrue", true},
		{"seizure", "sezure", true},
		{"seizure", "xeizure", false},
	}
	for _, tt := range tests {
		if got := misspelt(tt.word, tt.tok); got != tt.want {
			t.Errorf("misspelt(%q, %q) = %v, want %v", tt.word, tt.tok, got, tt.want)
		}
	}
}

// TestRulesCompileAndStayBounded: every built-in pattern compiles, every flag
// has rules, and no rule can make the backtracking search expensive.
func TestRulesCompileAndStayBounded(t *testing.T) {
	b, err := compileBase()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Flag]bool{}
	for _, r := range b.flags {
		seen[r.flag] = true
		cost := 1
		for _, e := range r.elems {
			cost *= e.gap + 1
		}
		if cost > 1000 {
			t.Errorf("rule %q: search cost %d > 1000", r.src, cost)
		}
	}
	for _, f := range allFlags {
		if f == FlagCrisisMeasurement || f == FlagCustomTerm {
			continue
		}
		if !seen[f] {
			t.Errorf("flag %s has no rules", f)
		}
	}
	for _, bad := range []string{"", "(a|b", "..3 chest", "chest ..3", "x? y", "!x y", "a @nosuch", "ab*", "(chest|) pain", "Chest"} {
		if _, err := compileRules(newVocab(), []ruleSpec{{pattern: bad}}, groups); err == nil {
			t.Errorf("pattern %q compiled, want an error", bad)
		}
	}
}

// TestEveryFlagInCorpus: each built-in flag is exercised by a labelled message.
func TestEveryFlagInCorpus(t *testing.T) {
	c := mustNew(t)
	seen := map[Flag]bool{}
	for _, file := range corpusFiles {
		for _, cc := range loadCorpus(t, file) {
			for _, f := range c.Check(cc.Subject, cc.Text, cc.Readings).Flags {
				seen[f] = true
			}
		}
	}
	for _, f := range allFlags {
		if f != FlagCustomTerm && !seen[f] {
			t.Errorf("no corpus message raises %s", f)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := mustNew(t, "sepsis")
	cases := loadCorpus(t, "testdata/corpus.jsonl")
	want := make([]Result, len(cases))
	for i, cc := range cases {
		want[i] = c.Check(cc.Subject, cc.Text, cc.Readings)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(cases); i += 2 {
				cc := cases[i]
				if got := c.Check(cc.Subject, cc.Text, cc.Readings); !equalResult(got, want[i]) {
					t.Errorf("line %d: concurrent result %+v, want %+v", cc.line, got, want[i])
				}
			}
		}(g)
	}
	wg.Wait()
}

func equalResult(a, b Result) bool {
	return a.Urgent == b.Urgent && a.Advice == b.Advice && slices.Equal(a.Flags, b.Flags)
}

func TestNilChecker(t *testing.T) {
	var c *Checker
	if got := c.Check("", "crushing chest pain", []Reading{{Kind: "spo2", Value: 80}}); !got.Urgent {
		t.Errorf("nil checker ignored readings: %+v", got)
	}
}
