package identity

import (
	"context"
	"errors"
	"testing"

	"github.com/cofferhq/coffer/internal/authn"
)

type fixedRoot struct{ user, password string }

func (f fixedRoot) Verify(user, password string) (authn.Principal, error) {
	if user == f.user && password == f.password {
		return authn.Principal{Subject: "root", Method: "basic"}, nil
	}
	return authn.Principal{}, authn.ErrInvalidCredentials
}

type fixedSecrets struct{}

func (fixedSecrets) VerifySecret(_ context.Context, user, secret string) (Identity, error) {
	if secret == "coffer_pat_good" {
		return Identity{CredentialID: "pat-1"}, nil
	}
	return Identity{}, authn.ErrInvalidCredentials
}

func TestResolverBasic(t *testing.T) {
	r := &Resolver{Root: fixedRoot{"admin", "s3cret"}, Secrets: fixedSecrets{}}
	ctx := context.Background()

	id, err := r.Basic(ctx, "admin", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if id.Principal.ID != RootPrincipalID || id.CredentialID != "root" {
		t.Fatalf("root identity = %+v", id)
	}

	id, err = r.Basic(ctx, "someone", "coffer_pat_good")
	if err != nil {
		t.Fatal(err)
	}
	if id.CredentialID != "pat-1" {
		t.Fatalf("secret identity = %+v", id)
	}

	_, err = r.Basic(ctx, "admin", "wrong")
	if !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Fatalf("wrong password: err = %v, want ErrInvalidCredentials", err)
	}

	_, err = r.Basic(ctx, "admin", "a.b.c")
	if !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Fatalf("token without OIDC: err = %v, want ErrInvalidCredentials", err)
	}
}
