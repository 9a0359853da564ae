package supplychain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// catalog is an in-memory Catalog and BlobReader.
type catalog struct {
	stores    []metadata.TrustStore
	manifests []*metadata.Manifest
	tags      []metadata.TagLocation
	objects   map[digest.Digest][]metadata.ObjectLocation
	blobs     map[digest.Digest][]byte
}

func newCatalog() *catalog {
	return &catalog{objects: map[digest.Digest][]metadata.ObjectLocation{}, blobs: map[digest.Digest][]byte{}}
}

func (c *catalog) ListTrustStores(context.Context) ([]metadata.TrustStore, error) {
	return c.stores, nil
}

func (c *catalog) FindManifests(_ context.Context, d digest.Digest) ([]metadata.ManifestLocation, error) {
	var out []metadata.ManifestLocation
	for _, m := range c.manifests {
		if m.Digest == d {
			out = append(out, metadata.ManifestLocation{Repository: m.Repository, MediaType: m.MediaType, Size: int64(len(m.Content))})
		}
	}
	return out, nil
}

func (c *catalog) FindReferrers(_ context.Context, subject digest.Digest) ([]metadata.RepositoryReferrer, error) {
	var out []metadata.RepositoryReferrer
	for _, m := range c.manifests {
		if m.Subject == subject {
			out = append(out, metadata.RepositoryReferrer{Repository: m.Repository, Referrer: metadata.Referrer{Digest: m.Digest}})
		}
	}
	return out, nil
}

