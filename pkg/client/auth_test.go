package client_test

import (
	"errors"
	"testing"

	"github.com/cofferhq/coffer/pkg/client"
)

func TestClientCredentials(t *testing.T) {
	provider, err := client.Discover(t.Context(), nil, kc.Issuer("coffer"))
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	auth := client.NewClientCredentials(client.ClientCredentials{
		TokenURL: provider.TokenEndpoint, ClientID: "ci", ClientSecret: "ci-secret",
	})
	c := newClient(t, nil, client.Options{Auth: auth})
	if _, err := c.SystemInfo(t.Context()); err != nil {
		t.Errorf("system info with a client credentials token: %v", err)
	}
	if _, err := c.Buckets(t.Context()); err != nil {
		t.Errorf("buckets with a client credentials token: %v", err)
	}

	wrong := client.NewClientCredentials(client.ClientCredentials{
		TokenURL: provider.TokenEndpoint, ClientID: "ci", ClientSecret: "wrong",
	})
	if _, err := newClient(t, nil, client.Options{Auth: wrong}).SystemInfo(t.Context()); err == nil {
		t.Error("system info with a wrong client secret succeeded")
	}
}

func TestDeviceLogin(t *testing.T) {
	provider, err := client.Discover(t.Context(), nil, kc.Issuer("coffer"))
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	var prompted client.DeviceCode
	login := client.DeviceLogin{
		Provider: provider,
		ClientID: "coffer-cli",
		Prompt: func(code client.DeviceCode) {
			prompted = code
			if err := kc.ApproveDevice("coffer", code.UserCode, "alice"); err != nil {
				t.Errorf("approve: %v", err)
			}
		},
	}
	token, err := login.Run(t.Context())
	if err != nil {
		t.Fatalf("device login: %v", err)
	}
	if prompted.UserCode == "" || prompted.VerificationURI == "" || token.RefreshToken == "" {
		t.Errorf("prompt %+v, refresh token set %t; want a code, a page and a refresh token", prompted, token.RefreshToken != "")
	}
	c := newClient(t, nil, client.Options{Auth: login.RefreshingToken(token, nil)})
	if _, err := c.SystemInfo(t.Context()); err != nil {
		t.Errorf("system info with the device token: %v", err)
	}
	// Tokens may read but not change anything until policies exist.
	if err := c.CreateBucket(t.Context(), "by-token"); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("create bucket with a token: %v, want ErrForbidden", err)
	}
}
