package retention_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/retention"
	"github.com/carepost/carepost/shared/s3objects"
)

func TestRetentionAndLegalHold(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	st := h.App.Store
	pr, err := st.Practice(ctx, apptest.PracticeA)
	if err != nil {
		t.Fatal(err)
	}
	pr.RetentionDays = 30
	if err := st.PutPractice(ctx, pr); err != nil {
		t.Fatal(err)
	}
	h.Accept(t, "patient")
	nurse, admin := h.Token(carepost.RoleNurse), h.Token(carepost.RoleAdmin)
	closed := func(subject string) string {
		th := h.Open(t, "patient", map[string]any{"category": "question", "subject": subject, "body": "Question about " + subject})
		h.Must(t, nurse, "POST", "/v1/threads/"+th.ThreadID+"/messages", map[string]any{"body": "Answer."}, http.StatusCreated, nil)
		h.Must(t, nurse, "POST", "/v1/threads/"+th.ThreadID+"/read", nil, http.StatusOK, nil)
		h.Must(t, nurse, "POST", "/v1/threads/"+th.ThreadID+"/close", nil, http.StatusOK, nil)
		return th.ThreadID
	}

	// The thread to delete carries an attachment in the bucket.
	old := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "Photo follows."})
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 100)...)
	var tk struct {
		Attachment carepost.Attachment `json:"attachment"`
		Upload     s3objects.Upload    `json:"upload"`
	}
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+old.ThreadID+"/attachments", map[string]any{"contentType": "application/pdf", "size": len(pdf)}, http.StatusCreated, &tk)
	// Uploaded twice (the URL stays valid for its expiry): the versioned
	// bucket keeps the first upload as a noncurrent version.
	for range 2 {
		req, _ := http.NewRequest("PUT", tk.Upload.URL, bytes.NewReader(pdf))
		for k, v := range tk.Upload.Headers {
			if k != "Content-Length" {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("upload: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	objectVersions := func() int {
		t.Helper()
		out, err := h.Stack.Clients.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(h.Stack.Outputs.Bucket), Prefix: aws.String(carepost.AttachmentPrefix(apptest.PracticeA, old.ThreadID))})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Versions) + len(out.DeleteMarkers)
	}
	if got, want := objectVersions(), 2; got != want {
		t.Fatalf("%d versions of the attachment, want %d: is the bucket versioned?", got, want)
	}
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+old.ThreadID+"/attachments/"+tk.Attachment.ID+"/complete", nil, http.StatusOK, nil)
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+old.ThreadID+"/messages", map[string]any{"body": "Here."}, http.StatusCreated, nil)
	h.Must(t, nurse, "POST", "/v1/threads/"+old.ThreadID+"/close", nil, http.StatusOK, nil)

	held := closed("Held")
	reopened := closed("Reopened")
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+reopened+"/messages", map[string]any{"body": "One more thing."}, http.StatusCreated, nil)
	active := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Open", "body": "Still open."}).ThreadID

	// Legal hold: admins only; audited.
	if st, _ := h.Do(t, nurse, "PUT", "/v1/threads/"+held+"/legal-hold", map[string]any{"on": true}, nil); st != http.StatusForbidden {
		t.Errorf("nurse setting a hold: %d", st)
	}
	if st, _ := h.Do(t, h.TokenFor(t, "b/admin"), "PUT", "/v1/threads/"+held+"/legal-hold", map[string]any{"on": true}, nil); st != http.StatusNotFound {
		t.Errorf("another practice's admin setting a hold: %d", st)
	}
	if st, _ := h.Do(t, admin, "PUT", "/v1/threads/"+held+"/legal-hold", map[string]any{}, nil); st != http.StatusUnprocessableEntity {
		t.Errorf("hold without on: %d", st)
	}
	var hv retention.HoldView
	h.Must(t, admin, "PUT", "/v1/threads/"+held+"/legal-hold", map[string]any{"on": true}, http.StatusOK, &hv)
	if !hv.On || hv.By != h.Subject(t, "admin") {
		t.Errorf("hold %+v", hv)
	}

	bucket := s3objects.New(h.Stack.Clients.S3, h.Stack.Outputs.Bucket, h.Stack.Outputs.BucketKeyID)
	job := func(days int) retention.Result {
		t.Helper()
		svc := retention.New(st, bucket, h.App.Messaging)
		svc.Now = func() time.Time { return time.Now().AddDate(0, 0, days) }
		r, err := svc.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	exists := func(tid string) bool { return h.GetItem(t, apptest.ThreadPK(apptest.PracticeA, tid), "META") != nil }
	itemsUnder := func(tid string) int {
		n := 0
		for _, it := range h.Items(t) {
			if apptest.S(it, "pk") == apptest.ThreadPK(apptest.PracticeA, tid) {
				n++
			}
		}
		return n
	}

	// Within the period nothing goes.
	if r := job(29); r.Deleted != 0 {
		t.Fatalf("29 days later: %+v", r)
	}
	// A practice-wide hold keeps everything.
	pr.LegalHold = true
	if err := st.PutPractice(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if r := job(31); r.Deleted != 0 || r.OnHold != 1 {
		t.Fatalf("under a practice hold: %+v", r)
	}
	pr.LegalHold = false
	if err := st.PutPractice(ctx, pr); err != nil {
		t.Fatal(err)
	}

	before := itemsUnder(old.ThreadID)
	r := job(31)
	if r.Deleted != 1 || r.Held != 1 || r.Objects != 1 {
		t.Fatalf("31 days later: %+v", r)
	}
	if exists(old.ThreadID) || itemsUnder(old.ThreadID) != 0 || before < 5 {
		t.Errorf("the old thread left %d of %d items", itemsUnder(old.ThreadID), before)
	}
	if _, err := h.Stack.Clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(h.Stack.Outputs.Bucket), Key: aws.String(tk.Attachment.ObjectKey())}); err == nil {
		t.Errorf("the attachment is still in the bucket")
	}
	// Not a delete marker over the data: no version of it is left.
	if n := objectVersions(); n != 0 {
		t.Errorf("%d versions or delete markers of the thread's attachments are left in the bucket", n)
	}
	if st, _ := h.Do(t, nurse, "GET", "/v1/threads/"+old.ThreadID, nil, nil); st != http.StatusNotFound {
		t.Errorf("the deleted thread answers %d", st)
	}
	for _, tid := range []string{held, reopened, active} {
		if !exists(tid) {
			t.Errorf("thread %s was deleted", tid)
		}
	}

	// Lifting the hold lets the next run delete it; nothing else goes.
	h.Must(t, admin, "PUT", "/v1/threads/"+held+"/legal-hold", map[string]any{"on": false}, http.StatusOK, &hv)
	if r := job(31); r.Deleted != 1 || r.Held != 0 {
		t.Errorf("after lifting the hold: %+v", r)
	}
	if exists(held) || !exists(reopened) || !exists(active) {
		t.Errorf("after lifting: held %v reopened %v active %v", exists(held), exists(reopened), exists(active))
	}
	if r := job(31); r.Deleted != 0 {
		t.Errorf("a third run deleted %+v", r)
	}

	// Both deletions and hold changes are in the audit log.
	evs, _, err := h.App.AuditLog.ListPatient(ctx, apptest.PracticeA, apptest.PatientA1, 500, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range evs {
		switch {
		case e.Action == "thread.delete" && e.Actor == retention.Actor:
			got["delete"]++
		case e.Action == "thread.legal_hold" && strings.HasSuffix(e.Object, "/hold/on"):
			got["on"]++
		case e.Action == "thread.legal_hold" && strings.HasSuffix(e.Object, "/hold/off"):
			got["off"]++
		}
	}
	if got["delete"] != 2 || got["on"] != 1 || got["off"] != 1 {
		t.Errorf("audit %v", got)
	}

	// A thread that changed since it was read is not deleted.
	cur, err := st.Thread(ctx, apptest.PracticeA, reopened)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteThreadMeta(ctx, apptest.PracticeA, reopened, cur.Version); carepost.ErrorCode(err) != carepost.CodeConflict {
		t.Errorf("deleting a reopened thread: %v", err)
	}
}
