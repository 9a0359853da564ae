package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// Subject digests of the recorded demo images.
const (
	appDigest    = "sha256:1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2"
	app2Digest   = "sha256:844d5f7ea77b3dcfabf293ad44068ea89c1cdb0a8943baabded6e31eb30f3449"
	app3Digest   = "sha256:280feef4b873254a2bbbbb8b41c0b21228727acf693a3775d68f69b91b13cd4a"
	reportDigest = "sha256:7aedb16936a84604b499e0cac3e13bbb3d1744710f8a2d5ad7346c6079d799a6"
)

// verifyTime lies inside the one-day validity of the recorded notation
// test certificate.
var verifyTime = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

// trustServer serves the OCI API under /v2/ and the management API, with
// trust enabled, over one SQLite store.
type trustServer struct {
	*adminServer
}

func newTrustServer(t *testing.T) *trustServer {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	blobs := blob.New(memory.New(), meta)
	store := objects.New(meta, blobs, "us-east-1")
	reg := registry.New(meta, blobs, 4<<20)
	handler := admin.New(reg, store, func() admin.SystemInfo { return admin.SystemInfo{} })
	status := supplychain.NewStatusService(meta, blobOpener{blobs}, func() time.Time { return verifyTime }, slog.New(slog.DiscardHandler))
	handler.EnableTrust(meta, status)

	mux := http.NewServeMux()
	mux.Handle("/v2/", oci.New(reg))
	mux.Handle("/", handler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &trustServer{&adminServer{url: srv.URL, store: store, meta: meta}}
}

type blobOpener struct{ blobs *blob.Store }

func (b blobOpener) OpenBlob(ctx context.Context, d digest.Digest, size int64) (io.ReadCloser, error) {
	return b.blobs.Open(ctx, d, size, 0, size)
}

func vector(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "supplychain", "testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// compactVector returns a recorded manifest in the compact form that the
// tool pushed, so that it has the recorded digest.
func compactVector(t *testing.T, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, vector(t, name)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (s *trustServer) pushBlob(t *testing.T, repo string, content []byte) {
	t.Helper()
	resp := s.must(t, http.StatusAccepted, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil)
	location := resp.header.Get("Location")
	sep := "?"
	if strings.Contains(location, "?") {
		sep = "&"
	}
	d := digest.SHA256.FromBytes(content)
	s.must(t, http.StatusCreated, http.MethodPut, strings.TrimPrefix(location, s.url)+sep+"digest="+string(d), content,
		"Content-Type", "application/octet-stream")
}

func (s *trustServer) pushManifest(t *testing.T, repo string, content []byte) string {
	t.Helper()
	d := string(digest.SHA256.FromBytes(content))
	s.must(t, http.StatusCreated, http.MethodPut, "/v2/"+repo+"/manifests/"+d, content, "Content-Type", supplychain.MediaTypeOCIManifest)
	return d
}

// pushDemoArtifacts pushes the recorded referrers whose blobs the recording
// kept: a notation JWS signature and an oras SPDX SBOM on demo/app, and the
// cosign v2 and v3 bundle signatures on demo/app2 and demo/app3.
func (s *trustServer) pushDemoArtifacts(t *testing.T) map[string][]string {
	t.Helper()
	pushed := map[string][]string{}
	for _, p := range []struct {
		repo, manifest string
		blobs          []string
	}{
		{"demo/app", "notation-sig-manifest-jws.json", []string{"notation-envelope.jws.json"}},
		{"demo/app", "oras-attach-spdx-referrer-manifest.json", []string{"sbom.spdx.json"}},
		{"demo/app2", "cosign-v2-bundle-referrer-manifest.json", []string{"cosign-v2-image-sign-bundle.json"}},
		{"demo/app3", "cosign-v3-bundle-referrer-manifest.json", []string{"cosign-v3-image-sign-bundle.json"}},
	} {
		s.pushBlob(t, p.repo, []byte("{}"))
		for _, b := range p.blobs {
			s.pushBlob(t, p.repo, vector(t, b))
		}
		pushed[p.repo] = append(pushed[p.repo], s.pushManifest(t, p.repo, compactVector(t, p.manifest)))
	}
	return pushed
}

// TestReferrersMatchRecordedResponses checks that the referrers API gives,
// for each recorded manifest that can be pushed again, the descriptor the
// expected response lists.
func TestReferrersMatchRecordedResponses(t *testing.T) {
	s := newTrustServer(t)
	pushed := s.pushDemoArtifacts(t)
	for _, tt := range []struct{ repo, subject, expected string }{
		{"demo/app", appDigest, "expected-referrers-app.json"},
		{"demo/app2", app2Digest, "expected-referrers-app2.json"},
		{"demo/app3", app3Digest, "expected-referrers-app3.json"},
	} {
		t.Run(tt.repo, func(t *testing.T) {
			var want map[string]any
			if err := json.Unmarshal(vector(t, tt.expected), &want); err != nil {
				t.Fatal(err)
			}
			want["manifests"] = slices.DeleteFunc(want["manifests"].([]any), func(m any) bool {
				return !slices.Contains(pushed[tt.repo], m.(map[string]any)["digest"].(string))
			})
			if len(want["manifests"].([]any)) != len(pushed[tt.repo]) {
				t.Fatalf("the expected response lists %d of the %d pushed manifests", len(want["manifests"].([]any)), len(pushed[tt.repo]))
			}

			resp := s.must(t, http.StatusOK, http.MethodGet, "/v2/"+tt.repo+"/referrers/"+tt.subject, nil)
			var got map[string]any
			if err := json.Unmarshal(resp.body, &got); err != nil {
				t.Fatal(err)
			}
			byDigest := func(a, b any) int {
				return strings.Compare(a.(map[string]any)["digest"].(string), b.(map[string]any)["digest"].(string))
			}
			slices.SortFunc(got["manifests"].([]any), byDigest)
			slices.SortFunc(want["manifests"].([]any), byDigest)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("referrers of %s:\n got %s\nwant %s", tt.subject, mustMarshal(t, got), mustMarshal(t, want))
			}
		})
	}

	resp := s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app/referrers/"+appDigest+"?artifactType=application/vnd.cncf.notary.signature", nil)
	var filtered struct {
		Manifests []struct {
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(resp.body, &filtered); err != nil {
		t.Fatal(err)
	}
	if len(filtered.Manifests) != 1 || filtered.Manifests[0].ArtifactType != supplychain.ArtifactTypeNotation {
		t.Errorf("notation referrers = %+v, want the one signature in its config media type form", filtered.Manifests)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type trustStatusBody struct {
	Digest     string `json:"digest"`
	Signed     bool   `json:"signed"`
	Verified   bool   `json:"verified"`
	Signatures []struct {
		Repository string `json:"repository"`
		Tool       string `json:"tool"`
		Format     string `json:"format"`
		Verified   bool   `json:"verified"`
		Signer     string `json:"signer"`
		TrustStore string `json:"trust_store"`
		Error      string `json:"error"`
	} `json:"signatures"`
	SBOMs []struct {
		Format   string `json:"format"`
		Packages int    `json:"packages"`
		Valid    bool   `json:"valid"`
	} `json:"sboms"`
	Attestations []json.RawMessage `json:"attestations"`
	Manifests    []struct {
		Repository string `json:"repository"`
	} `json:"manifests"`
	Objects []struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	} `json:"objects"`
}

func (s *trustServer) status(t *testing.T, d string) trustStatusBody {
	t.Helper()
	var body trustStatusBody
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/artifacts/"+d+"/trust", nil), &body)
	return body
}

func demoTrustStore(t *testing.T, scope string) []byte {
	t.Helper()
	return mustMarshal(t, map[string]any{
		"scope":                 json.RawMessage(scope),
		"cosign_keys":           []map[string]string{{"name": "cosign", "pem": string(vector(t, "cosign.pub"))}},
		"notation_certificates": []map[string]string{{"name": "demo.example", "pem": string(vector(t, "notation-demo.example.crt"))}},
		"notation_policy":       map[string]any{"level": "strict", "trusted_identities": []string{"*"}},
	})
}

func TestArtifactTrustStatus(t *testing.T) {
	s := newTrustServer(t)
	s.pushDemoArtifacts(t)

	before := s.status(t, appDigest)
	if !before.Signed || before.Verified || len(before.Signatures) != 1 {
		t.Fatalf("status without trust stores = %+v, want one unverified signature", before)
	}
	if !strings.Contains(before.Signatures[0].Error, "no trust store with notation certificates covers repository demo/app") {
		t.Errorf("error = %q", before.Signatures[0].Error)
	}
	if len(before.SBOMs) != 1 || before.SBOMs[0].Format != "spdx-json" || before.SBOMs[0].Packages != 1 || !before.SBOMs[0].Valid {
		t.Errorf("SBOMs = %+v", before.SBOMs)
	}

	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/demo", demoTrustStore(t, `{"repositories":"demo/*"}`))

	after := s.status(t, appDigest)
	if !after.Signed || !after.Verified {
		t.Fatalf("status with the trust store = %+v, want verified", after)
	}
	sig := after.Signatures[0]
	if sig.Tool != "notation" || sig.Format != "notation-jws" || sig.Signer != "CN=demo.example,O=Notary,L=Seattle,ST=WA,C=US" || sig.TrustStore != "demo" || sig.Repository != "demo/app" {
		t.Errorf("signature = %+v", sig)
	}
	for _, d := range []string{app2Digest, app3Digest} {
		st := s.status(t, d)
		if len(st.Signatures) != 1 || !st.Signatures[0].Verified || st.Signatures[0].Signer != "demo/cosign" || st.Signatures[0].Format != "sigstore-bundle" {
			t.Errorf("status of %s = %+v, want one verified cosign bundle signature", d, st)
		}
		if len(st.Manifests) != 0 {
			t.Errorf("status of %s lists manifests %+v, but the subject was never pushed", d, st.Manifests)
		}
	}

	// A trust store for another scope does not apply.
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/trust/demo", demoTrustStore(t, `{"repositories":"prod/**"}`))
	if st := s.status(t, app3Digest); st.Verified {
		t.Errorf("status with an out-of-scope trust store = %+v, want unverified", st)
	}
}

func TestObjectTrustStatus(t *testing.T) {
	s := newTrustServer(t)
	s.createBucket(t, "reports")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/2026/report.bin", vector(t, "report.bin"))

	unsigned := s.status(t, reportDigest)
	if unsigned.Signed || len(unsigned.Objects) != 1 || unsigned.Objects[0].Bucket != "reports" || unsigned.Objects[0].Key != "2026/report.bin" {
		t.Errorf("status of an unsigned object = %+v", unsigned)
	}

	// The cosign sign-blob bundle, attached as a referrer of the object's digest.
	bundle := vector(t, "report.bin.sigstore.json")
	s.pushBlob(t, "files/report", []byte("{}"))
	s.pushBlob(t, "files/report", bundle)
	referrer := mustMarshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": supplychain.MediaTypeOCIManifest, "artifactType": supplychain.MediaTypeSigstoreBundleV03,
		"config":  map[string]any{"mediaType": supplychain.MediaTypeEmptyJSON, "digest": string(digest.SHA256.FromBytes([]byte("{}"))), "size": 2},
		"layers":  []map[string]any{{"mediaType": supplychain.MediaTypeSigstoreBundleV03, "digest": string(digest.SHA256.FromBytes(bundle)), "size": len(bundle)}},
		"subject": map[string]any{"mediaType": "application/octet-stream", "digest": reportDigest, "size": len(vector(t, "report.bin"))},
	})
	s.pushManifest(t, "files/report", referrer)
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/reports", mustMarshal(t, map[string]any{
		"scope":       map[string]string{"bucket": "reports", "prefix": "2026/"},
		"cosign_keys": []map[string]string{{"name": "release", "pem": string(vector(t, "cosign.pub"))}},
	}))

	signed := s.status(t, reportDigest)
	if !signed.Verified || len(signed.Signatures) != 1 || signed.Signatures[0].Signer != "reports/release" {
		t.Errorf("status of a signed object = %+v", signed)
	}

	// Other bytes under the same key: the old signature names a digest that
	// no stored object has any more.
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/2026/report.bin", []byte("other bytes"))
	if st := s.status(t, reportDigest); len(st.Objects) != 0 || st.Verified {
		t.Errorf("status of the replaced digest = %+v, want no object and no verified signature", st)
	}
}

func TestTrustStoreAPI(t *testing.T) {
	s := newTrustServer(t)
	resp := s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/demo", demoTrustStore(t, `{"repositories":"demo/*"}`))
	if got := resp.header.Get("Location"); got != "/api/v1/trust/demo" {
		t.Errorf("Location = %q", got)
	}
	var created struct {
		Name                 string   `json:"name"`
		CosignKeyHints       []string `json:"cosign_key_hints"`
		NotationFingerprints []string `json:"notation_certificate_fingerprints"`
		Scope                struct {
			Repositories string `json:"repositories"`
		} `json:"scope"`
		Created time.Time `json:"created"`
		Updated time.Time `json:"updated"`
	}
	decodeJSON(t, resp, &created)
	if created.Name != "demo" || created.Scope.Repositories != "demo/*" || created.Created.IsZero() {
		t.Errorf("created = %+v", created)
	}
	if !slices.Equal(created.CosignKeyHints, []string{"qPc2iDF9DC9kYRVSc3puyV4CLk/Ca9SIG97leZ4m78E="}) {
		t.Errorf("cosign_key_hints = %q", created.CosignKeyHints)
	}
	if !slices.Equal(created.NotationFingerprints, []string{"71fb1fb34c07523cfae362237c83740a8247a6359977a99443c4ee87572fb9e3"}) {
		t.Errorf("notation_certificate_fingerprints = %q", created.NotationFingerprints)
	}

	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/trust/demo", demoTrustStore(t, `{"repositories":"demo/**"}`))
	var got struct {
		Scope struct {
			Repositories string `json:"repositories"`
		} `json:"scope"`
		Created time.Time `json:"created"`
	}
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/trust/demo", nil), &got)
	if got.Scope.Repositories != "demo/**" || !got.Created.Equal(created.Created) {
		t.Errorf("after replace = %+v, want the new scope and the first creation time %s", got, created.Created)
	}

	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/trust", nil), &list)
	if len(list.Items) != 1 || list.Items[0].Name != "demo" {
		t.Errorf("list = %+v", list)
	}

	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/trust/demo", nil)
	expectProblem(t, s.do(t, http.MethodDelete, "/api/v1/trust/demo", nil), http.StatusNotFound, "/api/v1/trust/demo")
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/trust/demo", nil), http.StatusNotFound, "/api/v1/trust/demo")
}

func TestTrustAPIRejects(t *testing.T) {
	s := newTrustServer(t)
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
		detail             string
	}{
		{"not JSON", http.MethodPut, "/api/v1/trust/demo", []byte("{"), http.StatusBadRequest, "invalid trust store"},
		{"bad name", http.MethodPut, "/api/v1/trust/Demo", demoTrustStore(t, `{"repositories":"demo/*"}`), http.StatusBadRequest, "the name must be"},
		{"bad key", http.MethodPut, "/api/v1/trust/demo", []byte(`{"scope":{"repositories":"a"},"cosign_keys":[{"name":"k","pem":"junk"}]}`), http.StatusBadRequest, "PUBLIC KEY"},
		{"too large", http.MethodPut, "/api/v1/trust/demo", bytes.Repeat([]byte(" "), 1<<20+1), http.StatusRequestEntityTooLarge, "exceeds 1 MiB"},
		{"bad digest", http.MethodGet, "/api/v1/artifacts/sha256:xyz/trust", nil, http.StatusBadRequest, "invalid digest"},
		{"unknown digest", http.MethodGet, "/api/v1/artifacts/" + reportDigest + "/trust", nil, http.StatusNotFound, "no manifest, object or referrer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := expectProblem(t, s.do(t, tt.method, tt.path, tt.body), tt.status, tt.path)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to mention %q", p.Detail, tt.detail)
			}
		})
	}
}
