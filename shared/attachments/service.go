// Package attachments lets a patient or staff member add photos and
// documents to a thread: the API hands out a short-lived presigned PUT URL
// (length, type and SSE-KMS encryption fixed in the signature), the client
// uploads straight to the bucket, and a completion call checks the object
// (size, type by its first bytes, SSE-KMS under the bucket's key) before it
// can be linked to a message. The next message the uploader writes in the thread carries it
// (see messaging.AttachmentLinker). Downloads are short-lived presigned GETs
// handed out after the same authorization as the thread.
//
// Object keys hold ids only (practice, thread, attachment); a file name is
// never stored. Nothing here logs, and errors never carry patient data.
package attachments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/s3objects"
)

// Limits. The upload URL lives long enough for a phone on a slow link to
// send 10 MB; the download URL only long enough to start the download.
const (
	MaxSize       = 10 << 20 // bytes per file
	MaxPerMessage = 5
	UploadExpiry  = 5 * time.Minute
	GetExpiry     = time.Minute
)

// Store is what the service needs of the database (package dynamo).
type Store interface {
	PutAttachment(ctx context.Context, a carepost.Attachment) error
	Attachment(ctx context.Context, pid, tid, aid string) (carepost.Attachment, error)
	ThreadAttachments(ctx context.Context, pid, tid string) ([]carepost.Attachment, error)
	ChangeAttachment(ctx context.Context, pid, tid, aid string, c carepost.AttachmentChange) error
	DeleteAttachment(ctx context.Context, pid, tid, aid string) error
}

