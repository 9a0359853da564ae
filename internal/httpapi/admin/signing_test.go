package admin_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/attachments"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/signing"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// newSigningServer serves the OCI and management APIs with server-side
// signing of demo/** manifests and, with an ECDSA key, of objects in the
// releases bucket.
func newSigningServer(t *testing.T, signer supplychain.Signer, buckets ...string) *trustServer {
	t.Helper()
	stack := newTestStack(t)
	meta, store, reg, status := stack.meta, stack.store, stack.reg, stack.status
	attached := attachments.New(reg, store, time.Now)
	signer2, err := signing.New(signing.Options{Signer: signer, Repositories: []string{"demo/**"}, Buckets: buckets, DockerReference: "registry.test"},
		reg, attached, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	store.OnStore(signer2.ObjectStored)

	handler := admin.New(reg, store, func() admin.SystemInfo { return admin.SystemInfo{} })
	handler.EnableTrust(meta, status)
	handler.EnableAttachments(attached)
	ociHandler := oci.New(reg)
	ociHandler.OnManifestPushed(signer2.ManifestPushed)
	mux := http.NewServeMux()
	mux.Handle("/v2/", ociHandler)
	mux.Handle("/", handler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &trustServer{&adminServer{url: srv.URL, store: store, meta: meta}}
}

// pushImage pushes a one-layer image to repo and returns its digest.
func (s *trustServer) pushImage(t *testing.T, repo, layer string) string {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	s.pushBlob(t, repo, config)
	s.pushBlob(t, repo, []byte(layer))
	return s.pushManifest(t, repo, mustMarshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": supplychain.MediaTypeOCIManifest,
		"config": map[string]any{"mediaType": supplychain.MediaTypeOCIImageConfig, "digest": digest.SHA256.FromBytes(config), "size": len(config)},
		"layers": []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest.SHA256.FromBytes([]byte(layer)), "size": len(layer)}},
	}))
}

func serverKeyStore(t *testing.T, signer supplychain.Signer, scope string) []byte {
	t.Helper()
	pemData, _, err := supplychain.PublicKeyPEM(signer)
	if err != nil {
		t.Fatal(err)
	}
	return mustMarshal(t, map[string]any{
		"scope":       json.RawMessage(scope),
		"cosign_keys": []map[string]string{{"name": "server", "pem": string(pemData)}},
	})
}

