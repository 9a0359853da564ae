package attachments

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// StatusReader computes the trust status of a digest.
type StatusReader interface {
	Status(ctx context.Context, d digest.Digest) (*supplychain.Status, error)
}

// ObjectStatus is the trust status of an object's current content, plus
// every attachment of the object and whether it applies to that content.
type ObjectStatus struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	*supplychain.Status
	Attachments []AttachmentStatus `json:"attachments"`
}

// AttachmentStatus is one attachment of an object. Current is set when it
// was made for the object's current content; otherwise Error says why it
// does not count.
type AttachmentStatus struct {
	Attachment
	Current bool   `json:"current"`
	Error   string `json:"error,omitempty"`
}

// ObjectStatus returns the trust status of bucket/key. Signatures and
// attestations count only for the object's current content: an attachment
// made before the object was overwritten is listed with an error.
func (s *Service) ObjectStatus(ctx context.Context, status StatusReader, bucket, key string) (*ObjectStatus, error) {
	o, err := s.objects.Object(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	current, err := status.Status(ctx, o.Blob)
	if err != nil {
		return nil, fmt.Errorf("trust status of %s/%s: %w", bucket, key, err)
	}
	attached, err := s.list(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	out := &ObjectStatus{Bucket: bucket, Key: key, Status: current, Attachments: []AttachmentStatus{}}
	for _, a := range attached {
		entry := AttachmentStatus{Attachment: a, Current: a.Subject == o.Blob}
		if !entry.Current {
			entry.Error = fmt.Sprintf("made for content %s, but the object's content is now %s: it does not apply to the current content", a.Subject, o.Blob)
		}
		out.Attachments = append(out.Attachments, entry)
	}
	return out, nil
}
