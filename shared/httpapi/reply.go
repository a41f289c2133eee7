package httpapi

import "net/http"

// Reply writes v as the JSON answer with status, the way the core routes
// do (for routes defined in other packages).
func Reply(w http.ResponseWriter, status int, v any) error { return reply(w, status, v) }