// jsonKeys returns the sorted member names of a JSON object.
func jsonKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestSigningManifests(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]any{"ecdsa-p256": ecKey, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			signer, err := supplychain.NewSigner(key)
			if err != nil {
				t.Fatal(err)
			}
			s := newSigningServer(t, signer)
			s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/demo", serverKeyStore(t, signer, `{"repositories":"demo/**"}`))

			d := s.pushImage(t, "demo/app", "layer one")
			st := s.status(t, d)
			if !st.Verified || len(st.Signatures) != 1 {
				t.Fatalf("status of a pushed image = %+v, want one verified signature", st)
			}
			if sig := st.Signatures[0]; sig.Format != "cosign-simplesigning" || sig.Signer != "demo/server" {
				t.Errorf("signature = %+v", sig)
			}

			// The signature manifest has the form cosign sign writes.
			tag := supplychain.LegacyTagName(digest.Digest(d), supplychain.SuffixSignature)
			sigManifest := s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app/manifests/"+tag, nil, "Accept", supplychain.MediaTypeOCIManifest)
			if got, want := jsonKeys(t, sigManifest.body), jsonKeys(t, vector(t, "cosign-v2-legacy-sig-manifest.json")); !reflect.DeepEqual(got, want) {
				t.Errorf("signature manifest members = %v, cosign's = %v", got, want)
			}
			parsed, err := supplychain.ParseManifest(sigManifest.body)
			if err != nil || len(parsed.Layers) != 1 || parsed.Layers[0].MediaType != supplychain.MediaTypeCosignSimpleSigning {
				t.Fatalf("signature manifest = %s, %v", sigManifest.body, err)
			}
			if parsed.Layers[0].Annotations[supplychain.AnnotationCosignSignature] == "" {
				t.Errorf("the signature layer has no %s annotation", supplychain.AnnotationCosignSignature)
			}
			payload := s.must(t, http.StatusOK, http.MethodGet, "/v2/demo/app/blobs/"+parsed.Layers[0].Digest, nil).body
			if got, want := jsonKeys(t, payload), jsonKeys(t, vector(t, "cosign-v2-legacy-simplesigning-payload.json")); !reflect.DeepEqual(got, want) {
				t.Errorf("payload members = %v, cosign's = %v", got, want)
			}
			if simple, err := supplychain.ParseSimpleSigning(payload); err != nil || simple.DockerReference != "registry.test/demo/app" || simple.ManifestDigest != digest.Digest(d) {
				t.Errorf("payload = %+v, %v", simple, err)
			}

			// Pushing the same manifest again adds no second signature.
			s.pushImage(t, "demo/app", "layer one")
			if st := s.status(t, d); len(st.Signatures) != 1 {
				t.Errorf("signatures after a second push = %d, want 1", len(st.Signatures))
			}
			// The same image in another repository gets its own signature layer.
			s.pushImage(t, "demo/copy", "layer one")
			if st := s.status(t, d); len(st.Signatures) != 2 || !st.Signatures[1].Verified {
				t.Errorf("signatures after a push to demo/copy = %+v, want 2 verified", st.Signatures)
			}
			// Out of scope: not signed.
			other := s.pushImage(t, "other/app", "layer two")
			if st := s.status(t, other); st.Signed {
				t.Errorf("an image outside the signing scope is signed: %+v", st)
			}
		})
	}
}

func TestSigningObjects(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := supplychain.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	s := newSigningServer(t, signer, "releases/signed/")
	s.createBucket(t, "releases")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/trust/releases", serverKeyStore(t, signer, `{"bucket":"releases"}`))

	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/releases/objects/signed/report.bin", vector(t, "report.bin"))
	const path = "/api/v1/buckets/releases/objects/signed%2Freport.bin"
	var status objectTrustBody
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, path+"/trust", nil), &status)
	if !status.Verified || len(status.Signatures) != 1 || status.Signatures[0].Signer != "releases/server" || len(status.Attachments) != 1 {
		t.Fatalf("trust of a signed upload = %+v", status)
	}
	bundle := s.must(t, http.StatusOK, http.MethodGet, path+"/attachments/"+string(status.Attachments[0].Digest), nil).body
	if got, want := jsonKeys(t, bundle), jsonKeys(t, vector(t, "report.bin.v3.sigstore.json")); !reflect.DeepEqual(got, want) {
		t.Errorf("bundle members = %v, cosign sign-blob's = %v", got, want)
	}

	// An overwrite is signed again; the old signature is listed as not current.
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/releases/objects/signed/report.bin", []byte("rebuilt"))
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, path+"/trust", nil), &status)
	if !status.Verified || len(status.Attachments) != 2 {
		t.Fatalf("trust after overwrite = %+v, want verified with two attachments", status)
	}
	current := 0
	for _, a := range status.Attachments {
		if a.Current {
			current++
		}
	}
	if current != 1 {
		t.Errorf("%d current attachments, want 1", current)
	}

	// Outside the prefix: not signed.
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/releases/objects/drafts/a.txt", []byte("draft"))
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets/releases/objects/drafts%2Fa.txt/trust", nil), &status)
	if status.Signed || len(status.Attachments) != 0 {
		t.Errorf("trust of an object outside the scope = %+v", status)
	}
}

func TestSigningEd25519ObjectsRejected(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := supplychain.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = signing.New(signing.Options{Signer: signer, Buckets: []string{"releases"}}, nil, nil, slog.New(slog.DiscardHandler))
	if err == nil || !errors.Is(err, supplychain.ErrDigestSigning) {
		t.Errorf("signing objects with Ed25519: error = %v, want ErrDigestSigning", err)
	}
}
