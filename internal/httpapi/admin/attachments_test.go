package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/attachments"
	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// newAttachmentServer serves the management API with trust and attachments
// enabled. With deleteWithObject, deleting an object deletes its
// attachments, as cofferd does by default.
func newAttachmentServer(t *testing.T, deleteWithObject bool) *adminServer {
	t.Helper()
	stack := newTestStack(t)
	meta, store, reg, status := stack.meta, stack.store, stack.reg, stack.status
	handler := admin.New(reg, store, func() admin.SystemInfo { return admin.SystemInfo{} })
	handler.EnableTrust(meta, status)
	attached := attachments.New(reg, store, time.Now)
	handler.EnableAttachments(attached)
	if deleteWithObject {
		store.OnDelete(func(ctx context.Context, bucket, key string) {
			if err := attached.DeleteAll(ctx, bucket, key); err != nil {
				t.Errorf("delete attachments of %s/%s: %v", bucket, key, err)
			}
		})
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &adminServer{url: srv.URL, store: store, meta: meta}
}

const reportPath = "/api/v1/buckets/reports/objects/2026%2Freport.bin"

type objectTrustBody struct {
	trustStatusBody
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	Attachments []struct {
		attachments.Attachment
		Current bool   `json:"current"`
		Error   string `json:"error"`
	} `json:"attachments"`
}

func (s *adminServer) objectTrust(t *testing.T) objectTrustBody {
	t.Helper()
	var body objectTrustBody
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, reportPath+"/trust", nil), &body)
	return body
}

func (s *adminServer) attach(t *testing.T, vectorName, mediaType string) attachments.Attachment {
	t.Helper()
	resp := s.must(t, http.StatusCreated, http.MethodPost, reportPath+"/attachments", vector(t, vectorName), "Content-Type", mediaType)
	var a attachments.Attachment
	decodeJSON(t, resp, &a)
	if want := reportPath + "/attachments/" + string(a.Digest); resp.header.Get("Location") != want {
		t.Errorf("Location = %q, want %q", resp.header.Get("Location"), want)
	}
	return a
}

// setUpReport stores report.bin under reports/2026/report.bin with a trust
// store holding the key that signed the recorded bundles.
func setUpReport(t *testing.T, s *adminServer) {
	t.Helper()
	s.createBucket(t, "reports")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/2026/report.bin", vector(t, "report.bin"))
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/reports", mustMarshal(t, map[string]any{
		"scope":       map[string]string{"bucket": "reports"},
		"cosign_keys": []map[string]string{{"name": "release", "pem": string(vector(t, "cosign.pub"))}},
	}))
}

func TestAttachmentsLifecycle(t *testing.T) {
	s := newAttachmentServer(t, true)
	setUpReport(t, s)

	signature := s.attach(t, "report.bin.sigstore.json", supplychain.MediaTypeSigstoreBundleV03)
	if signature.Subject != reportDigest || signature.ArtifactType != supplychain.MediaTypeSigstoreBundleV03 {
		t.Errorf("signature attachment = %+v", signature)
	}
	if want := digest.SHA256.FromBytes(vector(t, "report.bin.sigstore.json")); signature.Document != want {
		t.Errorf("document = %s, want %s", signature.Document, want)
	}
	s.attach(t, "report.bin.cdx.v3.sigstore.json", supplychain.MediaTypeSigstoreBundleV03)
	sbom := s.attach(t, "sbom.cdx.json", supplychain.MediaTypeCycloneDXJSON)

	var list admin.Page[attachments.Attachment]
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, reportPath+"/attachments", nil), &list)
	if len(list.Items) != 3 {
		t.Fatalf("listed %d attachments, want 3: %+v", len(list.Items), list.Items)
	}
	for _, a := range list.Items {
		if a.Subject != reportDigest {
			t.Errorf("attachment %s has subject %s, want %s", a.Digest, a.Subject, reportDigest)
		}
	}

	one := s.must(t, http.StatusOK, http.MethodGet, reportPath+"/attachments/"+string(signature.Digest), nil)
	if string(one.body) != string(vector(t, "report.bin.sigstore.json")) {
		t.Errorf("GET attachment returned %d bytes that differ from the attached bundle", len(one.body))
	}
	if got := one.header.Get("Content-Type"); got != supplychain.MediaTypeSigstoreBundleV03 {
		t.Errorf("Content-Type = %q", got)
	}
	if got := one.header.Get("Coffer-Subject-Digest"); got != reportDigest {
		t.Errorf("Coffer-Subject-Digest = %q", got)
	}

	current := s.objectTrust(t)
	if !current.Signed || !current.Verified || current.Digest != reportDigest {
		t.Fatalf("object trust = %+v, want signed and verified", current.trustStatusBody)
	}
	if len(current.Signatures) != 1 || current.Signatures[0].Signer != "reports/release" || current.Signatures[0].Format != "sigstore-bundle" {
		t.Errorf("signatures = %+v", current.Signatures)
	}
	if len(current.Attestations) != 1 {
		t.Errorf("attestations = %s, want the CycloneDX attestation", current.Attestations)
	}
	if len(current.SBOMs) != 2 {
		t.Errorf("SBOMs = %+v, want the attached one and the attested one", current.SBOMs)
	}
	for _, a := range current.Attachments {
		if !a.Current || a.Error != "" {
			t.Errorf("attachment %s: current %v, error %q; want current", a.Digest, a.Current, a.Error)
		}
	}
	if byDigest := (&trustServer{s}).status(t, reportDigest); !byDigest.Verified {
		t.Errorf("trust status by digest = %+v, want verified", byDigest)
	}

	// Other bytes under the same key: the attachments were made for the old content.
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/2026/report.bin", []byte("other bytes"))
	replaced := s.objectTrust(t)
	newDigest := string(digest.SHA256.FromBytes([]byte("other bytes")))
	if replaced.Digest != newDigest || replaced.Signed || replaced.Verified || len(replaced.Signatures) != 0 {
		t.Errorf("object trust after overwrite = %+v, want digest %s and no signature", replaced.trustStatusBody, newDigest)
	}
	if len(replaced.Attachments) != 3 {
		t.Fatalf("attachments after overwrite = %d, want 3", len(replaced.Attachments))
	}
	for _, a := range replaced.Attachments {
		if a.Current || !strings.Contains(a.Error, "made for content "+reportDigest+", but the object's content is now "+newDigest) {
			t.Errorf("attachment %s after overwrite: current %v, error %q", a.Digest, a.Current, a.Error)
		}
	}

	s.must(t, http.StatusNoContent, http.MethodDelete, reportPath+"/attachments/"+string(sbom.Digest), nil)
	deleted := reportPath + "/attachments/" + string(sbom.Digest)
	expectProblem(t, s.do(t, http.MethodGet, deleted, nil), http.StatusNotFound, strings.ReplaceAll(deleted, "%2F", "/"))
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, reportPath+"/attachments", nil), &list)
	if len(list.Items) != 2 {
		t.Errorf("listed %d attachments after deleting one, want 2", len(list.Items))
	}

	// Deleting the object deletes its attachments, so no referrer names the old digest.
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/buckets/reports/objects/2026/report.bin", nil)
	s.must(t, http.StatusNotFound, http.MethodGet, "/api/v1/artifacts/"+reportDigest+"/trust", nil)
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/2026/report.bin", vector(t, "report.bin"))
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, reportPath+"/attachments", nil), &list)
	if len(list.Items) != 0 {
		t.Errorf("a new object under the key lists %d attachments, want 0", len(list.Items))
	}
}

