package urgent

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tkWord  tokKind = iota // letters, optionally followed by digits: "chest", "o2", "a1c"
	tkNum                  // 48, 98.6, 1,200
	tkRatio                // 190/125 (num, num2)
	tkTime                 // 2:30
)

// Break levels recorded before a token.
const (
	brkNone     = 0
	brkSegment  = 1 // comma
	brkClause   = 2 // newline
	brkSentence = 3 // . ! ? ;
)

type token struct {
	text      string // normalised: lower case, apostrophes removed
	kind      tokKind
	upper     bool // at least two letters, all upper case in the original ("SOB", "HI")
	brk       uint8
	num, num2 float64
	sent      int32
	clause    int32
	seg       int32
	idOff     int32 // ids of the vocabulary terms this token matches: scratch.ids[idOff:idOff+idLen]
	idLen     int32
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02bc' || r == '`' || r == '\u00b4'
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// normalizer accumulates the lower-cased token text of one message.
type normalizer struct {
	buf   []byte
	toks  []token
	spans [][2]int32 // byte span of each token in buf (turned into strings at the end)
	brk   uint8
}

func (n *normalizer) reset() {
	n.buf = n.buf[:0]
	n.toks = n.toks[:0]
	n.spans = n.spans[:0]
	n.brk = brkNone
}

func (n *normalizer) setBreak(level uint8) {
	if level > n.brk {
		n.brk = level
	}
}

func (n *normalizer) emit(start int, t token) {
	t.brk = n.brk
	n.brk = brkNone
	n.toks = append(n.toks, t)
	n.spans = append(n.spans, [2]int32{int32(start), int32(len(n.buf))})
}

// add tokenizes s and appends its tokens.
func (n *normalizer) add(s string) {
	i := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				i = n.word(s, i)
			case c >= '0' && c <= '9':
				i = n.number(s, i)
			case c == '.' || c == '!' || c == '?' || c == ';':
				n.setBreak(brkSentence)
				i++
			case c == '\n' || c == '\r':
				n.setBreak(brkClause)
				i++
			case c == ',':
				n.setBreak(brkSegment)
				i++
			case c == '%':
				start := len(n.buf)
				n.buf = append(n.buf, '%')
				n.emit(start, token{kind: tkWord})
				i++
			default:
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsLetter(r):
			i = n.word(s, i)
		case isDigit(r):
			i = n.number(s, i)
		default:
			switch r {
			case '.', '!', '?', ';', '\u2026':
				n.setBreak(brkSentence)
			case '\n', '\r', '\u2028', '\u2029', '\u2022':
				n.setBreak(brkClause)
			case ',':
				n.setBreak(brkSegment)
			case '%':
				start := len(n.buf)
				n.buf = append(n.buf, '%')
				n.emit(start, token{kind: tkWord})
			}
			i += size
		}
	}
}

func (n *normalizer) word(s string, i int) int {
	start := len(n.buf)
	letters, uppers := 0, 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z':
				letters++
				n.buf = append(n.buf, c)
				i++
				continue
			case c >= 'A' && c <= 'Z':
				letters++
				uppers++
				n.buf = append(n.buf, c+('a'-'A'))
				i++
				continue
			case c >= '0' && c <= '9':
				n.buf = append(n.buf, c)
				i++
				continue
			case c == '\'' || c == '`':
				if i+1 < len(s) && (s[i+1] >= 'a' && s[i+1] <= 'z' || s[i+1] >= 'A' && s[i+1] <= 'Z') {
					i++
					continue
				}
			}
			if c != '\'' && c != '`' || i+1 >= len(s) || s[i+1] < utf8.RuneSelf {
				break
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				uppers++
			}
			n.buf = utf8.AppendRune(n.buf, unicode.ToLower(r))
			i += size
			continue
		}
		if isDigit(r) {
			n.buf = append(n.buf, byte(r))
			i += size
			continue
		}
		if isApostrophe(r) && i+size < len(s) {
			if r2, _ := utf8.DecodeRuneInString(s[i+size:]); unicode.IsLetter(r2) {
				i += size // can't -> cant, I'm -> im
				continue
			}
		}
		break
	}
	n.emit(start, token{kind: tkWord, upper: letters >= 2 && uppers == letters})
	return i
}

// digits scans a run of ASCII digits with an optional decimal part and
// returns the end index. Thousands separators are not recognised on purpose:
// "380,420,450" is a list of readings far more often than one number.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i
}

func parseNum(s string) float64 {
	if len(s) > 15 {
		return 1e15 // absurdly long digit runs are never plausible readings
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v
}

func (n *normalizer) number(s string, i int) int {
	start := len(n.buf)
	end := digits(s, i)
	t := token{kind: tkNum, num: parseNum(s[i:end])}
	n.buf = append(n.buf, s[i:end]...)
	j := end
	// 190/125, 190 / 125
	k := j
	for k < len(s) && s[k] == ' ' && k-j < 2 {
		k++
	}
	if k < len(s) && s[k] == '/' {
		m := k + 1
		for m < len(s) && s[m] == ' ' && m-k < 3 {
			m++
		}
		if m < len(s) && s[m] >= '0' && s[m] <= '9' {
			e2 := digits(s, m)
			t.kind = tkRatio
			t.num2 = parseNum(s[m:e2])
			n.buf = append(n.buf, '/')
			n.buf = append(n.buf, s[m:e2]...)
			j = e2
		}
	} else if j+2 < len(s) && s[j] == ':' && s[j+1] >= '0' && s[j+1] <= '9' && s[j+2] >= '0' && s[j+2] <= '9' {
		t.kind = tkTime
		n.buf = append(n.buf, s[j:j+3]...)
		j += 3
	}
	n.emit(start, t)
	return j
}

// finish turns spans into strings (one allocation for the whole message).
func (n *normalizer) finish() []token {
	all := string(n.buf)
	for k := range n.toks {
		n.toks[k].text = all[n.spans[k][0]:n.spans[k][1]]
	}
	return n.toks
}
