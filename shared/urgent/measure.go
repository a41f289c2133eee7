package urgent

import (
	"math"
	"strings"
)

// Crisis thresholds (PRODUCT.md section 4, issue 4):
//
//	blood pressure  systolic >= 180 or diastolic >= 120 mmHg
//	glucose         < 54 mg/dL (3.0 mmol/L) or > 400 mg/dL (22.2 mmol/L)
//	SpO2            < 90 %
//	temperature     >= 40 °C / 104 °F
//	heart rate      < 40 or > 140 bpm
const (
	bpSystolicCrisis  = 180
	bpDiastolicCrisis = 120
	glucoseLowMg      = 54
	glucoseHighMg     = 400
	glucoseLowMmol    = 3.0
	glucoseHighMmol   = 400 / 18.0
	spo2Crisis        = 90
	tempCrisisC       = 40
	tempCrisisF       = 104
	hrLow             = 40
	hrHigh            = 140
	kPaToMmHg         = 7.50062
)

type unitGuess uint8

const (
	unitUnknown unitGuess = iota
	unitMgDL
	unitMmol
	unitC
	unitF
	unitKPa
)

func normUnit(u string) unitGuess {
	u = strings.ToLower(strings.Join(strings.Fields(u), ""))
	u = strings.TrimPrefix(u, "°")
	u = strings.TrimPrefix(u, "º")
	switch u {
	case "mg/dl", "mgdl", "mg":
		return unitMgDL
	case "mmol/l", "mmol", "mmoll", "mm":
		return unitMmol
	case "c", "celsius", "degc", "centigrade":
		return unitC
	case "f", "fahrenheit", "degf":
		return unitF
	case "kpa":
		return unitKPa
	}
	return unitUnknown
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// readingCrisis judges one structured reading. Implausible values (NaN,
// negative, wrong unit) are left to form validation and never lower anything.
func readingCrisis(r Reading) bool {
	if !finite(r.Value) || !finite(r.Value2) {
		return false
	}
	u := normUnit(r.Unit)
	switch strings.ToLower(strings.TrimSpace(r.Kind)) {
	case "blood_pressure", "bp", "blood pressure":
		sys, dia := r.Value, r.Value2
		if u == unitKPa {
			sys, dia = sys*kPaToMmHg, dia*kPaToMmHg
		}
		return bpCrisis(sys, dia)
	case "glucose", "blood_glucose":
		return glucoseCrisis(r.Value, u)
	case "temperature", "temp":
		return tempCrisis(r.Value, u)
	case "heart_rate", "pulse", "hr":
		return r.Value > 0 && (r.Value < hrLow || r.Value > hrHigh)
	case "spo2", "oxygen_saturation":
		return r.Value > 0 && r.Value < spo2Crisis
	}
	return false
}

func bpCrisis(sys, dia float64) bool {
	return sys >= bpSystolicCrisis || dia >= bpDiastolicCrisis
}

// glucoseCrisis: with no unit, values up to 22.2 are read as mmol/L (a
// US patient writing "sugar 15" means 15 mmol/L far more often than a
// fatal 15 mg/dL); between 22.2 and 54 either reading is a crisis.
func glucoseCrisis(v float64, u unitGuess) bool {
	if v <= 0 || v > 3000 {
		return false
	}
	switch u {
	case unitMgDL:
		return v < glucoseLowMg || v > glucoseHighMg
	case unitMmol:
		return v < glucoseLowMmol || v > glucoseHighMmol
	}
	if v <= glucoseHighMmol {
		return v < glucoseLowMmol
	}
	return v < glucoseLowMg || v > glucoseHighMg
}

// tempCrisis: with no unit, 25–46 is Celsius and 77–115 Fahrenheit;
// anything else is not a body temperature.
func tempCrisis(v float64, u unitGuess) bool {
	switch u {
	case unitC:
		return v >= tempCrisisC && v < 60
	case unitF:
		return v >= tempCrisisF && v < 130
	}
	switch {
	case v >= 25 && v <= 46:
		return v >= tempCrisisC
	case v >= 77 && v <= 115:
		return v >= tempCrisisF
	}
	return false
}

// ---- readings written in the text

// skipUnits follow numbers that are not the reading ("bp meds 20 mg",
// "sugar at 3 am", "fever for 3 days").
var skipUnits = map[string]bool{
	"mg": true, "mcg": true, "ml": true, "units": true, "unit": true, "u": true, "iu": true,
	"tab": true, "tabs": true, "tablet": true, "tablets": true, "pill": true, "pills": true,
	"day": true, "days": true, "week": true, "weeks": true, "wk": true, "wks": true, "hour": true, "hours": true,
	"hrs": true, "minute": true, "minutes": true, "min": true, "mins": true, "year": true, "years": true,
	"yr": true, "yrs": true, "month": true, "months": true, "am": true, "pm": true, "oclock": true,
	"times": true, "x": true, "lbs": true, "lb": true, "pound": true, "pounds": true, "kg": true,
	"steps": true, "step": true, "l": true, "liters": true, "liter": true, "litres": true, "litre": true,
	"lpm": true, "lt": true, "cal": true, "calories": true, "carbs": true, "carb": true, "g": true,
	"grams": true, "oz": true, "cups": true, "st": true, "nd": true, "rd": true, "th": true,
	"dollars": true, "bucks": true, "cents": true, "miles": true, "feet": true,
	"ft": true, "inches": true, "tries": true, "packs": true, "puffs": true,
}

// listWords may sit between two values of one list ("132/84, 128/80 and 141/88").
var listWords = map[string]bool{
	"and": true, "to": true, "or": true, "then": true, "%": true, "mmhg": true, "mg": true, "dl": true,
	"mgdl": true, "mmol": true, "c": true, "f": true, "degrees": true, "degree": true, "bpm": true,
	"s": true, "over": true, "was": true, "is": true, "later": true,
	"up": true, "down": true, "again": true, "got": true, "retook": true, "it": true,
}

var moreWords = map[string]bool{"over": true, "above": true, "greater": true, "more": true, "higher": true, "exceeding": true, "past": true}
var lessWords = map[string]bool{"under": true, "below": true, "less": true, "lower": true, "beneath": true}

// allowedBeforeRatio: a bare 184/95 right after one of these is a reading
// even in a sentence that mentions medication.
var allowedBeforeRatio = map[string]bool{
	"was": true, "is": true, "of": true, "at": true, "got": true, "read": true, "reads": true, "reading": true,
	"readings": true, "today": true, "morning": true, "night": true, "this": true, "and": true, "then": true,
	"it": true, "were": true, "are": true, "been": true, "around": true, "about": true, "like": true,
	"avg": true, "average": true, "me": true, "high": true, "up": true, "to": true, "from": true, "says": true,
	"said": true, "showed": true, "shows": true, "still": true, "now": true, "its": true, "mmhg": true,
}

const kwMask = 1<<kKwBP | 1<<kKwBPDia | 1<<kKwGlucose | 1<<kKwTemp | 1<<kKwHR | 1<<kKwSpO2

func (e *evaluator) isKeywordStart(i int) bool { return e.startMask[i]&kwMask != 0 }

// ratioUsed marks, in startMask, a ratio already read after a BP keyword.
const ratioUsed = 1 << 31

// textReadings reports a crisis-range reading written in the text.
func (e *evaluator) textReadings() bool {
	toks := e.toks
	for j, h := range e.hits {
		if !e.live[j] || h.kind < kKwBP || h.kind > kKwSpO2 {
			continue
		}
		if e.scanKeyword(h) {
			return true
		}
	}
	// Bare ratios with no keyword: "184/95 this morning".
	for i := range toks {
		t := &toks[i]
		if t.kind != tkRatio || e.startMask[i]&ratioUsed != 0 {
			continue
		}
		sys, dia := t.num, t.num2
		if sys < 60 || sys > 300 || dia < 30 || dia > 200 || sys <= dia {
			continue
		}
		if i+1 < len(toks) && toks[i+1].sent == t.sent && (skipUnits[toks[i+1].text] || toks[i+1].text == "mg" || toks[i+1].text == "mcg") {
			continue
		}
		prevOK := i == 0 || toks[i-1].sent != t.sent || toks[i-1].kind != tkWord || allowedBeforeRatio[toks[i-1].text]
		if !prevOK && e.sentenceHas(kMedContext, t.sent) {
			continue
		}
		if bpCrisis(sys, dia) && !e.suppressedSpan(i, i+1) {
			return true
		}
	}
	return false
}

func (e *evaluator) suppressedSpan(start, end int) bool {
	m := match{start: int32(start), end: int32(end), n: 1}
	m.pos[0] = int32(start)
	return e.suppressed(&m, FlagCrisisMeasurement)
}

// scanKeyword reads the value(s) after (and for some kinds just before) a
// measurement keyword.
func (e *evaluator) scanKeyword(h cueHit) bool {
	toks := e.toks
	start, end := int(h.start), int(h.end)
	sent := toks[start].sent
	// A number right before: "a 104 fever", "160 bpm", "88% oxygen".
	if h.kind == kKwTemp || h.kind == kKwHR || h.kind == kKwSpO2 {
		p := start - 1
		if p >= 0 && toks[p].text == "%" && toks[p].kind == tkWord {
			p--
		}
		if p >= 0 && toks[p].sent == sent && toks[p].kind == tkNum {
			if e.judge(h.kind, p, -1) && !e.suppressedSpan(p, end) {
				return true
			}
		}
	}
	words := 0
	found := false
	for i := end; i < len(toks) && toks[i].sent == sent; i++ {
		t := &toks[i]
		if i > end && e.isKeywordStart(i) {
			break
		}
		switch t.kind {
		case tkTime:
			continue
		case tkWord:
			if h.kind == kKwGlucose && (t.text == "hi" || t.text == "lo") && (t.upper || i > 0 && meterVerbs[toks[i-1].text]) {
				if !e.suppressedSpan(start, i+1) {
					return true
				}
			}
			if t.text == "a1c" || t.text == "hba1c" {
				return false // "sugar … a1c 9.8" is not a glucose reading
			}
			words++
			limit := 6
			if found {
				limit = 2
				if !listWords[t.text] && !skipUnits[t.text] && !moreWords[t.text] && !lessWords[t.text] {
					return false
				}
			}
			if words > limit {
				return false
			}
			continue
		case tkRatio:
			if h.kind == kKwBP || h.kind == kKwBPDia {
				e.startMask[i] |= ratioUsed
				found, words = true, 0
				if t.num >= 50 && t.num <= 300 && t.num2 >= 20 && t.num2 <= 200 && bpCrisis(t.num, t.num2) && !e.suppressedSpan(start, i+1) {
					return true
				}
			}
			continue
		case tkNum:
			if i+1 < len(toks) && toks[i+1].sent == sent && skipUnits[toks[i+1].text] && toks[i+1].kind == tkWord &&
				!(toks[i+1].text == "mg" && i+2 < len(toks) && toks[i+2].text == "dl") {
				if !found {
					words++
				}
				continue
			}
			found, words = true, 0
			if e.judge(h.kind, i, i+1) && !e.suppressedSpan(start, i+1) {
				return true
			}
		}
	}
	return false
}

var meterVerbs = map[string]bool{"reads": true, "reading": true, "read": true, "says": true, "said": true, "shows": true, "showed": true, "showing": true, "displays": true, "is": true, "was": true}

// judge evaluates the number at toks[i]; next is the index of the token after
// it (for units), or -1 when the number precedes the keyword.
func (e *evaluator) judge(kind ruleKind, i, next int) bool {
	toks := e.toks
	t := &toks[i]
	v := t.num
	sent := t.sent
	if i > 0 && toks[i-1].sent == sent {
		switch p := toks[i-1].text; {
		case moreWords[p]:
			v += 0.5
		case lessWords[p]:
			v -= 0.5
		}
	}
	unit := func(k int) string {
		if next < 0 || next+k >= len(toks) || toks[next+k].sent != sent {
			return ""
		}
		return toks[next+k].text
	}
	switch kind {
	case kKwBP:
		// "185 over 100"
		if unit(0) == "over" && next+1 < len(toks) && toks[next+1].kind == tkNum && toks[next+1].sent == sent {
			return bpCrisis(t.num, toks[next+1].num) && t.num >= 50 && t.num <= 300
		}
		return v >= 60 && v <= 300 && v >= bpSystolicCrisis
	case kKwBPDia:
		return v >= 20 && v <= 200 && v >= bpDiastolicCrisis
	case kKwGlucose:
		u := unitUnknown
		switch unit(0) {
		case "mmol":
			u = unitMmol
		case "mgdl":
			u = unitMgDL
		case "mg":
			if unit(1) == "dl" {
				u = unitMgDL
			}
		}
		return glucoseCrisis(v, u)
	case kKwTemp:
		u := unitUnknown
		k := 0
		if unit(0) == "degrees" || unit(0) == "degree" || unit(0) == "deg" {
			k = 1
		}
		switch unit(k) {
		case "c", "celsius", "centigrade":
			u = unitC
		case "f", "fahrenheit":
			u = unitF
		}
		return tempCrisis(v, u)
	case kKwHR:
		if v > hrHigh && e.clauseHas(kExertion, t.clause) {
			return false // "heart rate 150 on the treadmill"
		}
		return v >= 15 && v <= 350 && (v < hrLow || v > hrHigh)
	case kKwSpO2:
		switch unit(0) {
		case "l", "liters", "liter", "litres", "litre", "lpm", "lt":
			return false
		}
		return v >= 40 && v <= 100 && v < spo2Crisis
	}
	return false
}
