package client_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pkg/client"
)

func TestTokenLifecycle(t *testing.T) {
	root := newClient(t, nil, client.Options{})
	ctx := t.Context()
	created, err := root.CreateToken(ctx, client.CreateTokenOptions{
		Name: "ci upload", ExpiresIn: time.Hour,
		Scopes: []client.Scope{{Actions: []string{"s3:ListAllMyBuckets"}, Resources: []string{"*"}}},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Secret == "" || created.Name != "ci upload" || created.Expires.IsZero() || len(created.Scopes) != 1 {
		t.Errorf("created %+v, want a secret, the name, an expiry and one scope", created)
	}

	byToken := newClient(t, nil, client.Options{Auth: client.Basic{Username: rootUser, Password: created.Secret}})
	if _, err := byToken.Buckets(ctx); err != nil {
		t.Errorf("list buckets with the token as password: %v", err)
	}
	if _, err := newClient(t, nil, client.Options{Auth: client.TokenAuth(created.Secret)}).Buckets(ctx); err != nil {
		t.Errorf("list buckets with TokenAuth: %v", err)
	}
	err = byToken.CreateBucket(ctx, "outside-the-scope")
	var httpErr *client.Error
	if !errors.As(err, &httpErr) || !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("create bucket outside the scope: %v, want ErrForbidden", err)
	}
	if httpErr.Denial == nil {
		t.Fatalf("403 %q carries no denial", httpErr.Message)
	}
	want := client.Denial{Principal: httpErr.Denial.Principal, Action: "s3:CreateBucket", Resource: "arn:aws:s3:::outside-the-scope", Reason: "outside restriction"}
	if *httpErr.Denial != want {
		t.Errorf("denial %+v, want %+v", *httpErr.Denial, want)
	}

	listed, err := root.Tokens(ctx, client.TokensOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	found := false
	for _, tok := range listed {
		if tok.ID == created.ID {
			found = true
			if tok.Secret != "" {
				t.Error("list shows the secret")
			}
		}
	}
	if !found {
		t.Errorf("list %+v lacks token %s", listed, created.ID)
	}

	if err := root.RevokeToken(ctx, created.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	got, err := root.Token(ctx, created.ID)
	if err != nil || got.Revoked.IsZero() {
		t.Errorf("get after revoke: %+v, %v; want a revocation time", got, err)
	}
	if _, err := byToken.Buckets(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("list buckets with the revoked token: %v, want ErrUnauthorized", err)
	}
	if err := root.RevokeToken(ctx, "no-such-token"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("revoke an unknown token: %v, want ErrNotFound", err)
	}
}

func TestAccessKeyLifecycle(t *testing.T) {
	root := newClient(t, nil, client.Options{})
	ctx := t.Context()
	expires := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	policy := json.RawMessage(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::releases/*"}]}`)
	created, err := root.CreateAccessKey(ctx, client.CreateAccessKeyOptions{Description: "backup job", ExpiresAt: expires, Policy: policy})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(created.ID) != 20 || len(created.Secret) != 40 || created.Status != "active" || created.Restriction == nil {
		t.Errorf("created %+v, want a 20-character ID, a 40-character secret, status active and a restriction", created)
	}
	if created.ExpiresAt == nil || !created.ExpiresAt.Equal(expires) {
		t.Errorf("expires_at %v, want %v", created.ExpiresAt, expires)
	}

	keys, err := root.AccessKeys(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	found := false
	for _, k := range keys {
		found = found || k.ID == created.ID && k.Secret == "" && k.Description == "backup job"
	}
	if !found {
		t.Errorf("list %+v lacks key %s without its secret", keys, created.ID)
	}

	if err := root.DeleteAccessKey(ctx, created.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got, err := root.AccessKey(ctx, created.ID)
	if err != nil || got.Status != "revoked" || got.RevokedAt == nil {
		t.Errorf("get after delete: %+v, %v; want status revoked", got, err)
	}
	_, err = root.CreateAccessKey(ctx, client.CreateAccessKeyOptions{Policy: json.RawMessage(`{"Statement": "none"}`)})
	if !errors.Is(err, client.ErrInvalidRequest) {
		t.Errorf("create with an invalid policy: %v, want ErrInvalidRequest", err)
	}
}

func TestExplain(t *testing.T) {
	root := newClient(t, nil, client.Options{})
	ctx := t.Context()
	allowed, err := root.Explain(ctx, client.ExplainRequest{
		Principal: &client.Principal{ID: "https://sso.example.com#reader"},
		Action:    "s3:GetObject", Resource: "arn:aws:s3:::releases/app.tar",
	})
	if err != nil {
		t.Fatalf("explain an allowed read: %v", err)
	}
	if !allowed.Allowed() || allowed.Reason != "allowed" || len(allowed.StatementIDs) != 1 || len(allowed.Statements) != 1 {
		t.Errorf("explain an allowed read: %+v, want one allowing statement", allowed)
	}

	denied, err := root.Explain(ctx, client.ExplainRequest{
		Principal: &client.Principal{ID: "https://sso.example.com#reader"},
		Action:    "s3:DeleteObject", Resource: "arn:aws:s3:::releases/app.tar",
	})
	if err != nil {
		t.Fatalf("explain a denied delete: %v", err)
	}
	if denied.Allowed() || denied.Reason != "no matching statement" || len(denied.StatementIDs) != 0 {
		t.Errorf("explain a denied delete: %+v, want a default deny", denied)
	}

	if _, err := root.Explain(ctx, client.ExplainRequest{Action: "s3:GetObject"}); !errors.Is(err, client.ErrInvalidRequest) {
		t.Errorf("explain without a resource: %v, want ErrInvalidRequest", err)
	}
}
