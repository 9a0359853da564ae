package oci_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/registrytoken"
)

// testKeys are the registry token keys of every test server. Deriving them
// costs about 100 ms, so the package does it once.
var testKeys = sync.OnceValue(func() *registrytoken.Keys {
	keys, err := registrytoken.DeriveKeys([]byte(testUser+"\x00"+testPassword), 0)
	if err != nil {
		panic(err)
	}
	return keys
})

// Passwords of the test users besides root. Each user's principal ID is
// "coffer#<user>".
var testUserPasswords = map[string]string{
	"reader": "reader-password",
	"writer": "writer-password",
}

// testSecrets verifies the passwords of testUserPasswords.
type testSecrets struct{}

func (testSecrets) VerifySecret(_ context.Context, user, secret string) (identity.Identity, error) {
	if password, ok := testUserPasswords[user]; ok && password == secret {
		return identity.Identity{
			Principal:    authz.Principal{ID: "coffer#" + user, Method: "basic"},
			CredentialID: "password-" + user,
		}, nil
	}
	return identity.Identity{}, fmt.Errorf("user %q: %w", user, authn.ErrInvalidCredentials)
}

// testStatements allow reader to pull team/** and writer to pull and push
// team/** and pull other/**.
var testStatements = identity.StaticPolicy{
	{ID: "reader-pull", Effect: authz.Allow, Principals: []string{"user:coffer#reader"},
		Actions: []string{authz.ActionOCIPull}, Resources: []string{"repo:team/**"}},
	{ID: "writer-push", Effect: authz.Allow, Principals: []string{"user:coffer#writer"},
		Actions: []string{authz.ActionOCIPull, authz.ActionOCIPush}, Resources: []string{"repo:team/**"}},
	{ID: "writer-pull-other", Effect: authz.Allow, Principals: []string{"user:coffer#writer"},
		Actions: []string{authz.ActionOCIPull}, Resources: []string{"repo:other/**"}},
}

// protect turns on access control as cofferd does, with root, the test
// users and testStatements.
func protect(t *testing.T, h *oci.Handler) {
	t.Helper()
	root, err := authn.LoadRoot(t.TempDir(), testUser, testPassword, nil)
	if err != nil {
		t.Fatalf("load root credentials: %v", err)
	}
	h.RequireAccess(oci.Access{
		Credentials: &identity.Resolver{Root: root, Secrets: testSecrets{}},
		Policies:    identity.NewAuthorizer(testStatements),
		Tokens:      registrytoken.NewService(testKeys(), "coffer"),
	})
}

// newProtectedAPI returns the OCI handler over reg with access control on.
func newProtectedAPI(t *testing.T, reg *registry.Registry) *oci.Handler {
	t.Helper()
	h := oci.New(reg)
	protect(t, h)
	return h
}

// auditRecords keeps the audit record of every request, as the audit
// middleware does, so tests can read the decisions of a response.
type auditRecords struct {
	mu      sync.Mutex
	records []*audit.Record
}

func (a *auditRecords) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, record := audit.WithRecord(r.Context())
		a.mu.Lock()
		a.records = append(a.records, record)
		a.mu.Unlock()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// last returns the record of the latest request.
func (a *auditRecords) last() *audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.records) == 0 {
		return nil
	}
	return a.records[len(a.records)-1]
}
