// Package s3objects is the S3 adapter of the attachments bucket: presigned
// PUT and GET URLs, object metadata, ranged reads and deletion. It never
// reads a whole object and never logs keys or URLs.
//
// Objects are encrypted with SSE-KMS under the bucket's own key (the
// storage key of the CDK stack, which is also the bucket's default
// encryption, without an S3 Bucket Key so that the object's encryption
// context reaches KMS) — never under the application's envelope
// "data" key, whose key policy is for the functions' own use. The presigned
// PUT signs the content length, content type and the SSE headers naming
// that key, with an encryption context naming the practice, thread and
// attachment: in AWS, an upload with another length, type or encryption
// fails the signature check. Head reports whether an object is SSE-KMS
// under that key, so the caller refuses anything stored otherwise.
//
// The bucket is versioned (resources.Bucket.Versioned): DeleteObject only
// adds a delete marker and the data would stay as a noncurrent version.
// Delete and DeletePrefix therefore remove every version and every delete
// marker.
package s3objects

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/carepost"
)

// Bucket is one bucket with the KMS key its objects are encrypted under.
type Bucket struct {
	S3     *s3.Client
	Name   string
	KeyID  string // ARN of the bucket's KMS key; empty: read from the bucket's default encryption
	presig *s3.PresignClient

	mu         sync.Mutex
	defaultKey string // KeyID read from the bucket, once it succeeded
}

// New returns the adapter. keyARN is the ARN of the KMS key of the
// bucket's default encryption (CAREPOST_BUCKET_KEY_ID, which the stack
// sets to the storage key). When it is empty the adapter reads the key
// from the bucket's default encryption on first use (and needs
// s3:GetEncryptionConfiguration for that): a configuration built without
// the variable still signs and checks uploads under the bucket's own key,
// never under another one.
func New(c *s3.Client, bucket, keyARN string) *Bucket {
	return &Bucket{S3: c, Name: bucket, KeyID: keyARN, presig: s3.NewPresignClient(c)}
}

// key returns the ARN uploads must be encrypted under.
func (b *Bucket) key(ctx context.Context) (string, error) {
	if b.KeyID != "" {
		return b.KeyID, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.defaultKey != "" {
		return b.defaultKey, nil
	}
	out, err := b.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b.Name)})
	if err != nil {
		return "", mapErr(err)
	}
	if out.ServerSideEncryptionConfiguration != nil {
		for _, r := range out.ServerSideEncryptionConfiguration.Rules {
			if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm == s3types.ServerSideEncryptionAwsKms && aws.ToString(d.KMSMasterKeyID) != "" {
				b.defaultKey = aws.ToString(d.KMSMasterKeyID)
				return b.defaultKey, nil
			}
		}
	}
	return "", carepost.Errorf(carepost.CodeInternal, "the attachments bucket has no SSE-KMS default encryption and no key is configured")
}

// Upload is a presigned PUT: the client sends the file to URL with exactly
// Headers (their values are part of the signature).
type Upload struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Expires time.Time         `json:"expires"`
}

// Info is what HEAD says about an object.
type Info struct {
	Size        int64
	ContentType string
	Encryption  string // "aws:kms" for SSE-KMS
	KeyID       string // the KMS key S3 reports (an ARN in AWS)
	// UnderBucketKey: SSE-KMS under the bucket's key, the one the upload
	// URL names. Anything else was not uploaded as signed.
	UnderBucketKey bool
}

// EncryptionContext encodes an SSE-KMS encryption context header value.
func EncryptionContext(ctx map[string]string) string {
	b, _ := json.Marshal(ctx)
	return base64.StdEncoding.EncodeToString(b)
}

// PresignPut returns a PUT URL for key, valid for expires, that accepts only
// size bytes of contentType encrypted with SSE-KMS under the bucket's key
// and the encryption context.
func (b *Bucket) PresignPut(ctx context.Context, key, contentType string, size int64, encCtx map[string]string, expires time.Duration) (Upload, error) {
	now := time.Now()
	kms, err := b.key(ctx)
	if err != nil {
		return Upload{}, err
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key),
		ContentLength: aws.Int64(size), ContentType: aws.String(contentType),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
		SSEKMSKeyId:          aws.String(kms),
	}
	if len(encCtx) > 0 {
		in.SSEKMSEncryptionContext = aws.String(EncryptionContext(encCtx))
	}
	req, err := b.presig.PresignPutObject(ctx, in, s3.WithPresignExpires(expires))
	if err != nil {
		return Upload{}, carepost.Wrap(carepost.CodeInternal, err, "upload URL could not be signed")
	}
	h := map[string]string{}
	for k, v := range req.SignedHeader {
		if strings.EqualFold(k, "Host") || len(v) == 0 {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = v[0]
	}
	return Upload{URL: req.URL, Method: req.Method, Headers: h, Expires: now.Add(expires).UTC()}, nil
}

