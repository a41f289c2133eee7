package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// The OpenAPI 3.1 description is kept in fragments, one per feature
// (openapi/*.json), merged in file-name order: "paths" and
// "components.schemas" are unions; a path or schema defined twice is a bug
// and panics at start (and in the tests).
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

// OpenAPI returns the merged OpenAPI 3.1 document.
func OpenAPI() []byte {
	openAPIOnce.Do(func() {
		doc, err := mergeOpenAPI()
		if err != nil {
			panic(err)
		}
		openAPIDoc = doc
	})
	return openAPIDoc
}

func mergeOpenAPI() ([]byte, error) {
	entries, err := openAPIFiles.ReadDir("openapi")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var base map[string]any
	for _, name := range names {
		b, err := openAPIFiles.ReadFile("openapi/" + name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("openapi/%s: %w", name, err)
		}
		if base == nil {
			base = frag
			continue
		}
		if err := mergeSection(base, frag, name, "paths"); err != nil {
			return nil, err
		}
		fc, _ := frag["components"].(map[string]any)
		bc, _ := base["components"].(map[string]any)
		for _, section := range []string{"schemas", "parameters", "responses"} {
			if fc == nil {
				break
			}
			if err := mergeSection(bc, fc, name, section); err != nil {
				return nil, err
			}
		}
	}
	return json.MarshalIndent(base, "", "  ")
}

func mergeSection(dst, src map[string]any, file, section string) error {
	s, _ := src[section].(map[string]any)
	if len(s) == 0 {
		return nil
	}
	d, _ := dst[section].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[section] = d
	}
	for k, v := range s {
		if _, dup := d[k]; dup {
			return fmt.Errorf("openapi/%s: %s %q is defined twice", file, section, k)
		}
		d[k] = v
	}
	return nil
}
