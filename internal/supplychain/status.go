package supplychain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Catalog is the part of the metadata store that the trust status reads.
type Catalog interface {
	ListTrustStores(ctx context.Context) ([]metadata.TrustStore, error)
	FindManifests(ctx context.Context, d digest.Digest) ([]metadata.ManifestLocation, error)
	FindReferrers(ctx context.Context, subject digest.Digest) ([]metadata.RepositoryReferrer, error)
	FindTags(ctx context.Context, names []string) ([]metadata.TagLocation, error)
	FindObjects(ctx context.Context, d digest.Digest, limit int) ([]metadata.ObjectLocation, error)
	GetManifest(ctx context.Context, repo string, d digest.Digest) (*metadata.Manifest, error)
}

// BlobReader opens a stored blob whose digest and size are known. The
// reader must fail when the content does not match the digest.
type BlobReader interface {
	OpenBlob(ctx context.Context, d digest.Digest, size int64) (io.ReadCloser, error)
}

// ErrUnknownDigest reports a digest that no manifest, object or referrer
// names.
var ErrUnknownDigest = errors.New("digest is not stored")

// Limits that bound the work of one status request.
const (
	maxObjectLocations = 100
	maxArtifacts       = 256
)

// Status is the supply-chain status of one digest.
type Status struct {
	Digest    digest.Digest               `json:"digest"`
	Manifests []metadata.ManifestLocation `json:"-"`
	Objects   []metadata.ObjectLocation   `json:"-"`
	// Signed is set when any signature names the digest; Verified when at
	// least one of them verified against a trust store.
	Signed       bool                `json:"signed"`
	Verified     bool                `json:"verified"`
	Signatures   []SignatureStatus   `json:"signatures"`
	SBOMs        []SBOMStatus        `json:"sboms"`
	Attestations []AttestationStatus `json:"attestations"`
}

// Source locates one supply-chain artifact: the manifest (and the tag, for
// cosign's legacy scheme) and the layer that holds it.
type Source struct {
	Repository string        `json:"repository"`
	Manifest   digest.Digest `json:"manifest"`
	Tag        string        `json:"tag,omitempty"`
	Layer      digest.Digest `json:"layer"`
}