// PresignGet returns a GET URL valid for expires that downloads key as an
// attachment (never rendered inline) of contentType.
func (b *Bucket) PresignGet(ctx context.Context, key, contentType string, expires time.Duration) (string, error) {
	req, err := b.presig.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key),
		ResponseContentType:        aws.String(contentType),
		ResponseContentDisposition: aws.String("attachment"),
		ResponseCacheControl:       aws.String("no-store"),
	}, s3.WithPresignExpires(expires))
	if err != nil {
		return "", carepost.Wrap(carepost.CodeInternal, err, "download URL could not be signed")
	}
	return req.URL, nil
}

// Head reads an object's metadata; a missing object is CodeNotFound.
func (b *Bucket) Head(ctx context.Context, key string) (Info, error) {
	want, err := b.key(ctx)
	if err != nil {
		return Info{}, err
	}
	out, err := b.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return Info{}, mapErr(err)
	}
	i := Info{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType),
		Encryption: string(out.ServerSideEncryption), KeyID: aws.ToString(out.SSEKMSKeyId)}
	// S3 reports the key's ARN whichever way the upload named it, and the
	// key is configured as an ARN: an exact comparison.
	i.UnderBucketKey = out.ServerSideEncryption == s3types.ServerSideEncryptionAwsKms && i.KeyID == want
	return i, nil
}

// ReadPrefix reads at most n bytes from the start of an object (a ranged
// GET), for checking its type by content.
func (b *Bucket) ReadPrefix(ctx context.Context, key string, n int) ([]byte, error) {
	out, err := b.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1))},
		// A ranged read has no whole-object checksum to validate.
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return nil, mapErr(err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, int64(n)))
}

// Delete removes every version of one object and its delete markers
// (missing is fine).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.deleteVersions(ctx, key, func(k string) bool { return k == key })
	return err
}

// DeletePrefix removes every version and delete marker of every object
// under prefix and answers how many objects had data.
func (b *Bucket) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	return b.deleteVersions(ctx, prefix, func(string) bool { return true })
}

// maxDelete is the most identifiers one DeleteObjects call takes.
const maxDelete = 1000

// deleteVersions lists every version and delete marker under prefix whose
// key passes match, then deletes them by version id (a DeleteObject without
// one would only add another marker). It answers how many keys had data
// versions. A thread holds a few files with a few versions each, so the
// list is read whole before anything is deleted: listing never resumes
// from a marker that was just deleted.
func (b *Bucket) deleteVersions(ctx context.Context, prefix string, match func(string) bool) (int, error) {
	var ids []s3types.ObjectIdentifier
	withData := map[string]bool{}
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(b.Name), Prefix: aws.String(prefix)}
	for {
		out, err := b.S3.ListObjectVersions(ctx, in)
		if err != nil {
			return 0, mapErr(err)
		}
		for _, v := range out.Versions {
			if k := aws.ToString(v.Key); match(k) {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
				withData[k] = true
			}
		}
		for _, m := range out.DeleteMarkers {
			if match(aws.ToString(m.Key)) {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	for len(ids) > 0 {
		n := min(len(ids), maxDelete)
		out, err := b.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.Name),
			Delete: &s3types.Delete{Objects: ids[:n], Quiet: aws.Bool(true)},
		})
		if err != nil {
			return 0, mapErr(err)
		}
		if len(out.Errors) > 0 {
			// Codes only: keys are ids, but an error never needs them.
			e := out.Errors[0]
			return 0, mapErr(fmt.Errorf("%d of %d object versions not deleted (first: %s %s)", len(out.Errors), n, aws.ToString(e.Code), aws.ToString(e.Message)))
		}
		ids = ids[n:]
	}
	return len(withData), nil
}

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return carepost.NotFound("file")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey":
			return carepost.NotFound("file")
		case "SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError":
			return carepost.Unavailable(err, "file storage")
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return carepost.Unavailable(err, "file storage")
	}
	return carepost.Wrap(carepost.CodeInternal, err, "file storage error")
}
