package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// callerHeader names the caller of an access-key request: "root", a
// principal ID, or nothing for a request the authentication rejects.
const callerHeader = "X-Test-Caller"

func newAccessKeyServer(t *testing.T) *adminServer {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	sealer, err := authn.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	blobs := blob.New(memory.New(), meta)
	store := objects.New(meta, blobs, "us-east-1")
	handler := admin.New(registry.New(meta, blobs, 4<<20), store, func() admin.SystemInfo { return admin.SystemInfo{} })
	handler.EnableAccessKeys(identity.NewAccessKeys(meta, sealer), func(r *http.Request) (identity.Identity, error) {
		switch caller := r.Header.Get(callerHeader); caller {
		case "":
			return identity.Identity{}, errors.New("no credentials")
		case "root":
			return identity.Root("basic"), nil
		default:
			return identity.Identity{Principal: authz.Principal{ID: caller, Method: "oidc"}}, nil
		}
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &adminServer{url: srv.URL, store: store, meta: meta}
}

type accessKeyBody struct {
	ID          string        `json:"access_key_id"`
	Secret      string        `json:"secret_access_key"`
	Owner       string        `json:"owner"`
	Status      string        `json:"status"`
	Restriction *authz.Policy `json:"restriction"`
}

func TestAccessKeysAPI(t *testing.T) {
	s := newAccessKeyServer(t)
	const alice, bob = "https://id.example.com#alice", "https://id.example.com#bob"
	policy := `{"description": "ci", "policy": {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::releases/*"}}}`

	var created accessKeyBody
	decodeJSON(t, s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/access-keys", []byte(policy), callerHeader, alice), &created)
	if created.Owner != alice || created.Status != "active" || len(created.Secret) != 40 ||
		created.Restriction == nil || len(created.Restriction.Statements) != 1 {
		t.Errorf("created key = %+v, want an active key of alice with a secret and one restriction statement", created)
	}
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/access-keys", []byte(`{}`), callerHeader, bob)

	var page struct{ Items []accessKeyBody }
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/access-keys", nil, callerHeader, alice), &page)
	if len(page.Items) != 1 || page.Items[0].ID != created.ID || page.Items[0].Secret != "" {
		t.Errorf("alice's listing = %+v, want her one key without its secret", page.Items)
	}
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/access-keys", nil, callerHeader, "root"), &page)
	if len(page.Items) != 2 {
		t.Errorf("root's listing has %d keys, want both", len(page.Items))
	}

	s.must(t, http.StatusNotFound, http.MethodGet, "/api/v1/access-keys/"+created.ID, nil, callerHeader, bob)
	s.must(t, http.StatusNotFound, http.MethodDelete, "/api/v1/access-keys/"+created.ID, nil, callerHeader, bob)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/access-keys/"+created.ID, nil, callerHeader, alice)
	var revoked accessKeyBody
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/access-keys/"+created.ID, nil, callerHeader, "root"), &revoked)
	if revoked.Status != "revoked" {
		t.Errorf("status after revocation = %q, want revoked", revoked.Status)
	}
	s.must(t, http.StatusNotFound, http.MethodDelete, "/api/v1/access-keys/AKMISSING", nil, callerHeader, "root")
}

func TestAccessKeysAPIRejects(t *testing.T) {
	s := newAccessKeyServer(t)
	for name, body := range map[string]string{
		"unknown field":   `{"secret": "mine"}`,
		"widening syntax": `{"policy": {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}}}`,
		"oci action":      `{"policy": {"Statement": {"Effect": "Allow", "Action": "oci:pull", "Resource": "*"}}}`,
		"past expiry":     `{"expires_at": "2020-01-01T00:00:00Z"}`,
		"not json":        `description=ci`,
	} {
		resp := s.do(t, http.MethodPost, "/api/v1/access-keys", []byte(body), callerHeader, "root")
		var problem admin.Problem
		if resp.status != http.StatusBadRequest || json.Unmarshal(resp.body, &problem) != nil || problem.Detail == "" {
			t.Errorf("POST with %s = %d %s, want a 400 problem", name, resp.status, resp.body)
		}
	}
	resp := s.do(t, http.MethodGet, "/api/v1/access-keys", nil)
	if resp.status != http.StatusUnauthorized {
		t.Errorf("GET without a caller = %d, want 401", resp.status)
	}
}