// SignatureStatus is one signature and its verification result.
type SignatureStatus struct {
	Source
	Tool     string `json:"tool"`
	Format   Format `json:"format"`
	Verified bool   `json:"verified"`
	// Signer names the key ("<trust store>/<key>") or the certificate
	// subject that verified.
	Signer     string   `json:"signer,omitempty"`
	TrustStore string   `json:"trust_store,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	// Error is the reason the signature did not verify.
	Error string `json:"error,omitempty"`
}

// SBOMStatus is one SBOM, attached on its own or as an attestation
// predicate.
type SBOMStatus struct {
	Source
	Format      Format `json:"format"`
	SpecVersion string `json:"spec_version,omitempty"`
	Packages    int    `json:"packages"`
	Valid       bool   `json:"valid"`
	// Attested is set for an SBOM carried in a signed attestation, and
	// Verified when that attestation verified.
	Attested bool   `json:"attested"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

// AttestationStatus is one in-toto attestation and its verification result.
type AttestationStatus struct {
	Source
	Tool          string `json:"tool,omitempty"`
	Format        Format `json:"format"`
	PredicateType string `json:"predicate_type,omitempty"`
	StatementType string `json:"statement_type,omitempty"`
	Verified      bool   `json:"verified"`
	Signer        string `json:"signer,omitempty"`
	TrustStore    string `json:"trust_store,omitempty"`
	Error         string `json:"error,omitempty"`
}

// StatusService computes trust status from the referrers and legacy tags
// stored in the registry.
type StatusService struct {
	catalog Catalog
	blobs   BlobReader
	now     func() time.Time
	logger  *slog.Logger
}

// NewStatusService returns a service reading catalog and blobs. now gives
// the time at which certificates and signature expiry are checked.
func NewStatusService(catalog Catalog, blobs BlobReader, now func() time.Time, logger *slog.Logger) *StatusService {
	return &StatusService{catalog: catalog, blobs: blobs, now: now, logger: logger}
}

// TrustStores returns the stored trust stores, validated. A stored
// definition that no longer validates is logged and skipped.
func (s *StatusService) TrustStores(ctx context.Context) ([]*TrustStore, error) {
	stored, err := s.catalog.ListTrustStores(ctx)
	if err != nil {
		return nil, fmt.Errorf("list trust stores: %w", err)
	}
	stores := make([]*TrustStore, 0, len(stored))
	for _, record := range stored {
		ts, err := ParseTrustStoreConfig(record.Name, record.Document)
		if err != nil {
			s.logger.ErrorContext(ctx, "stored trust store is invalid", "trust_store", record.Name, "error", err)
			continue
		}
		ts.Created, ts.Updated = record.Created, record.Updated
		stores = append(stores, ts)
	}
	return stores, nil
}

// Status computes the supply-chain status of d: its signatures, SBOMs and
// attestations, from OCI referrers in any repository and from cosign's
// sha256-<hex>.sig/.att/.sbom tags, each verified with the trust stores
// whose scope covers the repository that holds it or an object with
// content d.
func (s *StatusService) Status(ctx context.Context, d digest.Digest) (*Status, error) {
	status := &Status{Digest: d, Signatures: []SignatureStatus{}, SBOMs: []SBOMStatus{}, Attestations: []AttestationStatus{}}
	var err error
	if status.Manifests, err = s.catalog.FindManifests(ctx, d); err != nil {
		return nil, fmt.Errorf("trust status of %s: %w", d, err)
	}
	if status.Objects, err = s.catalog.FindObjects(ctx, d, maxObjectLocations); err != nil {
		return nil, fmt.Errorf("trust status of %s: %w", d, err)
	}
	artifacts, err := s.artifactManifests(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("trust status of %s: %w", d, err)
	}
	if len(status.Manifests) == 0 && len(status.Objects) == 0 && len(artifacts) == 0 {
		return nil, fmt.Errorf("trust status of %s: %w", d, ErrUnknownDigest)
	}
	stores, err := s.TrustStores(ctx)
	if err != nil {
		return nil, fmt.Errorf("trust status of %s: %w", d, err)
	}

	target := Target{Digest: d}
	if len(status.Manifests) > 0 {
		target.MediaType, target.Size = status.Manifests[0].MediaType, status.Manifests[0].Size
	}
	for _, a := range artifacts {
		e := evaluation{service: s, status: status, target: target, source: a.source, stores: s.applicable(stores, a.source.Repository, status.Objects)}
		if err := e.manifest(ctx, a.manifest); err != nil {
			return nil, fmt.Errorf("trust status of %s: %w", d, err)
		}
	}
	for _, sig := range status.Signatures {
		status.Signed = true
		status.Verified = status.Verified || sig.Verified
	}
	return status, nil
}

type artifactManifest struct {
	source   Source
	manifest *metadata.Manifest
}

// artifactManifests loads the referrers of d and the manifests of its
// legacy cosign tags, each once.
func (s *StatusService) artifactManifests(ctx context.Context, d digest.Digest) ([]artifactManifest, error) {
	type key struct {
		repo string
		d    digest.Digest
	}
	seen := map[key]bool{}
	var out []artifactManifest
	load := func(source Source) error {
		k := key{source.Repository, source.Manifest}
		if seen[k] || len(out) >= maxArtifacts {
			return nil
		}
		seen[k] = true
		m, err := s.catalog.GetManifest(ctx, source.Repository, source.Manifest)
		if errors.Is(err, metadata.ErrNotFound) {
			return nil // deleted since it was listed
		}
		if err != nil {
			return err
		}
		out = append(out, artifactManifest{source: source, manifest: m})
		return nil
	}

	referrers, err := s.catalog.FindReferrers(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, r := range referrers {
		if err := load(Source{Repository: r.Repository, Manifest: r.Digest}); err != nil {
			return nil, err
		}
	}
	names := []string{LegacyTagName(d, SuffixSignature), LegacyTagName(d, SuffixAttestation), LegacyTagName(d, SuffixSBOM)}
	tags, err := s.catalog.FindTags(ctx, names)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := load(Source{Repository: t.Repository, Manifest: t.Digest, Tag: t.Tag}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// applicable returns the trust stores that cover repo or one of objects.
func (s *StatusService) applicable(stores []*TrustStore, repo string, objects []metadata.ObjectLocation) []*TrustStore {
	var out []*TrustStore
	for _, ts := range stores {
		covered := ts.CoversRepository(repo)
		for _, o := range objects {
			covered = covered || ts.CoversObject(o.Bucket, o.Key)
		}
		if covered {
			out = append(out, ts)
		}
	}
	return out
}

// readLayer returns the content of a layer, at most MaxDocumentBytes.
func (s *StatusService) readLayer(ctx context.Context, layer Descriptor) ([]byte, error) {
	d, err := digest.Parse(layer.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w layer digest %q: %w", ErrMalformed, layer.Digest, err)
	}
	if layer.Size > MaxDocumentBytes {
		return nil, fmt.Errorf("layer %s of %d bytes: %w", d, layer.Size, ErrTooLarge)
	}
	if layer.Data != nil {
		if d.Algorithm().FromBytes(layer.Data) != d {
			return nil, fmt.Errorf("%w layer %s: its inline data does not match the digest", ErrMalformed, d)
		}
		return layer.Data, nil
	}
	rc, err := s.blobs.OpenBlob(ctx, d, layer.Size)
	if err != nil {
		return nil, fmt.Errorf("open layer %s: %w", d, err)
	}
	defer rc.Close()
	content, err := io.ReadAll(io.LimitReader(rc, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read layer %s: %w", d, err)
	}
	return content, nil
}