func TestAttachmentsKeptOnDelete(t *testing.T) {
	s := newAttachmentServer(t, false)
	setUpReport(t, s)
	s.attach(t, "report.bin.sigstore.json", supplychain.MediaTypeSigstoreBundleV03)

	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/buckets/reports/objects/2026/report.bin", nil)
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/2026/report.bin", vector(t, "report.bin"))
	if st := s.objectTrust(t); !st.Verified || len(st.Attachments) != 1 || !st.Attachments[0].Current {
		t.Errorf("object trust after delete and rewrite = %+v, want the kept signature verified", st)
	}
}

func TestAttachmentsReject(t *testing.T) {
	s := newAttachmentServer(t, true)
	setUpReport(t, s)
	bundle := vector(t, "report.bin.sigstore.json")
	cases := []struct {
		name, path, method, contentType string
		body                            []byte
		status                          int
		detail                          string
	}{
		{"unknown media type", reportPath + "/attachments", http.MethodPost, "application/octet-stream", bundle, http.StatusBadRequest, "is not a signature, SBOM or attestation format"},
		{"missing media type", reportPath + "/attachments", http.MethodPost, "", bundle, http.StatusBadRequest, "media type is missing"},
		{"empty document", reportPath + "/attachments", http.MethodPost, supplychain.MediaTypeSigstoreBundleV03, []byte{}, http.StatusBadRequest, "the document is empty"},
		{"too large", reportPath + "/attachments", http.MethodPost, supplychain.MediaTypeSPDXJSON, make([]byte, supplychain.MaxDocumentBytes+1), http.StatusRequestEntityTooLarge, "the limit is 4194304 bytes"},
		{"missing object", "/api/v1/buckets/reports/objects/none/attachments", http.MethodPost, supplychain.MediaTypeSigstoreBundleV03, bundle, http.StatusNotFound, "none"},
		{"missing bucket", "/api/v1/buckets/nobucket/objects/x/attachments", http.MethodGet, "", nil, http.StatusNotFound, "nobucket"},
		{"malformed digest", reportPath + "/attachments/sha256:12", http.MethodGet, "", nil, http.StatusBadRequest, "invalid attachment digest sha256:12"},
		{"unknown attachment", reportPath + "/attachments/" + reportDigest, http.MethodDelete, "", nil, http.StatusNotFound, "has no attachment " + reportDigest},
		{"trust of missing object", "/api/v1/buckets/reports/objects/none/trust", http.MethodGet, "", nil, http.StatusNotFound, "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			resp := s.do(t, tc.method, tc.path, tc.body, headers...)
			p := expectProblem(t, resp, tc.status, strings.ReplaceAll(tc.path, "%2F", "/"))
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tc.detail)
			}
		})
	}
}

// testStack is the domain layer under the test servers: SQLite metadata,
// the memory storage driver, the object store, the registry and the trust
// status service.
type testStack struct {
	meta   *sqlite.Store
	store  *objects.Store
	reg    *registry.Registry
	status *supplychain.StatusService
}

func newTestStack(t *testing.T) testStack {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	blobs := blob.New(memory.New(), meta)
	return testStack{
		meta:   meta,
		store:  objects.New(meta, blobs, "us-east-1"),
		reg:    registry.New(meta, blobs, 4<<20),
		status: supplychain.NewStatusService(meta, blobOpener{blobs}, func() time.Time { return verifyTime }, slog.New(slog.DiscardHandler)),
	}
}
