package apptest

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/carepost/carepost/shared/httpapi"
)

// Spec checks real API responses against the OpenAPI 3.1 document the API
// serves (httpapi.OpenAPI): the response schema of the operation and status
// (or the operation's "default") is compiled with a JSON Schema 2020-12
// validator, formats asserted, and the body validated. Schemas in the
// document set additionalProperties false, so a field added to a response
// without the document fails too.
type Spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	paths    []specPath

	mu    sync.Mutex
	cache map[string]*jsonschema.Schema
}

type specPath struct {
	template string
	re       *regexp.Regexp
}

const specURL = "https://carepost.invalid/openapi.json"

// LoadSpec parses a document (nil: the API's own).
func LoadSpec(doc []byte) (*Spec, error) {
	if doc == nil {
		doc = httpapi.OpenAPI()
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the OpenAPI document is not an object")
	}
	if got := fmt.Sprint(m["openapi"]); !strings.HasPrefix(got, "3.1.") {
		return nil, fmt.Errorf("openapi %q, want 3.1.x", got)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, m); err != nil {
		return nil, err
	}
	s := &Spec{doc: m, compiler: c, cache: map[string]*jsonschema.Schema{}}
	paths, _ := m["paths"].(map[string]any)
	for tmpl := range paths {
		re := "^" + regexp.MustCompile(`\\\{[^/]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		s.paths = append(s.paths, specPath{template: tmpl, re: regexp.MustCompile(re)})
	}
	// Literal paths before templated ones ("/v1/threads" before "/v1/threads/{id}").
	sort.Slice(s.paths, func(i, j int) bool {
		ci, cj := strings.Count(s.paths[i].template, "{"), strings.Count(s.paths[j].template, "{")
		if ci != cj {
			return ci < cj
		}
		return s.paths[i].template < s.paths[j].template
	})
	return s, nil
}

// Template returns the documented path template a concrete path matches.
func (s *Spec) Template(path string) (string, bool) {
	path, _, _ = strings.Cut(path, "?")
	for _, p := range s.paths {
		if p.re.MatchString(path) {
			return p.template, true
		}
	}
	return "", false
}

// Check validates one response: method and concrete path (a query is
// ignored), status and JSON body. It fails when the path, the operation or
// a response for the status is not documented, or when the body does not
// match the documented schema.
func (s *Spec) Check(method, path string, status int, body []byte) error {
	tmpl, ok := s.Template(path)
	if !ok {
		return fmt.Errorf("%s %s is not documented", method, path)
	}
	opPtr := "/paths/" + escape(tmpl) + "/" + strings.ToLower(method)
	op, ok := s.at(opPtr).(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s is not documented", method, tmpl)
	}
	responses, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	resp, ok := responses[code]
	respPtr := opPtr + "/responses/" + code
	if !ok {
		if resp, ok = responses["default"]; !ok {
			return fmt.Errorf("%s %s: status %d is not documented", method, tmpl, status)
		}
		respPtr = opPtr + "/responses/default"
	}
	if ref, isRef := resp.(map[string]any)["$ref"].(string); isRef {
		respPtr = strings.TrimPrefix(ref, "#")
		resp = s.at(respPtr)
	}
	content, _ := resp.(map[string]any)["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		return fmt.Errorf("%s %s %d: a body where the document says none", method, tmpl, status)
	}
	sch, err := s.schema(respPtr + "/content/application~1json/schema")
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %v", method, tmpl, status, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%s %s %d does not match the document: %v", method, tmpl, status, err)
	}
	return nil
}

func (s *Spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.cache[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(specURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	s.cache[ptr] = sch
	return sch, nil
}

// at follows a JSON pointer in the document.
func (s *Spec) at(ptr string) any {
	var v any = s.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[tok]
	}
	return v
}

func escape(tok string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok) }

// Operations lists the documented "METHOD /path" pairs.
func (s *Spec) Operations() []string {
	var out []string
	for _, p := range s.paths {
		ops, _ := s.doc["paths"].(map[string]any)[p.template].(map[string]any)
		for m := range ops {
			switch m {
			case "get", "post", "put", "patch", "delete":
				out = append(out, strings.ToUpper(m)+" "+p.template)
			}
		}
	}
	sort.Strings(out)
	return out
}

// RefsResolve reports every "$ref" of the document that points nowhere.
func (s *Spec) RefsResolve() []string {
	var bad []string
	var walk func(v any)
	walk = func(v any) {
		switch c := v.(type) {
		case map[string]any:
			for k, x := range c {
				if ref, ok := x.(string); ok && k == "$ref" {
					if !strings.HasPrefix(ref, "#/") || s.at(strings.TrimPrefix(ref, "#")) == nil {
						bad = append(bad, ref)
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range c {
				walk(x)
			}
		}
	}
	walk(s.doc)
	return bad
}

// Recorder keeps every response a test saw, for checking them all against
// the document at the end.
type Recorder struct {
	mu   sync.Mutex
	Seen []Seen
}

// Seen is one recorded exchange.
type Seen struct {
	Method, Path string
	Status       int
	Body         []byte
}

// DoRecorded is Do that records the exchange in rec.
func (h *Harness) DoRecorded(rec *Recorder, token, method, path string, body any, headers map[string]string) (Response, error) {
	r, err := h.DoE(token, method, path, body, headers)
	if err == nil {
		rec.mu.Lock()
		rec.Seen = append(rec.Seen, Seen{Method: method, Path: path, Status: r.Status, Body: r.Body})
		rec.mu.Unlock()
	}
	return r, err
}
