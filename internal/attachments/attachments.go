// Package attachments stores signatures, SBOMs and attestations attached to
// S3 objects. Each attachment is an OCI referrer manifest whose subject is
// the object's content digest, kept in an internal repository of its own
// per object, so the trust status of that digest finds it like any other
// referrer. The package does not depend on HTTP.
package attachments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// Annotations written on every attachment manifest.
const (
	AnnotationBucket  = "dev.coffer.attachment.bucket"
	AnnotationKey     = "dev.coffer.attachment.key"
	AnnotationCreated = "org.opencontainers.image.created"
)

// RepositoryPrefix starts the name of every internal attachment repository.
const RepositoryPrefix = "coffer-attachments/"

// MaxPerObject bounds the attachments of one object, so that listing them
// and computing an object's trust status stay cheap.
const MaxPerObject = 100

// tagPrefix starts the tag that indexes each attachment in its repository.
const tagPrefix = "attachment-"

var (
	// ErrNotFound reports an attachment that the object does not have.
	ErrNotFound = errors.New("attachment not found")
	// ErrInvalid reports a document or media type that cannot be attached.
	ErrInvalid = errors.New("invalid attachment")
	// ErrTooLarge reports a document over supplychain.MaxDocumentBytes.
	ErrTooLarge = errors.New("attachment is too large")
	// ErrSubjectChanged reports an object overwritten since the document
	// was made for it.
	ErrSubjectChanged = errors.New("the object's content changed")
	// ErrTooMany reports an object that already has MaxPerObject attachments.
	ErrTooMany = errors.New("too many attachments")
)

// Registry is the part of the registry that stores attachment manifests
// and documents.
type Registry interface {
	PutBlob(ctx context.Context, repo string, d digest.Digest, body io.Reader, declared int64) (metadata.Blob, error)
	OpenBlob(ctx context.Context, b metadata.Blob, start, length int64) (io.ReadCloser, error)
	PutManifest(ctx context.Context, repo string, ref registry.Reference, contentType string, body io.Reader, tags []string) (*metadata.Manifest, error)
	GetManifest(ctx context.Context, repo string, ref registry.Reference) (*metadata.Manifest, error)
	DeleteManifest(ctx context.Context, repo string, ref registry.Reference) error
	Tags(ctx context.Context, repo, after string, limit int) ([]string, bool, error)
}

// Objects reads the object an attachment belongs to.
type Objects interface {
	Object(ctx context.Context, bucket, key string) (*metadata.Object, error)
}

// Attachment is one document attached to an object.
type Attachment struct {
	// Digest is the attachment manifest's digest, which identifies it.
	Digest digest.Digest `json:"digest"`
	// Subject is the object content digest the attachment was made for.
	Subject      digest.Digest `json:"subject"`
	ArtifactType string        `json:"artifact_type"`
	// MediaType, Document and Size describe the attached document.
	MediaType  string        `json:"media_type"`
	Document   digest.Digest `json:"document"`
	Size       int64         `json:"size"`
	Repository string        `json:"repository"`
	Created    time.Time     `json:"created"`
}

// Service attaches documents to objects and lists, reads and deletes them.
type Service struct {
	registry Registry
	objects  Objects
	now      func() time.Time
}

// New returns a service that stores attachments through reg.
func New(reg Registry, objects Objects, now func() time.Time) *Service {
	return &Service{registry: reg, objects: objects, now: now}
}

// Repository returns the internal repository that holds the attachments of
// bucket/key: a hash of both, because keys may contain any character.
func Repository(bucket, key string) string {
	sum := sha256.Sum256([]byte(bucket + "\x00" + key))
	return RepositoryPrefix + hex.EncodeToString(sum[:])
}

// Input describes a document to attach.
type Input struct {
	Bucket, Key string
	// MediaType is the document's media type, such as
	// application/vnd.dev.sigstore.bundle.v0.3+json or application/spdx+json.
	MediaType string
	// ArtifactType is the manifest's artifactType; empty derives it from
	// MediaType.
	ArtifactType string
	// Subject, when set, is the content digest the document was made
	// for: Attach fails with ErrSubjectChanged when the object's content
	// is no longer that.
	Subject digest.Digest
	Body    io.Reader
}