// Objects is the attachments bucket (package s3objects).
type Objects interface {
	PresignPut(ctx context.Context, key, contentType string, size int64, encCtx map[string]string, expires time.Duration) (s3objects.Upload, error)
	PresignGet(ctx context.Context, key, contentType string, expires time.Duration) (string, error)
	Head(ctx context.Context, key string) (s3objects.Info, error)
	ReadPrefix(ctx context.Context, key string, n int) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// Threads is the messaging core: the one visibility rule and the audit log.
type Threads interface {
	VisibleThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error)
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service implements attachments.
type Service struct {
	Store   Store
	Objects Objects
	Threads Threads
	Now     func() time.Time
	NewID   func() string
}

var _ messaging.AttachmentLinker = (*Service)(nil)

// New returns a service with the real clock and random ids.
func New(store Store, objects Objects, threads Threads) *Service {
	return &Service{Store: store, Objects: objects, Threads: threads, Now: time.Now, NewID: messaging.RandomID}
}

// UploadInput asks for an upload URL.
type UploadInput struct {
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// UploadTicket is the answer: where and how to PUT the file, then complete.
type UploadTicket struct {
	Attachment carepost.Attachment `json:"attachment"`
	Upload     s3objects.Upload    `json:"upload"`
}

// Download is a short-lived URL for one attachment.
type Download struct {
	URL         string    `json:"url"`
	Expires     time.Time `json:"expires"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// writable loads a thread the caller may see and write to (a read-only
// proxy gets 403, like a reply; anyone else not found).
func (s *Service) writable(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error) {
	t, err := s.Threads.VisibleThread(ctx, p, threadID, action)
	if err != nil {
		return t, err
	}
	if !messaging.CanWrite(p, t, s.now()) {
		_ = s.Threads.RecordAudit(ctx, p, action, t.PatientID, "thread/"+t.ID, "denied")
		return t, carepost.Errorf(carepost.CodeForbidden, "you may read this thread but not write to it")
	}
	return t, nil
}

// pending lists the caller's attachments of t that no message carries yet
// and that still count (ready, or requested with a live upload URL).
func (s *Service) pending(ctx context.Context, t carepost.ThreadRecord, sender string) ([]carepost.Attachment, error) {
	all, err := s.Store.ThreadAttachments(ctx, t.PracticeID, t.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []carepost.Attachment
	for _, a := range all {
		if a.UploaderID != sender || a.MessageID != "" {
			continue
		}
		if a.State == carepost.AttachmentReady || (a.State == carepost.AttachmentRequested && now.Before(a.UploadBy)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// RequestUpload records a new attachment and returns its presigned PUT.
func (s *Service) RequestUpload(ctx context.Context, r messaging.Request, threadID string, in UploadInput) (UploadTicket, error) {
	p := r.Principal
	if _, ok := allowed[in.ContentType]; !ok {
		return UploadTicket{}, carepost.FieldError(carepost.CodeUnsupportedMedia, "contentType", "attachments may be JPEG, PNG, HEIC or PDF files")
	}
	if in.Size <= 0 {
		return UploadTicket{}, carepost.FieldError(carepost.CodeValidation, "size", "size must be the file's length in bytes")
	}
	if in.Size > MaxSize {
		return UploadTicket{}, carepost.FieldError(carepost.CodeTooLarge, "size", "a file may be at most %d MB", MaxSize>>20)
	}
	t, err := s.writable(ctx, p, threadID, "attachment.upload")
	if err != nil {
		return UploadTicket{}, err
	}
	now := s.now()
	id := s.NewID()
	if r.IdempotencyKey != "" {
		h := sha256.Sum256([]byte("attachment\x00" + p.PracticeID + "\x00" + p.Subject + "\x00" + r.IdempotencyKey))
		id = hex.EncodeToString(h[:16])
	}
	pend, err := s.pending(ctx, t, p.Subject)
	if err != nil {
		return UploadTicket{}, err
	}
	if len(pend) >= MaxPerMessage {
		return UploadTicket{}, carepost.Errorf(carepost.CodeValidation, "a message may carry at most %d attachments; send the message first", MaxPerMessage)
	}
	a := carepost.Attachment{PracticeID: t.PracticeID, ThreadID: t.ID, ID: id, State: carepost.AttachmentRequested,
		UploaderID: p.Subject, UploaderRole: p.Role, ContentType: in.ContentType, Size: in.Size, Created: now, UploadBy: now.Add(UploadExpiry)}
	if err := s.Store.PutAttachment(ctx, a); err != nil {
		return UploadTicket{}, err
	}
	up, err := s.Objects.PresignPut(ctx, a.ObjectKey(), a.ContentType, a.Size, encryptionContext(a), UploadExpiry)
	if err != nil {
		return UploadTicket{}, err
	}
	if err := s.Threads.RecordAudit(ctx, p, "attachment.upload", t.PatientID, "thread/"+t.ID+"/attachment/"+a.ID, "ok"); err != nil {
		return UploadTicket{}, err
	}
	return UploadTicket{Attachment: a, Upload: up}, nil
}

// encryptionContext binds an object's SSE-KMS data key to its place.
func encryptionContext(a carepost.Attachment) map[string]string {
	return map[string]string{"practice": a.PracticeID, "thread": a.ThreadID, "attachment": a.ID}
}

// Complete checks the uploaded object and makes the attachment ready for
// the uploader's next message. A file that is too large, of another type
// than declared, or not SSE-KMS encrypted under the bucket's key is deleted
// (every version of it) and refused.
func (s *Service) Complete(ctx context.Context, r messaging.Request, threadID, id string) (carepost.Attachment, error) {
	p := r.Principal
	t, err := s.writable(ctx, p, threadID, "attachment.complete")
	if err != nil {
		return carepost.Attachment{}, err
	}
	a, err := s.Store.Attachment(ctx, t.PracticeID, t.ID, id)
	if err != nil || a.UploaderID != p.Subject {
		return carepost.Attachment{}, carepost.NotFound("attachment")
	}
	switch a.State {
	case carepost.AttachmentReady, carepost.AttachmentLinked:
		return a, nil // a retry
	}
	info, err := s.Objects.Head(ctx, a.ObjectKey())
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return carepost.Attachment{}, carepost.Errorf(carepost.CodeConflict, "the file has not been uploaded yet")
	}
	if err != nil {
		return carepost.Attachment{}, err
	}
	var reject error
	switch {
	case info.Size > MaxSize:
		reject = carepost.Errorf(carepost.CodeTooLarge, "a file may be at most %d MB", MaxSize>>20)
	case info.Size != a.Size:
		reject = carepost.Errorf(carepost.CodeValidation, "the uploaded file's length differs from the declared size")
	case !info.UnderBucketKey:
		// SSE-S3, no encryption, or SSE-KMS under another key (the data
		// key, say): not what the upload URL signed.
		reject = carepost.Errorf(carepost.CodeValidation, "the file was not uploaded with the required encryption headers")
	case info.ContentType != "" && info.ContentType != a.ContentType:
		reject = carepost.Errorf(carepost.CodeUnsupportedMedia, "the uploaded file's type differs from the declared type")
	}
	if reject == nil {
		head, err := s.Objects.ReadPrefix(ctx, a.ObjectKey(), SniffLen)
		if err != nil {
			return carepost.Attachment{}, err
		}
		if !sameFamily(a.ContentType, Sniff(head)) {
			reject = carepost.Errorf(carepost.CodeUnsupportedMedia, "the file's content is not a %s file", a.ContentType)
		}
	}
	if reject != nil {
		if err := s.Objects.Delete(ctx, a.ObjectKey()); err != nil {
			return carepost.Attachment{}, err
		}
		if err := s.Store.DeleteAttachment(ctx, a.PracticeID, a.ThreadID, a.ID); err != nil {
			return carepost.Attachment{}, err
		}
		_ = s.Threads.RecordAudit(ctx, p, "attachment.complete", t.PatientID, "thread/"+t.ID+"/attachment/"+a.ID, "denied")
		return carepost.Attachment{}, reject
	}
	pend, err := s.pending(ctx, t, p.Subject)
	if err != nil {
		return carepost.Attachment{}, err
	}
	ready := 0
	for _, x := range pend {
		if x.State == carepost.AttachmentReady {
			ready++
		}
	}
	if ready >= MaxPerMessage {
		return carepost.Attachment{}, carepost.Errorf(carepost.CodeValidation, "a message may carry at most %d attachments; send the message first", MaxPerMessage)
	}
	now := s.now()
	err = s.Store.ChangeAttachment(ctx, a.PracticeID, a.ThreadID, a.ID, carepost.AttachmentChange{From: carepost.AttachmentRequested, To: carepost.AttachmentReady, Completed: now})
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return s.Store.Attachment(ctx, a.PracticeID, a.ThreadID, a.ID) // completed concurrently
	}
	if err != nil {
		return carepost.Attachment{}, err
	}
	a.State, a.Completed = carepost.AttachmentReady, now
	return a, s.Threads.RecordAudit(ctx, p, "attachment.complete", t.PatientID, "thread/"+t.ID+"/attachment/"+a.ID, "ok")
}

// LinkPending implements messaging.AttachmentLinker: the sender's ready
// attachments of t (oldest first, at most MaxPerMessage) are linked to
// messageID. A retry of the same message links the same files.
func (s *Service) LinkPending(ctx context.Context, t carepost.ThreadRecord, senderID, messageID string) ([]string, error) {
	all, err := s.Store.ThreadAttachments(ctx, t.PracticeID, t.ID)
	if err != nil {
		return nil, err
	}
	var mine []carepost.Attachment
	for _, a := range all {
		if a.UploaderID != senderID {
			continue
		}
		if (a.State == carepost.AttachmentReady && a.MessageID == "") || (a.State == carepost.AttachmentLinked && a.MessageID == messageID) {
			mine = append(mine, a)
		}
	}
	sort.Slice(mine, func(i, j int) bool {
		if !mine[i].Completed.Equal(mine[j].Completed) {
			return mine[i].Completed.Before(mine[j].Completed)
		}
		return mine[i].ID < mine[j].ID
	})
	var ids []string
	for _, a := range mine {
		if len(ids) == MaxPerMessage {
			break
		}
		if a.State == carepost.AttachmentReady {
			err := s.Store.ChangeAttachment(ctx, t.PracticeID, t.ID, a.ID, carepost.AttachmentChange{
				From: carepost.AttachmentReady, To: carepost.AttachmentLinked, MessageID: messageID, FromMessage: messageID})
			if carepost.ErrorCode(err) == carepost.CodeConflict {
				continue // linked by a concurrent message of the same sender
			}
			if err != nil {
				return nil, err
			}
		}
		ids = append(ids, a.ID)
	}
	return ids, nil
}

// visibleAttachment loads an attachment of a thread the caller may see:
// linked ones for everyone who sees the thread, unsent ones only for their
// uploader. Anything else is not found.
func (s *Service) visibleAttachment(ctx context.Context, p carepost.Principal, threadID, id, action string) (carepost.ThreadRecord, carepost.Attachment, error) {
	t, err := s.Threads.VisibleThread(ctx, p, threadID, action)
	if err != nil {
		return t, carepost.Attachment{}, err
	}
	a, err := s.Store.Attachment(ctx, t.PracticeID, t.ID, id)
	if err != nil {
		return t, a, err
	}
	if a.State != carepost.AttachmentLinked && a.UploaderID != p.Subject {
		_ = s.Threads.RecordAudit(ctx, p, action, t.PatientID, "thread/"+t.ID+"/attachment/"+a.ID, "denied")
		return t, carepost.Attachment{}, carepost.NotFound("attachment")
	}
	if a.State == carepost.AttachmentRequested {
		return t, carepost.Attachment{}, carepost.Errorf(carepost.CodeConflict, "the upload has not been completed")
	}
	return t, a, nil
}

// Download returns a short-lived GET URL for an attachment.
func (s *Service) Download(ctx context.Context, p carepost.Principal, threadID, id string) (Download, error) {
	t, a, err := s.visibleAttachment(ctx, p, threadID, id, "attachment.read")
	if err != nil {
		return Download{}, err
	}
	url, err := s.Objects.PresignGet(ctx, a.ObjectKey(), a.ContentType, GetExpiry)
	if err != nil {
		return Download{}, err
	}
	if err := s.Threads.RecordAudit(ctx, p, "attachment.read", t.PatientID, "thread/"+t.ID+"/attachment/"+a.ID, "ok"); err != nil {
		return Download{}, err
	}
	return Download{URL: url, Expires: s.now().Add(GetExpiry), ContentType: a.ContentType, Size: a.Size}, nil
}

// List returns a thread's attachments the caller may see: every linked one,
// and the caller's own unsent ones.
func (s *Service) List(ctx context.Context, p carepost.Principal, threadID string) ([]carepost.Attachment, error) {
	t, err := s.Threads.VisibleThread(ctx, p, threadID, "attachment.list")
	if err != nil {
		return nil, err
	}
	all, err := s.Store.ThreadAttachments(ctx, t.PracticeID, t.ID)
	if err != nil {
		return nil, err
	}
	out := []carepost.Attachment{}
	for _, a := range all {
		if a.State == carepost.AttachmentLinked || a.UploaderID == p.Subject {
			out = append(out, a)
		}
	}
	return out, s.Threads.RecordAudit(ctx, p, "attachment.list", t.PatientID, "thread/"+t.ID, "ok")
}
