package attachments_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/attachments"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/s3objects"
)

type ticket struct {
	Attachment carepost.Attachment `json:"attachment"`
	Upload     s3objects.Upload    `json:"upload"`
}

var (
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 200)...)
	pdfFile  = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 300)...)
	htmlFile = []byte("<!doctype html><script>alert(1)</script>")
)

// put uploads body to a presigned URL with the signed headers (drop names
// a header to leave out, as a client that ignores them would).
func put(t *testing.T, up s3objects.Upload, body []byte, drop ...string) {
	t.Helper()
	putWith(t, up, body, nil, drop...)
}

// putWith is put with some headers replaced by set (the emulator does not
// check the signature, so this stands for an upload that ignored it).
func putWith(t *testing.T, up s3objects.Upload, body []byte, set map[string]string, drop ...string) {
	t.Helper()
	req, err := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up.Headers {
		skip := k == "Content-Length"
		for _, d := range drop {
			skip = skip || strings.EqualFold(d, k)
		}
		if !skip {
			req.Header.Set(k, v)
		}
	}
	for k, v := range set {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT to the bucket: %d %s", resp.StatusCode, b)
	}
}

func (a *attHarness) request(t *testing.T, who, tid, ctype string, size int, want int) ticket {
	t.Helper()
	var tk ticket
	st, body := a.h.Do(t, a.h.TokenFor(t, who), "POST", "/v1/threads/"+tid+"/attachments", map[string]any{"contentType": ctype, "size": size}, a.key())
	if st != want {
		t.Fatalf("request upload: %d, want %d: %s", st, want, body)
	}
	if st == http.StatusCreated {
		apptest.Decode(t, body, &tk)
	}
	return tk
}

func (a *attHarness) complete(t *testing.T, who, tid, aid string) (int, []byte) {
	t.Helper()
	return a.h.Do(t, a.h.TokenFor(t, who), "POST", "/v1/threads/"+tid+"/attachments/"+aid+"/complete", nil, a.key())
}

type attHarness struct {
	h *apptest.Harness
	n int
}

func (a *attHarness) key() map[string]string {
	a.n++
	return map[string]string{"Idempotency-Key": "att-" + strconv.Itoa(a.n)}
}

// exists says whether anything of key is left in the versioned bucket: a
// current object, a noncurrent version or a delete marker.
func (a *attHarness) exists(t *testing.T, key string) bool {
	t.Helper()
	out, err := a.h.Stack.Clients.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(a.h.Stack.Outputs.Bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			return true
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			return true
		}
	}
	return false
}

