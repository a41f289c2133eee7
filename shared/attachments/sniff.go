package attachments

import "bytes"

// SniffLen is how many leading bytes Sniff needs.
const SniffLen = 32

// Allowed content types and the family each belongs to (HEIC and HEIF are
// one container format; a phone may label either).
var allowed = map[string]string{
	"image/jpeg":      "jpeg",
	"image/png":       "png",
	"image/heic":      "heif",
	"image/heif":      "heif",
	"application/pdf": "pdf",
}

// heifBrands are the ISO-BMFF major brands of HEIC/HEIF still images.
var heifBrands = map[string]bool{"heic": true, "heix": true, "hevc": true, "hevx": true, "heim": true, "heis": true, "mif1": true, "msf1": true}

// Sniff names the type of a file by its first bytes: "image/jpeg",
// "image/png", "image/heic" (HEIC/HEIF), "application/pdf", or "" for
// anything else. It trusts nothing the client said.
func Sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf"
	case len(b) >= 12 && string(b[4:8]) == "ftyp" && heifBrands[string(b[8:12])]:
		// An ISO-BMFF box: size (4 bytes), "ftyp", major brand.
		if size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]); size >= 16 {
			return "image/heic"
		}
	}
	return ""
}

// sameFamily reports whether a declared type and a sniffed one agree.
func sameFamily(declared, sniffed string) bool {
	f, ok := allowed[declared]
	return ok && sniffed != "" && allowed[sniffed] == f
}
