// Package urgent is the synchronous red-flag check that runs before a patient
// message is accepted (PRODUCT.md section 4): it looks at the subject, the
// text and any typed measurements for signs that the patient needs emergency
// care now — chest pain, trouble breathing, stroke signs, suicidal or
// self-harm thoughts, severe bleeding, anaphylaxis, loss of consciousness,
// seizures, poisoning, crisis-range readings — and tells the caller which
// advice to show at once (call 911, or the 988 crisis line).
//
// The check is deliberately biased towards recall: a missed emergency is far
// worse than an extra urgent flag. Rules only ever raise: nothing in this
// package can mark a message "not urgent" so that it overrides another
// signal. Negation ("no chest pain since Tuesday"), resolution ("the chest
// pain is gone"), hypothetical and historical mentions ("my father died of a
// heart attack") are recognised so that routine messages are not flooded with
// false alarms, but each of those rules is scoped to a clause and cancelled by
// the cues that make a mention current again ("but now it's back").
//
// How it works, in order: the text is normalised into word, number, ratio
// (190/125) and time tokens, split into sentences, clauses (at "but", "now",
// newlines, …) and comma segments. Every token is mapped to the ids of the
// rule vocabulary it matches — exactly, by prefix ("squeez*"), or as a likely
// misspelling (one transposition, insertion or deletion; substitution only for
// words of six letters or more). Cue rules then mark negations, pseudo
// negations ("not sure", "doesn't help"), resolutions, hypothetical and
// historical context; flag rules find the red flags; measurement keywords pick
// up readings written in the text. See rules.go for the rule tables.
//
// This package must never log, and must never return or embed the patient's
// text: a Result carries only flag codes, and errors from New describe the
// position of a bad practice term, not its content. It imports nothing from
// AWS and keeps no state between calls; a Checker is safe for concurrent use.
package urgent
