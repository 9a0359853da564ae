package keycloak

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestDeviceFlow(t *testing.T) {
	s := startTestServer(t, Options{})
	auth := call(t, s, http.MethodPost, "/protocol/openid-connect/auth/device", url.Values{"client_id": {"cli"}, "scope": {"openid"}}, "", "")
	if auth.status != http.StatusOK || auth.body["interval"] != 5.0 || auth.body["expires_in"] != 600.0 {
		t.Fatalf("device authorization = %d %v", auth.status, auth.body)
	}
	if got, want := auth.str("verification_uri"), s.Issuer(realmName)+"/device"; got != want {
		t.Errorf("verification_uri = %q, want %q", got, want)
	}
	poll := url.Values{"grant_type": {grantDeviceCode}, "client_id": {"cli"}, "device_code": {auth.str("device_code")}}

	wantError(t, token(t, s, poll, ""), http.StatusBadRequest, "authorization_pending", "The authorization request is still pending")
	wantError(t, token(t, s, poll, ""), http.StatusBadRequest, "slow_down", "Slow down")
	// slow_down raised the interval to 10 s.
	s.AdvanceClock(6 * time.Second)
	wantError(t, token(t, s, poll, ""), http.StatusBadRequest, "slow_down", "Slow down")
	s.AdvanceClock(16 * time.Second)
	wantError(t, token(t, s, poll, ""), http.StatusBadRequest, "authorization_pending", "The authorization request is still pending")

	approve := url.Values{"user_code": {auth.str("user_code")}, "username": {"alice"}, "password": {"alice-password"}}
	if r := call(t, s, http.MethodPost, "/device", approve, "", ""); r.status != http.StatusOK || r.str("status") != "approved" {
		t.Fatalf("verification = %d %v", r.status, r.body)
	}
	s.AdvanceClock(16 * time.Second)
	r := token(t, s, poll, "")
	if r.status != http.StatusOK || r.str("id_token") == "" || r.str("refresh_token") == "" {
		t.Fatalf("approved poll = %d %v", r.status, r.body)
	}
	if got := decodePart(t, r.str("access_token"), 1)["preferred_username"]; got != "alice" {
		t.Errorf("preferred_username = %v, want alice", got)
	}
	wantError(t, token(t, s, poll, ""), http.StatusBadRequest, "invalid_grant", "Device code not valid")
}

func TestDeviceFlowExpiredAndDenied(t *testing.T) {
	s := startTestServer(t, Options{})
	start := func() (url.Values, string) {
		auth := call(t, s, http.MethodPost, "/protocol/openid-connect/auth/device", url.Values{"client_id": {"cli"}}, "", "")
		return url.Values{"grant_type": {grantDeviceCode}, "client_id": {"cli"}, "device_code": {auth.str("device_code")}}, auth.str("user_code")
	}
	expired, _ := start()
	s.AdvanceClock(601 * time.Second)
	wantError(t, token(t, s, expired, ""), http.StatusBadRequest, "expired_token", "Device code is expired")

	denied, userCode := start()
	if err := s.DenyDevice(realmName, userCode); err != nil {
		t.Fatal(err)
	}
	wantError(t, token(t, s, denied, ""), http.StatusBadRequest, "access_denied", "The end user denied the authorization request")

	approved, userCode := start()
	if err := s.ApproveDevice(realmName, userCode, "alice"); err != nil {
		t.Fatal(err)
	}
	if r := token(t, s, approved, ""); r.status != http.StatusOK {
		t.Errorf("poll after ApproveDevice = %d %v", r.status, r.body)
	}
	wantError(t, call(t, s, http.MethodPost, "/protocol/openid-connect/auth/device", url.Values{"client_id": {"web"}, "client_secret": {"web-secret"}}, "", ""),
		http.StatusBadRequest, "unauthorized_client", "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.")
}
