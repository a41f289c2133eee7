package s3objects_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