// Attach stores a document as a referrer of the object's current content.
// The document is read whole, because it is at most
// supplychain.MaxDocumentBytes and its digest names the stored blob.
func (s *Service) Attach(ctx context.Context, in Input) (*Attachment, error) {
	o, err := s.objects.Object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	if in.Subject != "" && in.Subject != o.Blob {
		return nil, fmt.Errorf("attach to %s/%s: %w: it is %s, not %s", in.Bucket, in.Key, ErrSubjectChanged, o.Blob, in.Subject)
	}
	mediaType := supplychain.BaseMediaType(in.MediaType)
	artifactType, err := artifactTypeFor(mediaType, in.ArtifactType)
	if err != nil {
		return nil, err
	}
	document, err := io.ReadAll(io.LimitReader(in.Body, supplychain.MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read attachment for %s/%s: %w", in.Bucket, in.Key, err)
	}
	if len(document) > supplychain.MaxDocumentBytes {
		return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, supplychain.MaxDocumentBytes)
	}
	if len(document) == 0 {
		return nil, fmt.Errorf("%w: the document is empty", ErrInvalid)
	}

	repo := Repository(in.Bucket, in.Key)
	existing, err := s.tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxPerObject {
		return nil, fmt.Errorf("%w: %s/%s already has %d; delete one first", ErrTooMany, in.Bucket, in.Key, MaxPerObject)
	}

	layer, err := s.putBlob(ctx, repo, document)
	if err != nil {
		return nil, err
	}
	config, err := s.putBlob(ctx, repo, []byte("{}"))
	if err != nil {
		return nil, err
	}
	created := s.now().UTC()
	content, err := json.Marshal(manifestJSON{
		SchemaVersion: 2,
		MediaType:     supplychain.MediaTypeOCIManifest,
		ArtifactType:  artifactType,
		Config:        descriptorJSON{MediaType: supplychain.MediaTypeEmptyJSON, Digest: config.Digest, Size: config.Size},
		Layers:        []descriptorJSON{{MediaType: in.MediaType, Digest: layer.Digest, Size: layer.Size}},
		Subject:       &descriptorJSON{MediaType: "application/octet-stream", Digest: o.Blob, Size: o.Size},
		Annotations: map[string]string{
			AnnotationBucket:  in.Bucket,
			AnnotationKey:     in.Key,
			AnnotationCreated: created.Format(time.RFC3339Nano),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode attachment manifest: %w", err)
	}
	d := digest.Canonical.FromBytes(content)
	m, err := s.registry.PutManifest(ctx, repo, registry.Reference{Digest: d}, supplychain.MediaTypeOCIManifest,
		bytes.NewReader(content), []string{tagPrefix + d.Encoded()})
	if err != nil {
		return nil, fmt.Errorf("store attachment of %s/%s: %w", in.Bucket, in.Key, err)
	}
	return attachmentOf(m)
}

func (s *Service) putBlob(ctx context.Context, repo string, content []byte) (metadata.Blob, error) {
	d := digest.Canonical.FromBytes(content)
	b, err := s.registry.PutBlob(ctx, repo, d, bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return metadata.Blob{}, fmt.Errorf("store attachment blob %s: %w", d, err)
	}
	return b, nil
}

// List returns the attachments of bucket/key in digest order, whichever
// content they were made for. The object must exist.
func (s *Service) List(ctx context.Context, bucket, key string) ([]Attachment, error) {
	if _, err := s.objects.Object(ctx, bucket, key); err != nil {
		return nil, err
	}
	return s.list(ctx, bucket, key)
}

func (s *Service) list(ctx context.Context, bucket, key string) ([]Attachment, error) {
	repo := Repository(bucket, key)
	tags, err := s.tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	out := []Attachment{}
	for _, tag := range tags {
		m, err := s.registry.GetManifest(ctx, repo, registry.Reference{Tag: tag})
		if errors.Is(err, registry.ErrManifestUnknown) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, fmt.Errorf("list attachments of %s/%s: %w", bucket, key, err)
		}
		a, err := attachmentOf(m)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

// tags returns the attachment tags of repo; none when it does not exist.
func (s *Service) tags(ctx context.Context, repo string) ([]string, error) {
	tags, _, err := s.registry.Tags(ctx, repo, "", MaxPerObject+1)
	if errors.Is(err, registry.ErrNameUnknown) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list attachments in %s: %w", repo, err)
	}
	out := tags[:0]
	for _, tag := range tags {
		if strings.HasPrefix(tag, tagPrefix) {
			out = append(out, tag)
		}
	}
	return out, nil
}

// Get returns one attachment of bucket/key.
func (s *Service) Get(ctx context.Context, bucket, key string, d digest.Digest) (*Attachment, error) {
	if _, err := s.objects.Object(ctx, bucket, key); err != nil {
		return nil, err
	}
	m, err := s.registry.GetManifest(ctx, Repository(bucket, key), registry.Reference{Tag: tagPrefix + d.Encoded()})
	if errors.Is(err, registry.ErrManifestUnknown) || errors.Is(err, registry.ErrNameUnknown) {
		return nil, fmt.Errorf("%w: %s/%s has no attachment %s", ErrNotFound, bucket, key, d)
	}
	if err != nil {
		return nil, fmt.Errorf("get attachment %s of %s/%s: %w", d, bucket, key, err)
	}
	return attachmentOf(m)
}

// OpenDocument opens the attached document of a.
func (s *Service) OpenDocument(ctx context.Context, a *Attachment) (io.ReadCloser, error) {
	rc, err := s.registry.OpenBlob(ctx, metadata.Blob{Digest: a.Document, Size: a.Size}, 0, a.Size)
	if err != nil {
		return nil, fmt.Errorf("open attachment %s: %w", a.Digest, err)
	}
	return rc, nil
}

// Delete removes one attachment of bucket/key.
func (s *Service) Delete(ctx context.Context, bucket, key string, d digest.Digest) error {
	if _, err := s.Get(ctx, bucket, key, d); err != nil {
		return err
	}
	err := s.registry.DeleteManifest(ctx, Repository(bucket, key), registry.Reference{Digest: d})
	if errors.Is(err, registry.ErrManifestUnknown) {
		return fmt.Errorf("%w: %s/%s has no attachment %s", ErrNotFound, bucket, key, d)
	}
	if err != nil {
		return fmt.Errorf("delete attachment %s of %s/%s: %w", d, bucket, key, err)
	}
	return nil
}

// DeleteAll removes every attachment of bucket/key. It runs after the
// object is deleted, so it does not require the object.
func (s *Service) DeleteAll(ctx context.Context, bucket, key string) error {
	attached, err := s.list(ctx, bucket, key)
	if err != nil {
		return err
	}
	repo := Repository(bucket, key)
	for _, a := range attached {
		err := s.registry.DeleteManifest(ctx, repo, registry.Reference{Digest: a.Digest})
		if err != nil && !errors.Is(err, registry.ErrManifestUnknown) {
			return fmt.Errorf("delete attachment %s of %s/%s: %w", a.Digest, bucket, key, err)
		}
	}
	return nil
}
