package attachments

import "testing"

func TestSniff(t *testing.T) {
	ftyp := func(brand string) []byte {
		return append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p'}, []byte(brand+"\x00\x00\x00\x00mif1heic")...)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "image/jpeg"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3"), "application/pdf"},
		{"heic", ftyp("heic"), "image/heic"},
		{"heif mif1", ftyp("mif1"), "image/heic"},
		{"avif is not heic", ftyp("avif"), ""},
		{"mp4 is not heic", ftyp("isom"), ""},
		{"ftyp with a bad box size", append([]byte{0, 0, 0, 1, 'f', 't', 'y', 'p'}, []byte("heic\x00\x00\x00\x00")...), ""},
		{"html", []byte("<!doctype html><script>"), ""},
		{"gif", []byte("GIF89a"), ""},
		{"pdf not at the start", []byte("  %PDF-1.7"), ""},
		{"truncated png", []byte("\x89PNG"), ""},
		{"empty", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff(tc.b); got != tc.want {
				t.Errorf("Sniff = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSameFamily(t *testing.T) {
	for _, tc := range []struct {
		declared, sniffed string
		want              bool
	}{
		{"image/png", "image/png", true},
		{"image/heif", "image/heic", true},
		{"image/heic", "image/heic", true},
		{"image/png", "image/jpeg", false},
		{"application/pdf", "", false},
		{"text/html", "", false},
	} {
		if got := sameFamily(tc.declared, tc.sniffed); got != tc.want {
			t.Errorf("sameFamily(%q, %q) = %v, want %v", tc.declared, tc.sniffed, got, tc.want)
		}
	}
}

// FuzzSniff: any bytes give one of the allowed types or "".
func FuzzSniff(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("%PDF-"))
	f.Add([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if got := Sniff(b); got != "" {
			if _, ok := allowed[got]; !ok {
				t.Fatalf("Sniff returned %q", got)
			}
		}
	})
}
