package admin_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"github.com/cofferhq/coffer/internal/identity"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// principalHeader carries the test request's principal, which cofferd
// would take from authentication.
const principalHeader = "X-Test-Principal"

type principalKey struct{}

func withPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), principalKey{}, r.Header.Get(principalHeader))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func principalOf(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}

// s3AllowAll admits every S3 request without a signature.
type s3AllowAll struct{}

func (s3AllowAll) Authenticate(r *http.Request, _ string) (s3.Auth, error) {
	return s3.Auth{Identity: identity.Root("test"), Body: r.Body, DecodedLength: r.ContentLength, Trailer: func(string) string { return "" }}, nil
}

// decisionLog keeps the policy decisions that the enforcer reports.
type decisionLog struct {
	mu        sync.Mutex
	decisions []supplychain.Decision
}

func (l *decisionLog) record(_ context.Context, d supplychain.Decision) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.decisions = append(l.decisions, d)
}

func (l *decisionLog) take() []supplychain.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.decisions
	l.decisions = nil
	return out
}

// policyServer serves the OCI and management APIs on one address and the
// S3 API on another, all with the policy enforcer.
type policyServer struct {
	*trustServer
	s3URL string
	meta  *sqlite.Store
	log   *decisionLog
}

func newPolicyServer(t *testing.T) *policyServer {
	t.Helper()
	stack := newTestStack(t)
	meta, store, reg, status := stack.meta, stack.store, stack.reg, stack.status
	log := &decisionLog{}
	enforcer := supplychain.NewEnforcer(status, principalOf, log.record)

	handler := admin.New(reg, store, func() admin.SystemInfo { return admin.SystemInfo{} })
	handler.EnableTrust(meta, status)
	handler.EnforcePolicy(enforcer)
	ociHandler := oci.New(reg)
	ociHandler.EnforcePolicy(enforcer)
	mux := http.NewServeMux()
	mux.Handle("/v2/", ociHandler)
	mux.Handle("/", handler)
	srv := httptest.NewServer(withPrincipal(mux))
	t.Cleanup(srv.Close)

	s3Handler := s3.New(store, s3AllowAll{}, s3.Options{Region: "us-east-1", Authorizer: identity.NewAuthorizer()})
	s3Handler.EnforcePolicy(enforcer)
	s3srv := httptest.NewServer(withPrincipal(s3Handler))
	t.Cleanup(s3srv.Close)
	return &policyServer{trustServer: &trustServer{&adminServer{url: srv.URL, store: store, meta: meta}}, s3URL: s3srv.URL, meta: meta, log: log}
}

