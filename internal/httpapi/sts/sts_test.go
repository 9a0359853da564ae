package sts_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/httpapi/sts"
	"github.com/cofferhq/coffer/internal/identity"
)

// tokens accepts "good" and returns for the other tokens the error
// their name selects.
type tokens struct{}

func (tokens) Bearer(_ context.Context, token string) (identity.Identity, error) {
	switch token {
	case "good":
		return identity.Identity{Principal: authz.Principal{ID: "https://id.example.com/realms/coffer#svc-1", Method: "oidc",
			Claims: map[string]any{"aud": []any{"coffer", "account"}}}, CredentialID: "jti-1"}, nil
	case "expired":
		return identity.Identity{}, fmt.Errorf("%w: %w", authn.ErrInvalidCredentials, oidc.ErrExpired)
	case "unavailable":
		return identity.Identity{}, fmt.Errorf("%w: %w", authn.ErrUnavailable, oidc.ErrKeysUnavailable)
	}
	return identity.Identity{}, fmt.Errorf("%w: %w", authn.ErrInvalidCredentials, oidc.ErrAudience)
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	sealer, err := authn.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sts.New(tokens{}, identity.NewSessions(sealer)))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, srv *httptest.Server, params map[string]string) (int, string) {
	t.Helper()
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"},
		"RoleArn": {"arn:aws:iam::123456789012:role/ci"}, "RoleSessionName": {"job-1"}, "WebIdentityToken": {"good"}}
	for name, value := range params {
		form.Set(name, value)
	}
	resp, err := srv.Client().Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	srv := newServer(t)
	status, body := post(t, srv, map[string]string{"DurationSeconds": "900"})
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	var doc struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
		Result  struct {
			Subject     string `xml:"SubjectFromWebIdentityToken"`
			Audience    string `xml:"Audience"`
			Provider    string `xml:"Provider"`
			Arn         string `xml:"AssumedRoleUser>Arn"`
			Credentials struct {
				AccessKeyID     string `xml:"AccessKeyId"`
				SecretAccessKey string
				SessionToken    string
				Expiration      string
			}
		} `xml:"AssumeRoleWithWebIdentityResult"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	r := doc.Result
	if r.Subject != "svc-1" || r.Provider != "https://id.example.com/realms/coffer" || r.Audience != "coffer" ||
		r.Arn != "arn:aws:sts::000000000000:assumed-role/ci/job-1" {
		t.Errorf("result = %+v, want the token's subject, issuer and audience and the role session ARN", r)
	}
	expires, err := time.Parse(time.RFC3339, r.Credentials.Expiration)
	if err != nil || time.Until(expires) > 15*time.Minute || time.Until(expires) < 14*time.Minute {
		t.Errorf("Expiration = %q, want 15 minutes from now", r.Credentials.Expiration)
	}
	if !strings.HasPrefix(r.Credentials.AccessKeyID, "ASIA") || len(r.Credentials.SecretAccessKey) != 40 || r.Credentials.SessionToken == "" {
		t.Errorf("credentials = %+v, want an ASIA key, a 40-character secret and a session token", r.Credentials)
	}
}

func TestAssumeRoleWithWebIdentityErrors(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		name   string
		params map[string]string
		code   string
	}{
		{"expired token", map[string]string{"WebIdentityToken": "expired"}, "ExpiredTokenException"},
		{"rejected token", map[string]string{"WebIdentityToken": "other"}, "InvalidIdentityToken"},
		{"provider down", map[string]string{"WebIdentityToken": "unavailable"}, "IDPCommunicationError"},
		{"short duration", map[string]string{"DurationSeconds": "899"}, "ValidationError"},
		{"long duration", map[string]string{"DurationSeconds": "43201"}, "ValidationError"},
		{"bad policy", map[string]string{"Policy": "{"}, "MalformedPolicyDocument"},
		{"bad session name", map[string]string{"RoleSessionName": "a b"}, "ValidationError"},
		{"missing token", map[string]string{"WebIdentityToken": ""}, "MissingParameter"},
		{"other version", map[string]string{"Version": "2010-01-01"}, "InvalidAction"},
	} {
		status, body := post(t, srv, tc.params)
		if status != http.StatusBadRequest || !strings.Contains(body, "<Code>"+tc.code+"</Code>") || !strings.Contains(body, "<Type>Sender</Type>") {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, status, body, tc.code)
		}
	}
}
