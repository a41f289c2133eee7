package httpapi

import (
	_ "embed"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 description of the API (openapi.json).
func OpenAPI() []byte { return openAPI }
