package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/carepost/carepost/shared/carepost"
)

// MaxBody is the largest JSON body accepted.
const MaxBody = 64 << 10

// readBody reads at most MaxBody bytes of a JSON request body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		// curl -d sends x-www-form-urlencoded; the body is still parsed as
		// JSON (a bearer token is required, so no browser form can post here).
		json := mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded"
		if err != nil || !json {
			return nil, carepost.Errorf(carepost.CodeUnsupportedMedia, "send the body as application/json")
		}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, carepost.Errorf(carepost.CodeInvalid, "could not read the request body")
	}
	if len(b) > MaxBody {
		return nil, carepost.Errorf(carepost.CodeTooLarge, "the request body is larger than %d bytes", MaxBody)
	}
	return b, nil
}

// decodeStrict decodes one JSON object into v: unknown fields, wrong types
// and trailing data are 400s that name the field; nothing is echoed back.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return carepost.Errorf(carepost.CodeInvalid, "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &ute):
			field := ute.Field
			if field == "" {
				field = "body"
			}
			return carepost.FieldError(carepost.CodeInvalid, field, "%s must be %s", field, jsonType(ute.Type.Kind().String()))
		case errors.As(err, &se):
			return carepost.Errorf(carepost.CodeInvalid, "the body is not valid JSON (at byte %d)", se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if len(name) > 64 {
				name = name[:64]
			}
			return carepost.FieldError(carepost.CodeInvalid, name, "unknown field %q", name)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return carepost.Errorf(carepost.CodeInvalid, "the body is truncated JSON")
		}
		return carepost.Errorf(carepost.CodeInvalid, "the body is not a valid JSON object")
	}
	if dec.More() {
		return carepost.Errorf(carepost.CodeInvalid, "the body has data after the JSON object")
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "float32":
		return "a number"
	case "slice":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return fmt.Sprintf("of type %s", kind)
}
