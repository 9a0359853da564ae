// Package signing signs new manifests and objects on upload with a key
// the server holds, in the forms cosign writes: a legacy simple-signing
// signature under the sha256-<hex>.sig tag for a manifest, and a sign-blob
// Sigstore bundle attached to an object. It does not depend on HTTP.
package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/cofferhq/coffer/internal/attachments"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// Registry is the part of the registry that stores signature manifests.
type Registry interface {
	PutBlob(ctx context.Context, repo string, d digest.Digest, body io.Reader, declared int64) (metadata.Blob, error)
	PutManifest(ctx context.Context, repo string, ref registry.Reference, contentType string, body io.Reader, tags []string) (*metadata.Manifest, error)
	GetManifest(ctx context.Context, repo string, ref registry.Reference) (*metadata.Manifest, error)
}

// Attacher attaches a document to an object.
type Attacher interface {
	Attach(ctx context.Context, in attachments.Input) (*attachments.Attachment, error)
}

// Options selects what is signed and how.
type Options struct {
	Signer supplychain.Signer
	// Repositories are globs of the repositories whose manifests are
	// signed: "*" matches within one path segment, "**" across segments.
	Repositories []string
	// Buckets are "bucket" or "bucket/prefix" entries naming the objects
	// that are signed.
	Buckets []string
	// DockerReference is the registry host that simple-signing payloads
	// name before the repository, such as "registry.example.com".
	DockerReference string
}

// Service signs manifests and objects within its scope.
type Service struct {
	opts         Options
	repositories []*regexp.Regexp
	registry     Registry
	attacher     Attacher
	logger       *slog.Logger
}

// New checks opts and returns the service.
func New(opts Options, reg Registry, attacher Attacher, logger *slog.Logger) (*Service, error) {
	if opts.Signer == nil {
		return nil, errors.New("signing: no signer")
	}
	s := &Service{opts: opts, registry: reg, attacher: attacher, logger: logger}
	for _, glob := range opts.Repositories {
		re, err := supplychain.CompileRepositoryGlob(glob)
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		s.repositories = append(s.repositories, re)
	}
	if len(opts.Buckets) > 0 {
		if _, err := supplychain.NewBlobBundle(opts.Signer, digest.Canonical.FromBytes(nil)); errors.Is(err, supplychain.ErrDigestSigning) {
			return nil, fmt.Errorf("signing: objects are signed with cosign sign-blob bundles, which need an ECDSA P-256 key: %w", err)
		}
	}
	return s, nil
}

func (s *Service) coversRepository(repo string) bool {
	for _, re := range s.repositories {
		if re.MatchString(repo) {
			return true
		}
	}
	return false
}