// pushSignedApp2 stores the recorded demo/app2 image manifest, whose cosign
// v2 bundle signature pushDemoArtifacts stores, and an unsigned variant in
// demo/unsigned. The recording kept neither image's blobs, so they are
// linked by digest and size only: a manifest pull never reads them.
func (s *policyServer) pushSignedApp2(t *testing.T) (unsigned string) {
	t.Helper()
	s.pushDemoArtifacts(t)
	raw := vector(t, "app2-subject-manifest.raw")
	var m struct {
		Config supplychain.Descriptor   `json:"config"`
		Layers []supplychain.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	variant := []byte(strings.Replace(string(raw), "2026-12-04T19:38:51Z", "2026-12-05T00:00:00Z", 1))
	for _, repo := range []string{"demo/app2", "demo/unsigned"} {
		for _, d := range append([]supplychain.Descriptor{m.Config}, m.Layers...) {
			if err := s.meta.LinkBlob(t.Context(), repo, metadata.Blob{Digest: digest.Digest(d.Digest), Size: d.Size}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := s.pushManifest(t, "demo/app2", raw); got != app2Digest {
		t.Fatalf("pushed app2 as %s, want %s", got, app2Digest)
	}
	return s.pushManifest(t, "demo/unsigned", variant)
}

func policyStore(t *testing.T, scope, mode, keyPEM string, exempt ...string) []byte {
	t.Helper()
	return mustMarshal(t, map[string]any{
		"scope":       json.RawMessage(scope),
		"cosign_keys": []map[string]string{{"name": "release", "pem": keyPEM}},
		"policy":      map[string]any{"mode": mode, "require_signature": true, "exempt_principals": exempt},
	})
}

func otherKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

type ociErrors struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func expectDenied(t *testing.T, resp response, wantInMessage string) {
	t.Helper()
	if resp.status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403; body: %s", resp.status, resp.body)
	}
	var body ociErrors
	if err := json.Unmarshal(resp.body, &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("OCI error body %s: %v", resp.body, err)
	}
	if body.Errors[0].Code != "DENIED" {
		t.Errorf("code = %s, want DENIED", body.Errors[0].Code)
	}
	if !strings.Contains(body.Errors[0].Message, wantInMessage) {
		t.Errorf("message = %q, want it to contain %q", body.Errors[0].Message, wantInMessage)
	}
}

func TestPolicyManifestPull(t *testing.T) {
	s := newPolicyServer(t)
	unsigned := s.pushSignedApp2(t)
	trusted := string(vector(t, "cosign.pub"))
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/demo", policyStore(t, `{"repositories":"demo/*"}`, "enforce", trusted, "release-bot"))

	t.Run("unsigned", func(t *testing.T) {
		resp := s.do(t, http.MethodGet, "/v2/demo/unsigned/manifests/"+unsigned, nil)
		expectDenied(t, resp, "a signature verified by trust store demo (the digest has no signature)")
		if !strings.Contains(string(resp.body), "pull of repository demo/unsigned ("+unsigned+")") {
			t.Errorf("message does not name the repository and digest: %s", resp.body)
		}
	})
	t.Run("trusted", func(t *testing.T) {
		resp := s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app2/manifests/"+app2Digest, nil)
		if string(resp.body) != string(vector(t, "app2-subject-manifest.raw")) {
			t.Errorf("body differs from the pushed manifest")
		}
	})
	t.Run("signature artifact exempt", func(t *testing.T) {
		referrer := string(digest.SHA256.FromBytes(compactVector(t, "cosign-v2-bundle-referrer-manifest.json")))
		s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app2/manifests/"+referrer, nil)
	})
	t.Run("referrers tag index exempt", func(t *testing.T) {
		// notation keeps a "sha256-<hex>" index of the signatures and reads
		// it before it adds one, also on a registry with a referrers API.
		index := mustMarshal(t, map[string]any{
			"schemaVersion": 2, "mediaType": supplychain.MediaTypeOCIIndex,
			"manifests": []map[string]any{{
				"mediaType": supplychain.MediaTypeOCIManifest, "artifactType": "application/vnd.cncf.notary.signature",
				"digest": digest.SHA256.FromBytes(compactVector(t, "notation-sig-manifest-jws.json")), "size": 728,
			}},
		})
		tag := "sha256-" + strings.TrimPrefix(appDigest, "sha256:")
		s.must(t, http.StatusCreated, http.MethodPut, "/v2/demo/app/manifests/"+tag, index, "Content-Type", supplychain.MediaTypeOCIIndex)
		resp := s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app/manifests/"+tag, nil)
		if string(resp.body) != string(index) {
			t.Errorf("body differs from the pushed index")
		}
		expectDenied(t, s.do(t, http.MethodGet, "/v2/demo/app/manifests/"+string(digest.SHA256.FromBytes(index)), nil), "the digest has no signature")

		// An image manifest under such a tag is checked like any other.
		image := s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/unsigned/manifests/"+unsigned, nil, principalHeader, "release-bot").body
		imageTag := "sha256-" + strings.TrimPrefix(unsigned, "sha256:")
		s.must(t, http.StatusCreated, http.MethodPut, "/v2/demo/unsigned/manifests/"+imageTag, image, "Content-Type", supplychain.MediaTypeOCIManifest)
		expectDenied(t, s.do(t, http.MethodGet, "/v2/demo/unsigned/manifests/"+imageTag, nil), "the digest has no signature")
	})
	t.Run("HEAD not checked", func(t *testing.T) {
		s.must(t, http.StatusOK, http.MethodHead, "/v2/demo/unsigned/manifests/"+unsigned, nil)
	})
	t.Run("exempt principal", func(t *testing.T) {
		s.log.take()
		s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/unsigned/manifests/"+unsigned, nil, principalHeader, "release-bot")
		if got := s.log.take(); len(got) != 1 || !got[0].Exempt {
			t.Errorf("decisions = %+v, want one exempt decision", got)
		}
	})
	t.Run("allowed decision recorded", func(t *testing.T) {
		s.log.take()
		s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app2/manifests/"+app2Digest, nil)
		if got := s.log.take(); len(got) != 1 || !got[0].Allowed() || got[0].TrustStore != "demo" {
			t.Errorf("decisions = %+v, want one allowing decision of trust store demo", got)
		}
	})

	t.Run("untrusted key", func(t *testing.T) {
		s.must(t, http.StatusOK, http.MethodPut, "/api/v1/trust/demo", policyStore(t, `{"repositories":"demo/*"}`, "enforce", otherKeyPEM(t)))
		resp := s.do(t, http.MethodGet, "/v2/demo/app2/manifests/"+app2Digest, nil)
		expectDenied(t, resp, "a signature verified by trust store demo (1 signatures, none verified by it: ")
		if !strings.Contains(string(resp.body), "not trusted") {
			t.Errorf("message does not say why the signature did not verify: %s", resp.body)
		}
	})

	t.Run("audit mode", func(t *testing.T) {
		s.must(t, http.StatusOK, http.MethodPut, "/api/v1/trust/demo", policyStore(t, `{"repositories":"demo/*"}`, "audit", trusted))
		s.log.take()
		s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/unsigned/manifests/"+unsigned, nil)
		got := s.log.take()
		if len(got) != 1 {
			t.Fatalf("decisions = %+v, want one", got)
		}
		if got[0].Mode != "audit" || got[0].Allowed() || got[0].Digest != digest.Digest(unsigned) {
			t.Errorf("decision = %+v, want a denying audit-mode decision on %s", got[0], unsigned)
		}
	})
}

func TestPolicyObjectDownload(t *testing.T) {
	s := newPolicyServer(t)
	s.createBucket(t, "reports")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/signed/report.bin", vector(t, "report.bin"))
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/reports/objects/plain.txt", []byte("unsigned"))
	bundle := vector(t, "report.bin.sigstore.json")
	s.pushBlob(t, "files/report", []byte("{}"))
	s.pushBlob(t, "files/report", bundle)
	s.pushManifest(t, "files/report", mustMarshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": supplychain.MediaTypeOCIManifest, "artifactType": supplychain.MediaTypeSigstoreBundleV03,
		"config":  map[string]any{"mediaType": supplychain.MediaTypeEmptyJSON, "digest": string(digest.SHA256.FromBytes([]byte("{}"))), "size": 2},
		"layers":  []map[string]any{{"mediaType": supplychain.MediaTypeSigstoreBundleV03, "digest": string(digest.SHA256.FromBytes(bundle)), "size": len(bundle)}},
		"subject": map[string]any{"mediaType": "application/octet-stream", "digest": reportDigest, "size": len(vector(t, "report.bin"))},
	}))
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/reports", policyStore(t, `{"bucket":"reports"}`, "enforce", string(vector(t, "cosign.pub"))))

	s3get := func(t *testing.T, key string) response {
		t.Helper()
		return (&adminServer{url: s.s3URL}).do(t, http.MethodGet, "/reports/"+key, nil)
	}
	t.Run("S3 unsigned", func(t *testing.T) {
		resp := s3get(t, "plain.txt")
		if resp.status != http.StatusForbidden || !strings.Contains(string(resp.body), "<Code>AccessDenied</Code>") {
			t.Fatalf("GetObject = %d %s, want 403 AccessDenied", resp.status, resp.body)
		}
		if !strings.Contains(string(resp.body), "a signature verified by trust store reports (the digest has no signature)") {
			t.Errorf("message does not name the missing signature: %s", resp.body)
		}
	})
	t.Run("S3 trusted", func(t *testing.T) {
		resp := s3get(t, "signed/report.bin")
		if resp.status != http.StatusOK || string(resp.body) != string(vector(t, "report.bin")) {
			t.Errorf("GetObject = %d, %d bytes; want 200 and the object", resp.status, len(resp.body))
		}
	})
	t.Run("native unsigned", func(t *testing.T) {
		resp := s.do(t, http.MethodGet, "/api/v1/buckets/reports/objects/plain.txt", nil)
		p := expectProblem(t, resp, http.StatusForbidden, "/api/v1/buckets/reports/objects/plain.txt")
		if !strings.Contains(p.Detail, "download of object reports/plain.txt") || !strings.Contains(p.Detail, "a signature verified by trust store reports") {
			t.Errorf("detail = %q", p.Detail)
		}
	})
	t.Run("native trusted", func(t *testing.T) {
		s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets/reports/objects/signed/report.bin", nil)
	})
	t.Run("S3 untrusted key", func(t *testing.T) {
		s.must(t, http.StatusOK, http.MethodPut, "/api/v1/trust/reports", policyStore(t, `{"bucket":"reports"}`, "enforce", otherKeyPEM(t)))
		if resp := s3get(t, "signed/report.bin"); resp.status != http.StatusForbidden {
			t.Errorf("GetObject signed by an untrusted key = %d, want 403", resp.status)
		}
	})
	t.Run("S3 audit mode", func(t *testing.T) {
		s.must(t, http.StatusOK, http.MethodPut, "/api/v1/trust/reports", policyStore(t, `{"bucket":"reports"}`, "audit", string(vector(t, "cosign.pub"))))
		s.log.take()
		if resp := s3get(t, "plain.txt"); resp.status != http.StatusOK || string(resp.body) != "unsigned" {
			t.Errorf("GetObject in audit mode = %d %s, want 200", resp.status, resp.body)
		}
		if got := s.log.take(); len(got) != 1 || got[0].Mode != "audit" || got[0].Allowed() {
			t.Errorf("decisions = %+v, want one denying audit-mode decision", got)
		}
	})
}

func TestPolicyValidation(t *testing.T) {
	s := newPolicyServer(t)
	cases := []struct{ name, policy, detail string }{
		{"unknown mode", `{"mode":"warn","require_signature":true}`, `policy.mode "warn" is invalid: expected "enforce" or "audit"`},
		{"requires nothing", `{"mode":"enforce"}`, "policy requires nothing"},
		{"empty predicate", `{"mode":"audit","require_attestations":[""]}`, "policy.require_attestations[0] is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := mustMarshal(t, map[string]any{
				"scope":       map[string]string{"bucket": "reports"},
				"cosign_keys": []map[string]string{{"name": "release", "pem": string(vector(t, "cosign.pub"))}},
				"policy":      json.RawMessage(tc.policy),
			})
			p := expectProblem(t, s.do(t, http.MethodPut, "/api/v1/trust/x", body), http.StatusBadRequest, "/api/v1/trust/x")
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tc.detail)
			}
		})
	}
}
