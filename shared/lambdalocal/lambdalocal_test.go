package lambdalocal

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// echo is an http.Handler that reports what it saw.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(b),
		"auth": r.Header.Get("Authorization"), "remote": r.RemoteAddr, "idem": r.Header.Get("Idempotency-Key"),
	})
})

// The sample event from events/ goes through the same adapter Lambda uses and
// reaches the handler intact.
func TestSampleEventRoundTrip(t *testing.T) {
	raw, err := os.ReadFile("../../events/apigw-v2-open-thread.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := httpadapter.NewV2(echo).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, http.StatusCreated; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	var seen map[string]string
	if err := json.Unmarshal([]byte(resp.Body), &seen); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"method": "POST", "path": "/v1/threads", "body": ev.Body, "auth": "Bearer REPLACED-BY-TEST", "remote": "203.0.113.10", "idem": "sample-open-1"} {
		if got := seen[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// A real HTTP request through APIGateway becomes a v2 event and back.
func TestAPIGatewayServesHTTP(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	h := APIGateway(func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = e
		return httpadapter.NewV2(echo).ProxyWithContext(ctx, e)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/threads?limit=5&cursor=abc", strings.NewReader(`{"a":1}`))
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusCreated; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got.Version != "2.0" || got.RequestContext.HTTP.Method != "POST" || got.RawPath != "/v1/threads" {
		t.Errorf("event = %+v, want a v2 POST /v1/threads", got.RequestContext.HTTP)
	}
	if got.QueryStringParameters["limit"] != "5" || got.RawQueryString != "limit=5&cursor=abc" {
		t.Errorf("query = %v / %q", got.QueryStringParameters, got.RawQueryString)
	}
	if got.RequestContext.HTTP.SourceIP != "127.0.0.1" {
		t.Errorf("source ip = %q, want 127.0.0.1", got.RequestContext.HTTP.SourceIP)
	}
	var seen map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&seen)
	if seen["body"] != `{"a":1}` || seen["query"] != "limit=5&cursor=abc" {
		t.Errorf("handler saw %v", seen)
	}
}

// A failing function answers 500 like API Gateway does.
func TestFunctionErrorIs500(t *testing.T) {
	h := APIGateway(func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, io.ErrUnexpectedEOF
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if got, want := rec.Code, http.StatusInternalServerError; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
}