func (s *Service) coversObject(bucket, key string) bool {
	for _, entry := range s.opts.Buckets {
		name, prefix, _ := strings.Cut(entry, "/")
		if name == bucket && strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

// ManifestPushed signs m when its repository is in scope. Supply-chain
// artifacts (referrers, signatures, SBOMs, attestations) are not signed.
// A failure is logged: the manifest is stored either way.
func (s *Service) ManifestPushed(ctx context.Context, repo string, m *metadata.Manifest) {
	if !s.coversRepository(repo) || m.Subject != "" {
		return
	}
	if parsed, err := supplychain.ParseManifest(m.Content); err == nil && len(supplychain.Classify(parsed)) > 0 {
		return
	}
	if err := s.signManifest(ctx, repo, m.Digest); err != nil {
		s.logger.ErrorContext(ctx, "server-side manifest signing failed", "repository", repo, "digest", m.Digest, "error", err)
	}
}

// ObjectStored signs o when it is in scope. A failure is logged: the
// object is stored either way.
func (s *Service) ObjectStored(ctx context.Context, o *metadata.Object) {
	if !s.coversObject(o.Bucket, o.Key) {
		return
	}
	bundle, err := supplychain.NewBlobBundle(s.opts.Signer, o.Blob)
	if err == nil {
		_, err = s.attacher.Attach(ctx, attachments.Input{
			Bucket: o.Bucket, Key: o.Key, Subject: o.Blob,
			MediaType: supplychain.MediaTypeSigstoreBundleV03,
			Body:      bytes.NewReader(bundle),
		})
	}
	if errors.Is(err, attachments.ErrSubjectChanged) {
		s.logger.InfoContext(ctx, "object overwritten before it was signed", "bucket", o.Bucket, "key", o.Key, "digest", o.Blob)
		return
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "server-side object signing failed", "bucket", o.Bucket, "key", o.Key, "digest", o.Blob, "error", err)
	}
}

// descriptor is an OCI descriptor as the signature manifest writes it.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      digest.Digest     `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type signatureManifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

// signManifest adds a simple-signing signature of d to the manifest under
// the sha256-<hex>.sig tag of repo, creating it when missing, as cosign
// sign does without --registry-referrers-mode.
func (s *Service) signManifest(ctx context.Context, repo string, d digest.Digest) error {
	payload, err := supplychain.NewSimpleSigningPayload(s.opts.DockerReference+"/"+repo, d)
	if err != nil {
		return err
	}
	payloadDigest := digest.Canonical.FromBytes(payload)
	tag := supplychain.LegacyTagName(d, supplychain.SuffixSignature)

	var layers []descriptor
	existing, err := s.registry.GetManifest(ctx, repo, registry.Reference{Tag: tag})
	switch {
	case errors.Is(err, registry.ErrManifestUnknown):
	case err != nil:
		return fmt.Errorf("read %s:%s: %w", repo, tag, err)
	default:
		var old signatureManifest
		if err := json.Unmarshal(existing.Content, &old); err != nil {
			return fmt.Errorf("read %s:%s: %w", repo, tag, err)
		}
		for _, layer := range old.Layers {
			if layer.Digest == payloadDigest {
				return nil // already signed for this repository
			}
		}
		layers = old.Layers
	}

	sig, err := s.opts.Signer.SignMessage(payload)
	if err != nil {
		return fmt.Errorf("sign %s: %w", d, err)
	}
	if _, err := s.registry.PutBlob(ctx, repo, payloadDigest, bytes.NewReader(payload), int64(len(payload))); err != nil {
		return fmt.Errorf("store simple-signing payload: %w", err)
	}
	layers = append(layers, descriptor{
		MediaType:   supplychain.MediaTypeCosignSimpleSigning,
		Digest:      payloadDigest,
		Size:        int64(len(payload)),
		Annotations: map[string]string{supplychain.AnnotationCosignSignature: base64.StdEncoding.EncodeToString(sig)},
	})
	config, err := s.putConfig(ctx, repo, layers)
	if err != nil {
		return err
	}
	content, err := json.Marshal(signatureManifest{SchemaVersion: 2, MediaType: supplychain.MediaTypeOCIManifest, Config: config, Layers: layers})
	if err != nil {
		return fmt.Errorf("encode signature manifest: %w", err)
	}
	if _, err := s.registry.PutManifest(ctx, repo, registry.Reference{Tag: tag}, supplychain.MediaTypeOCIManifest, bytes.NewReader(content), nil); err != nil {
		return fmt.Errorf("store %s:%s: %w", repo, tag, err)
	}
	return nil
}

// putConfig stores the image config that cosign writes for a signature
// manifest: one rootfs diff id per layer.
func (s *Service) putConfig(ctx context.Context, repo string, layers []descriptor) (descriptor, error) {
	diffIDs := make([]digest.Digest, 0, len(layers))
	for _, layer := range layers {
		diffIDs = append(diffIDs, layer.Digest)
	}
	content, err := json.Marshal(map[string]any{
		"architecture": "",
		"config":       map[string]any{},
		"created":      "0001-01-01T00:00:00Z",
		"history":      []map[string]string{{"created": "0001-01-01T00:00:00Z"}},
		"os":           "",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return descriptor{}, fmt.Errorf("encode signature config: %w", err)
	}
	d := digest.Canonical.FromBytes(content)
	if _, err := s.registry.PutBlob(ctx, repo, d, bytes.NewReader(content), int64(len(content))); err != nil {
		return descriptor{}, fmt.Errorf("store signature config: %w", err)
	}
	return descriptor{MediaType: supplychain.MediaTypeOCIImageConfig, Digest: d, Size: int64(len(content))}, nil
}
