package s3objects_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/carepost/carepost/shared/s3objects"
	"github.com/carepost/carepost/shared/testenv"
)

// versions lists every version and delete marker under prefix.
func versions(t *testing.T, st testenv.Stack, prefix string) (data, markers int) {
	t.Helper()
	out, err := st.Clients.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(st.Outputs.Bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Versions), len(out.DeleteMarkers)
}

func putObject(t *testing.T, st testenv.Stack, key string, mod func(*s3.PutObjectInput)) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(st.Outputs.Bucket), Key: aws.String(key), Body: bytes.NewReader([]byte("%PDF-1.7\n")), ContentType: aws.String("application/pdf")}
	if mod != nil {
		mod(in)
	}
	if _, err := st.Clients.S3.PutObject(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// The upload URL names the bucket's own key (the storage key), not the
// envelope key, whether the key is configured or read from the bucket; Head
// says which objects are under it.
func TestUploadsAreUnderTheBucketKey(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	if st.Outputs.BucketKeyID == "" || st.Outputs.BucketKeyID == st.Outputs.KeyID {
		t.Fatalf("bootstrap's bucket key %q (data key %q)", st.Outputs.BucketKeyID, st.Outputs.KeyID)
	}
	for _, tc := range []struct {
		name, configured string
	}{
		{"configured", st.Outputs.BucketKeyID},
		{"read from the bucket", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := s3objects.New(st.Clients.S3, st.Outputs.Bucket, tc.configured)
			body := []byte("%PDF-1.7\nhello")
			up, err := b.PresignPut(ctx, "att/p/t/"+strings.ReplaceAll(tc.name, " ", "-"), "application/pdf", int64(len(body)), map[string]string{"practice": "p"}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := up.Headers["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"], st.Outputs.BucketKeyID; got != want {
				t.Errorf("upload names key %q, want the bucket key %q", got, want)
			}
			req, _ := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
			for k, v := range up.Headers {
				if k != "Content-Length" {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT: %d %s", resp.StatusCode, msg)
			}
			info, err := b.Head(ctx, "att/p/t/"+strings.ReplaceAll(tc.name, " ", "-"))
			if err != nil {
				t.Fatal(err)
			}
			if !info.UnderBucketKey || info.Encryption != "aws:kms" || info.KeyID != st.Outputs.BucketKeyID {
				t.Errorf("info %+v, want SSE-KMS under %s", info, st.Outputs.BucketKeyID)
			}
		})
	}

	b := s3objects.New(st.Clients.S3, st.Outputs.Bucket, st.Outputs.BucketKeyID)
	for _, tc := range []struct {
		name string
		mod  func(*s3.PutObjectInput)
		want bool
	}{
		{"the bucket's default encryption", nil, true},
		{"SSE-KMS under the bucket key", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(st.Outputs.BucketKeyID)
		}, true},
		{"SSE-KMS under the data key", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(st.Outputs.KeyID)
		}, false},
		{"SSE-S3", func(in *s3.PutObjectInput) { in.ServerSideEncryption = s3types.ServerSideEncryptionAes256 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "att/p/enc/" + strings.ReplaceAll(tc.name, " ", "-")
			putObject(t, st, key, tc.mod)
			info, err := b.Head(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.UnderBucketKey; got != tc.want {
				t.Errorf("UnderBucketKey = %v, want %v (%+v)", got, tc.want, info)
			}
		})
	}
}

// In the versioned bucket, deleting leaves nothing behind: no noncurrent
// version, no delete marker.
func TestDeleteRemovesEveryVersion(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	b := s3objects.New(st.Clients.S3, st.Outputs.Bucket, st.Outputs.BucketKeyID)

	// Three versions and a delete marker of one file, two versions of a
	// second one, one of a file whose key extends the first one's, and one
	// in another thread.
	for range 3 {
		putObject(t, st, "att/p/t1/a", nil)
	}
	if _, err := st.Clients.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(st.Outputs.Bucket), Key: aws.String("att/p/t1/a")}); err != nil {
		t.Fatal(err)
	}
	putObject(t, st, "att/p/t1/b", nil)
	putObject(t, st, "att/p/t1/b", nil)
	putObject(t, st, "att/p/t1/ab", nil)
	putObject(t, st, "att/p/t2/c", nil)
	if d, m := versions(t, st, "att/p/t1/a"); d != 4 || m != 1 {
		t.Fatalf("before: %d versions and %d markers under att/p/t1/a, want 4 and 1: is the bucket versioned?", d, m)
	}

	// One file: all of its versions, nothing of the key that extends it.
	if err := b.Delete(ctx, "att/p/t1/b"); err != nil {
		t.Fatal(err)
	}
	if d, m := versions(t, st, "att/p/t1/b"); d+m != 0 {
		t.Errorf("after Delete: %d versions and %d markers of the file", d, m)
	}
	if err := b.Delete(ctx, "att/p/t1/a"); err != nil {
		t.Fatal(err)
	}
	if d, m := versions(t, st, "att/p/t1/ab"); d != 1 || m != 0 {
		t.Errorf("deleting att/p/t1/a touched att/p/t1/ab: %d versions, %d markers", d, m)
	}
	if err := b.Delete(ctx, "att/p/t1/missing"); err != nil {
		t.Errorf("deleting a missing file: %v", err)
	}

	// A thread's prefix.
	for range 2 {
		putObject(t, st, "att/p/t1/a", nil)
	}
	n, err := b.DeletePrefix(ctx, "att/p/t1/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 2; got != want {
		t.Errorf("DeletePrefix deleted %d files, want %d", got, want)
	}
	if d, m := versions(t, st, "att/p/t1/"); d+m != 0 {
		t.Errorf("after DeletePrefix: %d versions and %d markers under the thread", d, m)
	}
	if d, _ := versions(t, st, "att/p/t2/"); d != 1 {
		t.Errorf("another thread's file: %d versions, want 1", d)
	}
	if n, err := b.DeletePrefix(ctx, "att/p/t1/"); err != nil || n != 0 {
		t.Errorf("a second DeletePrefix: %d, %v", n, err)
	}
}
