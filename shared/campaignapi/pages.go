package campaignapi

import (
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"

	"github.com/carepost/carepost/shared/carepost"
)

type pageData struct {
	Title    string
	Practice string
	Text     string
	Button   string // a POST form to the same address when set
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.6rem 1.2rem}</style>
</head><body>
{{if .Practice}}<p><strong>{{.Practice}}</strong></p>{{end}}
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Button}}<form method="post"><button type="submit">{{.Button}}</button></form>{{end}}
</body></html>
`))

func page(w http.ResponseWriter, status int, d pageData) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	return pageTmpl.Execute(w, d)
}

// errorPage answers a link that does not work with a page, not JSON: the
// person clicked it in an e-mail.
func errorPage(w http.ResponseWriter, err error) error {
	status, text := http.StatusInternalServerError, "Something went wrong on our side. Please try again later or sign in to CarePost."
	switch carepost.ErrorCode(err) {
	case carepost.CodeNotFound:
		status, text = http.StatusNotFound, "This link is not valid. Please sign in to CarePost instead."
	case carepost.CodeValidation:
		status, text = http.StatusGone, "This link has expired. Please sign in to CarePost or call the practice."
	case carepost.CodeConflict:
		var e *carepost.Error
		status = http.StatusConflict
		if errors.As(err, &e) {
			text = e.Message
		}
	case carepost.CodeUnavailable:
		status, text = http.StatusServiceUnavailable, "The service is busy. Please try again in a minute."
		w.Header().Set("Retry-After", "60")
	}
	if status >= 500 {
		slog.Error("public link failed", "code", carepost.ErrorCode(err), "cause", err.Error())
	}
	return page(w, status, pageData{Title: "Sorry", Text: text})
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
