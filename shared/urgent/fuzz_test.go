package urgent

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const redFlag = "I have crushing chest pain."

// FuzzCheck: Check never panics, is deterministic, returns a consistent
// Result, and nothing written around a separate red-flag sentence can hide it
// (rules only raise).
func FuzzCheck(f *testing.F) {
	for _, file := range corpusFiles {
		for _, cc := range loadCorpus(f, file) {
			f.Add(cc.Subject, cc.Text)
		}
	}
	for _, s := range []string{
		"", "no", "no,", "not\n", "if", "years ago", "190/", "/125", "1.2.3.4", "2:3", "99:99:99",
		"bp 190 over", "sugar HI", "\xff\xfe", "chest\u2019s pain", "..3 chest", "!x", "#num", "@cant",
		strings.Repeat("no ", 200), strings.Repeat("chest ", 200), strings.Repeat("190/125 ", 50),
	} {
		f.Add("", s)
	}
	c, err := New([]string{"sepsis", "blood clot"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, subject, text string) {
		got := c.Check(subject, text, nil)
		if again := c.Check(subject, text, nil); !equalResult(got, again) {
			t.Fatalf("not deterministic: %+v then %+v", got, again)
		}
		checkConsistent(t, got)
		for _, wrapped := range []string{text + ".\n" + redFlag, redFlag + "\n" + text} {
			r := c.Check(subject, wrapped, nil)
			checkConsistent(t, r)
			if !slices.Contains(r.Flags, FlagChestPain) {
				t.Fatalf("red-flag sentence hidden by surrounding text %q: %+v", text, r)
			}
		}
	})
}

func checkConsistent(t *testing.T, r Result) {
	t.Helper()
	if r.Urgent != (len(r.Flags) > 0) {
		t.Fatalf("Urgent %v with flags %v", r.Urgent, r.Flags)
	}
	if r.Urgent == (r.Advice == AdviceNone) {
		t.Fatalf("Urgent %v with advice %q", r.Urgent, r.Advice)
	}
	last := -1
	for _, f := range r.Flags {
		i := slices.Index(allFlags, f)
		if i <= last {
			t.Fatalf("flags %v not unique and ordered", r.Flags)
		}
		last = i
	}
	onlySelfHarm := len(r.Flags) == 1 && r.Flags[0] == FlagSelfHarm
	if r.Urgent && (r.Advice == AdviceCrisisLine) != onlySelfHarm {
		t.Fatalf("advice %q for flags %v", r.Advice, r.Flags)
	}
}

// TestLongMessages: adversarial repetitions stay linear (a quadratic
// evaluator would make this test time out) and keep finding the red flag.
func TestLongMessages(t *testing.T) {
	c := mustNew(t)
	for _, unit := range []string{
		"no chest pain ", "no ", "chest ", "bp 190 5 mg ", "never ", "if ", "hit head ",
		"pain pain pain and ", "190/125 ", "no fever, chills, ", "né ",
	} {
		msg := strings.Repeat(unit, 100_000/len(unit))
		got := c.Check("", msg+". "+redFlag, nil)
		if !slices.Contains(got.Flags, FlagChestPain) {
			t.Errorf("%q × %d: red flag at the end not found: %v", unit, 100_000/len(unit), got.Flags)
		}
		if !utf8.ValidString(msg) {
			t.Fatal("bad test input")
		}
	}
}