func (c *catalog) FindTags(_ context.Context, names []string) ([]metadata.TagLocation, error) {
	var out []metadata.TagLocation
	for _, t := range c.tags {
		if slices.Contains(names, t.Tag) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (c *catalog) FindObjects(_ context.Context, d digest.Digest, _ int) ([]metadata.ObjectLocation, error) {
	return c.objects[d], nil
}

func (c *catalog) GetManifest(_ context.Context, repo string, d digest.Digest) (*metadata.Manifest, error) {
	for _, m := range c.manifests {
		if m.Repository == repo && m.Digest == d {
			return m, nil
		}
	}
	return nil, metadata.ErrNotFound
}

func (c *catalog) OpenBlob(_ context.Context, d digest.Digest, _ int64) (io.ReadCloser, error) {
	content, ok := c.blobs[d]
	if !ok {
		return nil, errors.New("blob not found")
	}
	return io.NopCloser(bytes.NewReader(content)), nil
}

func (c *catalog) addBlob(content []byte) {
	c.blobs[digest.SHA256.FromBytes(content)] = content
}

// addManifest stores content in repo, with the subject that the document
// names, and returns its digest.
func (c *catalog) addManifest(t *testing.T, repo string, content []byte, tags ...string) digest.Digest {
	t.Helper()
	m, err := ParseManifest(content)
	if err != nil {
		t.Fatal(err)
	}
	record := &metadata.Manifest{Repository: repo, Digest: digest.SHA256.FromBytes(content), MediaType: MediaTypeOCIManifest, Content: content}
	if m.Subject != nil {
		record.Subject = digest.Digest(m.Subject.Digest)
	}
	c.manifests = append(c.manifests, record)
	for _, tag := range tags {
		c.tags = append(c.tags, metadata.TagLocation{Repository: repo, Tag: tag, Digest: record.Digest})
	}
	return record.Digest
}

func (c *catalog) addTrustStore(t *testing.T, name string, config TrustStoreConfig) {
	t.Helper()
	ts, err := NewTrustStore(name, config)
	if err != nil {
		t.Fatalf("NewTrustStore: %v", err)
	}
	c.stores = append(c.stores, metadata.TrustStore{Name: name, Document: ts.Document()})
}

func demoTrustStore(t *testing.T, scope Scope) TrustStoreConfig {
	return TrustStoreConfig{
		Scope:                scope,
		CosignKeys:           []PEMEntry{{Name: "cosign", PEM: string(readVector(t, "cosign.pub"))}},
		NotationCertificates: []PEMEntry{{Name: "demo.example", PEM: string(readVector(t, "notation-demo.example.crt"))}},
		NotationPolicy:       NotationRules{TrustedIdentities: []string{"*"}},
	}
}

func newStatusService(c *catalog) *StatusService {
	return NewStatusService(c, c, func() time.Time { return notationNow }, slog.New(slog.DiscardHandler))
}

// demoApp stores the recorded artifacts of demo/app: a legacy cosign
// signature and attestation, notation JWS and COSE signatures and an oras
// SPDX SBOM.
func demoApp(t *testing.T) *catalog {
	c := newCatalog()
	c.manifests = append(c.manifests, &metadata.Manifest{Repository: "demo/app", Digest: appDigest, MediaType: MediaTypeOCIManifest, Content: bytes.Repeat([]byte(" "), 539)})
	for _, blob := range []string{"cosign-v2-legacy-simplesigning-payload.json", "cosign-v2-legacy-att-spdx-dsse.json", "notation-envelope.jws.json", "notation-envelope.cose", "sbom.spdx.json"} {
		c.addBlob(readVector(t, blob))
	}
	legacy := LegacyTagName(appDigest, "")
	c.addManifest(t, "demo/app", readVector(t, "cosign-v2-legacy-sig-manifest.json"), legacy+SuffixSignature)
	c.addManifest(t, "demo/app", readVector(t, "cosign-v2-legacy-att-manifest.json"), legacy+SuffixAttestation)
	c.addManifest(t, "demo/app", readVector(t, "notation-sig-manifest-jws.json"))
	c.addManifest(t, "demo/app", readVector(t, "oras-attach-spdx-referrer-manifest.json"))
	cose := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},` +
		`"layers":[{"mediaType":"application/cose","digest":"` + string(digest.SHA256.FromBytes(readVector(t, "notation-envelope.cose"))) + `","size":1494}],` +
		`"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + string(appDigest) + `","size":539}}`
	c.addManifest(t, "demo/app", []byte(cose))
	return c
}

func TestStatusVerifiesRecordedArtifacts(t *testing.T) {
	c := demoApp(t)
	c.addTrustStore(t, "demo", demoTrustStore(t, Scope{Repositories: "demo/*"}))
	status, err := newStatusService(c).Status(t.Context(), appDigest)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !status.Signed || !status.Verified {
		t.Errorf("Signed, Verified = %v, %v; want true, true", status.Signed, status.Verified)
	}

	type sig struct {
		format   Format
		verified bool
		signer   string
	}
	var sigs []sig
	for _, s := range status.Signatures {
		sigs = append(sigs, sig{s.Format, s.Verified, s.Signer})
		if s.Error != "" {
			t.Errorf("signature %s: %s", s.Format, s.Error)
		}
	}
	const notationSigner = "CN=demo.example,O=Notary,L=Seattle,ST=WA,C=US"
	slices.SortFunc(sigs, func(a, b sig) int { return strings.Compare(string(a.format), string(b.format)) })
	want := []sig{
		{FormatCosignSimpleSigning, true, "demo/cosign"},
		{FormatNotationCOSE, true, notationSigner},
		{FormatNotationJWS, true, notationSigner},
	}
	if !slices.Equal(sigs, want) {
		t.Errorf("signatures = %+v, want %+v", sigs, want)
	}

	if len(status.Attestations) != 3 {
		t.Fatalf("attestations = %+v, want the 3 layers of the .att tag", status.Attestations)
	}
	spdx := status.Attestations[0]
	if !spdx.Verified || spdx.PredicateType != PredicateSPDX || spdx.StatementType != StatementTypeV01 || spdx.Tag != LegacyTagName(appDigest, SuffixAttestation) {
		t.Errorf("SPDX attestation = %+v", spdx)
	}
	// The recording kept only the SPDX layer's blob.
	for _, a := range status.Attestations[1:] {
		if a.Verified || !strings.Contains(a.Error, "blob not found") {
			t.Errorf("attestation without its blob = %+v", a)
		}
	}

	var sboms []string
	for _, s := range status.SBOMs {
		if !s.Valid || s.Packages != 1 || s.SpecVersion != "SPDX-2.3" {
			t.Errorf("SBOM = %+v", s)
		}
		sboms = append(sboms, string(s.Format)+" attested="+boolText(s.Attested)+" verified="+boolText(s.Verified))
	}
	slices.Sort(sboms)
	wantSBOMs := []string{"spdx-json attested=false verified=false", "spdx-json attested=true verified=true"}
	if !slices.Equal(sboms, wantSBOMs) {
		t.Errorf("SBOMs = %q, want %q", sboms, wantSBOMs)
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestStatusWithoutTrustStore(t *testing.T) {
	c := demoApp(t)
	c.addTrustStore(t, "elsewhere", demoTrustStore(t, Scope{Repositories: "other/**"}))
	status, err := newStatusService(c).Status(t.Context(), appDigest)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !status.Signed || status.Verified {
		t.Errorf("Signed, Verified = %v, %v; want true, false", status.Signed, status.Verified)
	}
	for _, s := range status.Signatures {
		if s.Verified || !strings.Contains(s.Error, "no trust store with") || !strings.Contains(s.Error, "covers repository demo/app") {
			t.Errorf("signature %s: verified %v, error %q", s.Format, s.Verified, s.Error)
		}
	}
}

func TestStatusSignatureForOtherDigest(t *testing.T) {
	c := demoApp(t)
	c.addTrustStore(t, "demo", demoTrustStore(t, Scope{Repositories: "demo/app"}))
	// The same signature manifests, tagged for another subject.
	other := digest.SHA256.FromBytes([]byte("other image"))
	c.manifests = append(c.manifests, &metadata.Manifest{Repository: "demo/app", Digest: other, MediaType: MediaTypeOCIManifest, Content: []byte("{}")})
	for _, m := range slices.Clone(c.manifests) {
		if m.Subject == appDigest {
			copied := *m
			copied.Subject = other
			c.manifests = append(c.manifests, &copied)
		}
	}
	c.tags = append(c.tags, metadata.TagLocation{Repository: "demo/app", Tag: LegacyTagName(other, SuffixSignature), Digest: c.tags[0].Digest})

	status, err := newStatusService(c).Status(t.Context(), other)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !status.Signed || status.Verified || len(status.Signatures) != 3 {
		t.Fatalf("status = %+v, want 3 signatures, none verified", status)
	}
	for _, s := range status.Signatures {
		if !strings.Contains(s.Error, ErrSubjectMismatch.Error()) {
			t.Errorf("signature %s: error %q, want a subject mismatch", s.Format, s.Error)
		}
	}
}

func TestStatusBundlesAndObjects(t *testing.T) {
	c := newCatalog()
	c.addBlob(readVector(t, "cosign-v3-image-sign-bundle.json"))
	c.addBlob(readVector(t, "report.bin.sigstore.json"))
	c.manifests = append(c.manifests, &metadata.Manifest{Repository: "demo/app3", Digest: app3Digest, MediaType: MediaTypeOCIManifest, Content: bytes.Repeat([]byte(" "), 540)})
	c.addManifest(t, "demo/app3", readVector(t, "cosign-v3-bundle-referrer-manifest.json"))

	// A file signed with sign-blob: the bundle is a referrer of the
	// object's digest, and the trust store's scope is the bucket.
	c.objects[reportDigest] = []metadata.ObjectLocation{{Bucket: "reports", Key: "2026/report.bin"}}
	var referrer Manifest
	if err := json.Unmarshal(readVector(t, "cosign-v3-bundle-referrer-manifest.json"), &referrer); err != nil {
		t.Fatal(err)
	}
	blob := readVector(t, "report.bin.sigstore.json")
	referrer.Layers[0].Digest, referrer.Layers[0].Size = string(digest.SHA256.FromBytes(blob)), int64(len(blob))
	referrer.Subject.Digest = string(reportDigest)
	referrer.Annotations = map[string]string{AnnotationBundleContent: "message-signature"}
	content, err := json.Marshal(referrer)
	if err != nil {
		t.Fatal(err)
	}
	c.addManifest(t, "files/attachments", content)
	c.addTrustStore(t, "reports", TrustStoreConfig{Scope: Scope{Bucket: "reports", Prefix: "2026/"}, CosignKeys: []PEMEntry{{Name: "release", PEM: string(readVector(t, "cosign.pub"))}}})
	c.addTrustStore(t, "images", TrustStoreConfig{Scope: Scope{Repositories: "demo/**"}, CosignKeys: []PEMEntry{{Name: "ci", PEM: string(readVector(t, "cosign.pub"))}}})

	service := newStatusService(c)
	status, err := service.Status(t.Context(), app3Digest)
	if err != nil {
		t.Fatalf("Status(app3): %v", err)
	}
	if len(status.Signatures) != 1 || !status.Signatures[0].Verified || status.Signatures[0].Signer != "images/ci" || status.Signatures[0].Format != FormatSigstoreBundle {
		t.Errorf("app3 signatures = %+v", status.Signatures)
	}

	status, err = service.Status(t.Context(), reportDigest)
	if err != nil {
		t.Fatalf("Status(report.bin): %v", err)
	}
	if len(status.Signatures) != 1 || !status.Signatures[0].Verified || status.Signatures[0].TrustStore != "reports" {
		t.Errorf("report.bin signatures = %+v", status.Signatures)
	}

	_, err = service.Status(t.Context(), digest.SHA256.FromBytes([]byte("nothing")))
	if !errors.Is(err, ErrUnknownDigest) {
		t.Errorf("unknown digest: err = %v, want ErrUnknownDigest", err)
	}
}

func TestStatusUnsigned(t *testing.T) {
	c := newCatalog()
	c.objects[reportDigest] = []metadata.ObjectLocation{{Bucket: "reports", Key: "report.bin"}}
	status, err := newStatusService(c).Status(t.Context(), reportDigest)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if status.Signed || status.Verified || len(status.Signatures) != 0 || len(status.SBOMs) != 0 || len(status.Attestations) != 0 {
		t.Errorf("status = %+v, want nothing signed", status)
	}
}

func TestStatusRejectsLargeAttestation(t *testing.T) {
	c := newCatalog()
	c.objects[reportDigest] = []metadata.ObjectLocation{{Bucket: "reports", Key: "report.bin"}}
	large := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},` +
		`"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"` + string(digest.SHA256.FromBytes([]byte("large"))) + `","size":5242880}],` +
		`"annotations":{"dev.sigstore.bundle.predicateType":"https://slsa.dev/provenance/v1"},` +
		`"subject":{"mediaType":"application/octet-stream","digest":"` + string(reportDigest) + `","size":36}}`
	c.addManifest(t, "files/report", []byte(large))

	status, err := newStatusService(c).Status(t.Context(), reportDigest)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if len(status.Attestations) != 1 {
		t.Fatalf("attestations = %+v, want one", status.Attestations)
	}
	a := status.Attestations[0]
	if a.Verified || a.PredicateType != PredicateSLSAProvenance1 || !strings.Contains(a.Error, "5242880 bytes: document exceeds the 4 MiB limit") {
		t.Errorf("attestation over 4 MiB = %+v", a)
	}
}

func TestStatusNotationSkipLevel(t *testing.T) {
	c := demoApp(t)
	config := demoTrustStore(t, Scope{Repositories: "demo/app"})
	config.CosignKeys = nil
	config.NotationPolicy.Level = string(LevelSkip)
	c.addTrustStore(t, "lenient", config)
	status, err := newStatusService(c).Status(t.Context(), appDigest)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, s := range status.Signatures {
		want := `trust store "lenient" skips notation verification`
		if s.Tool == ToolCosign {
			want = "no trust store with a cosign public key covers repository demo/app"
		}
		if s.Verified || !strings.Contains(s.Error, want) {
			t.Errorf("signature %s: verified %v, error %q, want %q", s.Format, s.Verified, s.Error, want)
		}
	}
}