func TestAttachmentsOverHTTP(t *testing.T) {
	h := apptest.New(t)
	a := &attHarness{h: h}
	h.Accept(t, "patient")
	h.Accept(t, "patient2")
	th := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "Photo follows."})
	other := h.Open(t, "patient2", map[string]any{"category": "question", "subject": "Cough", "body": "Hello."})

	// The upload URL: short-lived, length, type and SSE-KMS signed, ids
	// only in the key.
	tk := a.request(t, "patient", th.ThreadID, "image/png", len(pngFile), http.StatusCreated)
	u, err := url.Parse(tk.Upload.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got, want := q.Get("X-Amz-Expires"), "300"; got != want {
		t.Errorf("X-Amz-Expires = %s, want %s", got, want)
	}
	signed := q.Get("X-Amz-SignedHeaders")
	for _, hdr := range []string{"content-length", "content-type", "host", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-context"} {
		if !strings.Contains(";"+signed+";", ";"+hdr+";") {
			t.Errorf("signed headers %q lack %s", signed, hdr)
		}
	}
	if got, want := tk.Upload.Headers["X-Amz-Server-Side-Encryption"], "aws:kms"; got != want {
		t.Errorf("SSE header %q, want %q", got, want)
	}
	// The bucket's own (storage) key, never the envelope key.
	if got, want := tk.Upload.Headers["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"], h.Stack.Outputs.BucketKeyID; got != want || got == h.Stack.Outputs.KeyID {
		t.Errorf("SSE key %q, want the bucket key %q (data key %q)", got, want, h.Stack.Outputs.KeyID)
	}
	wantKey := "/" + h.Stack.Outputs.Bucket + "/att/" + apptest.PracticeA + "/" + th.ThreadID + "/" + tk.Attachment.ID
	if u.Path != wantKey {
		t.Errorf("object path %q, want %q", u.Path, wantKey)
	}

	// Before the upload: completing is a conflict; nobody else sees it.
	if st, body := a.complete(t, "patient", th.ThreadID, tk.Attachment.ID); st != http.StatusConflict {
		t.Errorf("complete before upload: %d %s", st, body)
	}
	put(t, tk.Upload, pngFile)
	if st, body := a.complete(t, "nurse", th.ThreadID, tk.Attachment.ID); st != http.StatusNotFound {
		t.Errorf("nurse completing the patient's upload: %d %s", st, body)
	}
	var done carepost.Attachment
	st, body := a.complete(t, "patient", th.ThreadID, tk.Attachment.ID)
	if st != http.StatusOK {
		t.Fatalf("complete: %d %s", st, body)
	}
	apptest.Decode(t, body, &done)
	if got, want := done.State, carepost.AttachmentReady; got != want {
		t.Errorf("state %q, want %q", got, want)
	}
	if st, _ := h.Do(t, h.Token(carepost.RoleNurse), "GET", "/v1/threads/"+th.ThreadID+"/attachments/"+tk.Attachment.ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("nurse downloading an unsent attachment: %d, want 404", st)
	}

	// The patient's next message carries it.
	var res struct {
		Message struct{ ID string }
	}
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+th.ThreadID+"/messages", map[string]any{"body": "Here is the photo."}, http.StatusCreated, &res)
	var detail struct {
		Messages []struct {
			ID          string   `json:"id"`
			Attachments []string `json:"attachments"`
		} `json:"messages"`
	}
	h.Must(t, h.Token(carepost.RoleNurse), "GET", "/v1/threads/"+th.ThreadID, nil, http.StatusOK, &detail)
	var linked []string
	for _, m := range detail.Messages {
		if m.ID == res.Message.ID {
			linked = m.Attachments
		} else if len(m.Attachments) > 0 {
			t.Errorf("message %s carries %v", m.ID, m.Attachments)
		}
	}
	if got, want := strings.Join(linked, ","), tk.Attachment.ID; got != want {
		t.Fatalf("reply carries %q, want %q", got, want)
	}
	// A second reply carries nothing more.
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+th.ThreadID+"/messages", map[string]any{"body": "And a question."}, http.StatusCreated, nil)

	// Download: everyone who sees the thread, and no one else.
	for _, tc := range []struct {
		who  string
		want int
	}{
		{"nurse", http.StatusOK}, {"clinician", http.StatusOK}, {"patient", http.StatusOK}, {"proxy-ro", http.StatusOK},
		{"patient2", http.StatusNotFound}, {"frontdesk", http.StatusNotFound}, {"b/nurse", http.StatusNotFound}, {"scheduler", http.StatusNotFound},
	} {
		t.Run("download as "+tc.who, func(t *testing.T) {
			st, body := h.Do(t, h.TokenFor(t, tc.who), "GET", "/v1/threads/"+th.ThreadID+"/attachments/"+tk.Attachment.ID, nil, nil)
			if st != tc.want {
				t.Fatalf("status %d, want %d: %s", st, tc.want, body)
			}
			if st != http.StatusOK {
				return
			}
			var d attachments.Download
			apptest.Decode(t, body, &d)
			resp, err := http.Get(d.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(got, pngFile) {
				t.Errorf("downloaded %d bytes, not the file", len(got))
			}
			if gu, _ := url.Parse(d.URL); gu.Query().Get("X-Amz-Expires") != "60" || gu.Query().Get("response-content-disposition") != "attachment" {
				t.Errorf("download URL query %v", gu.Query())
			}
		})
	}
	req, _ := http.NewRequest("GET", h.URL+"/v1/threads/"+th.ThreadID+"/attachments/"+tk.Attachment.ID+"?redirect=true", nil)
	req.Header.Set("Authorization", "Bearer "+h.Token(carepost.RoleNurse))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), tk.Attachment.ID+"?") {
			t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// An attachment id under another thread id is not found.
	if st, _ := h.Do(t, h.Token(carepost.RoleNurse), "GET", "/v1/threads/"+other.ThreadID+"/attachments/"+tk.Attachment.ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("attachment through another thread: %d", st)
	}

	// Refusals.
	a.request(t, "patient", th.ThreadID, "text/html", 100, http.StatusUnsupportedMediaType)
	a.request(t, "patient", th.ThreadID, "image/png", attachments.MaxSize+1, http.StatusRequestEntityTooLarge)
	a.request(t, "patient", th.ThreadID, "image/png", 0, http.StatusUnprocessableEntity)
	a.request(t, "patient2", th.ThreadID, "image/png", 100, http.StatusNotFound)
	a.request(t, "proxy-ro", th.ThreadID, "image/png", 100, http.StatusForbidden)

	for _, tc := range []struct {
		name     string
		declared string
		file     []byte
		size     int
		set      map[string]string
		drop     []string
		want     int
	}{
		{"content is not the declared type", "image/png", pdfFile, len(pdfFile), nil, nil, http.StatusUnsupportedMediaType},
		{"html labelled as a PDF", "application/pdf", htmlFile, len(htmlFile), nil, nil, http.StatusUnsupportedMediaType},
		{"shorter than declared", "application/pdf", pdfFile[:100], len(pdfFile), nil, nil, http.StatusUnprocessableEntity},
		// Stored SSE-KMS under the envelope key, as the upload URL once said.
		{"encrypted under the data key", "application/pdf", pdfFile, len(pdfFile), map[string]string{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": h.Stack.Outputs.KeyID}, nil, http.StatusUnprocessableEntity},
		{"encrypted with S3-managed keys", "application/pdf", pdfFile, len(pdfFile), map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}, []string{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "X-Amz-Server-Side-Encryption-Context"}, http.StatusUnprocessableEntity},
		{"another content type header", "application/pdf", pdfFile, len(pdfFile), nil, []string{"Content-Type"}, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := a.request(t, "patient", th.ThreadID, tc.declared, tc.size, http.StatusCreated)
			// Twice: a URL stays valid for its expiry, and every upload
			// leaves a version in the versioned bucket.
			putWith(t, tk.Upload, tc.file, tc.set, tc.drop...)
			putWith(t, tk.Upload, tc.file, tc.set, tc.drop...)
			st, body := a.complete(t, "patient", th.ThreadID, tk.Attachment.ID)
			if st != tc.want {
				t.Fatalf("complete: %d, want %d: %s", st, tc.want, body)
			}
			if a.exists(t, tk.Attachment.ObjectKey()) {
				t.Errorf("the refused object (or a version or delete marker of it) is still in the bucket")
			}
			if it := h.GetItem(t, apptest.ThreadPK(apptest.PracticeA, th.ThreadID), "ATT#"+tk.Attachment.ID); it != nil {
				t.Errorf("the refused attachment is still recorded")
			}
		})
	}

	// At most five per message: the sixth upload waits for a message.
	th2 := h.Open(t, "patient", map[string]any{"category": "question", "subject": "More", "body": "Several photos."})
	var ids []string
	for i := 0; i < attachments.MaxPerMessage; i++ {
		tk := a.request(t, "patient", th2.ThreadID, "application/pdf", len(pdfFile), http.StatusCreated)
		put(t, tk.Upload, pdfFile)
		if st, body := a.complete(t, "patient", th2.ThreadID, tk.Attachment.ID); st != http.StatusOK {
			t.Fatalf("complete %d: %d %s", i, st, body)
		}
		ids = append(ids, tk.Attachment.ID)
	}
	a.request(t, "patient", th2.ThreadID, "application/pdf", len(pdfFile), http.StatusUnprocessableEntity)
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+th2.ThreadID+"/messages", map[string]any{"body": "Five files."}, http.StatusCreated, &res)
	msg := h.GetItem(t, apptest.ThreadPK(apptest.PracticeA, th2.ThreadID), apptest.MessageSK(res.Message.ID))
	ss, _ := msg["attachments"].(*types.AttributeValueMemberSS)
	if ss == nil {
		t.Fatalf("the message carries no attachments")
	}
	slices.Sort(ss.Value)
	slices.Sort(ids)
	if got, want := strings.Join(ss.Value, ","), strings.Join(ids, ","); got != want {
		t.Errorf("message carries %s, want %s", got, want)
	}
	a.request(t, "patient", th2.ThreadID, "application/pdf", len(pdfFile), http.StatusCreated)

	// Staff attachments work the same way, toward the patient.
	tk = a.request(t, "nurse", th.ThreadID, "application/pdf", len(pdfFile), http.StatusCreated)
	put(t, tk.Upload, pdfFile)
	if st, body := a.complete(t, "nurse", th.ThreadID, tk.Attachment.ID); st != http.StatusOK {
		t.Fatalf("nurse complete: %d %s", st, body)
	}
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+th.ThreadID+"/messages", map[string]any{"body": "Your instructions are attached."}, http.StatusCreated, nil)
	h.Must(t, h.Token(carepost.RolePatient), "GET", "/v1/threads/"+th.ThreadID+"/attachments/"+tk.Attachment.ID, nil, http.StatusOK, nil)
}
