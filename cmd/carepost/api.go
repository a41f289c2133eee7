package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// apiClient calls the CarePost API. POSTs carry an Idempotency-Key, and a
// request that failed in transit or got 429/503 is retried with the same
// key, so a retry never does the work twice.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient() (*apiClient, error) {
	base := strings.TrimRight(os.Getenv("CAREPOST_API"), "/")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	tok := strings.TrimSpace(os.Getenv("CAREPOST_TOKEN"))
	if tok == "" {
		return nil, errors.New("CAREPOST_TOKEN is not set (a bearer token; on the dev stack: curl -s -X POST $CAREPOST_API/local-idp/token -d '{\"email\":...,\"password\":...}')")
	}
	return &apiClient{base: base, token: tok, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field"`
	Details map[string]any `json:"details"`
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
	if e.Field != "" {
		s += " [" + e.Field + "]"
	}
	return s
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// do sends body (JSON, or nothing when nil) and decodes a 2xx answer into
// out (when not nil).
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	key := newKey()
	var lastErr error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(250<<attempt) * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if method == http.MethodPost {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lastErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out == nil {
				return nil
			}
			return json.Unmarshal(b, out)
		}
		var e struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			e.Error = apiError{Code: "http_error", Message: strings.TrimSpace(string(b))}
		}
		e.Error.Status = resp.StatusCode
		lastErr = &e.Error
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable &&
			!(resp.StatusCode == http.StatusConflict && e.Error.Code == "conflict" && strings.Contains(e.Error.Message, "still in progress")) {
			return lastErr
		}
	}
	return lastErr
}
