package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// DeviceLogin configures the OAuth 2.0 device authorization grant
// (RFC 8628), with which a person signs in on another device's browser.
type DeviceLogin struct {
	// Provider holds the token and device authorization endpoints; use
	// [Discover].
	Provider Provider
	// ClientID is a public client that may use the device grant, such as
	// Keycloak's "coffer-cli".
	ClientID string
	// Scopes are requested in addition to the client's defaults. Empty
	// requests "openid".
	Scopes []string
	// Prompt is called once with the code the user must enter and the page
	// to enter it on. It must not block; the login waits for approval after
	// it returns. Nil prompts nobody, which only suits tests that approve
	// the code themselves.
	Prompt func(DeviceCode)
	// HTTPClient talks to the provider. Nil uses http.DefaultClient.
	HTTPClient *http.Client
}

// DeviceCode is the code and page a user needs to approve a device login.
type DeviceCode struct {
	// UserCode is the code the user enters at VerificationURI.
	UserCode string
	// VerificationURI is the page where the user enters UserCode.
	VerificationURI string
	// VerificationURIComplete, when the provider sends it, is the page with
	// the code filled in.
	VerificationURIComplete string
	// Expires is when the code stops working.
	Expires time.Time
}

// config returns the oauth2 configuration of the login.
func (d DeviceLogin) config() *oauth2.Config {
	scopes := d.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid"}
	}
	return &oauth2.Config{
		ClientID: d.ClientID,
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{
			TokenURL:      d.Provider.TokenEndpoint,
			DeviceAuthURL: d.Provider.DeviceAuthorizationEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// Run starts a device authorization, calls Prompt, and polls the token
// endpoint at the interval the provider asks for until the user approves,
// denies, the code expires, or ctx ends. It returns the token, whose
// refresh token [RefreshingToken] uses to keep the session alive.
func (d DeviceLogin) Run(ctx context.Context) (*oauth2.Token, error) {
	if d.Provider.DeviceAuthorizationEndpoint == "" {
		return nil, errors.New("device login: the provider announces no device_authorization_endpoint")
	}
	ctx = withHTTPClient(ctx, d.HTTPClient)
	cfg := d.config()
	auth, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device login: start authorization: %w", err)
	}
	if d.Prompt != nil {
		d.Prompt(DeviceCode{
			UserCode:                auth.UserCode,
			VerificationURI:         auth.VerificationURI,
			VerificationURIComplete: auth.VerificationURIComplete,
			Expires:                 auth.Expiry,
		})
	}
	token, err := cfg.DeviceAccessToken(ctx, auth)
	if err != nil {
		var retrieveErr *oauth2.RetrieveError
		if errors.As(err, &retrieveErr) && (retrieveErr.ErrorCode == "access_denied" || retrieveErr.ErrorCode == "expired_token") {
			return nil, fmt.Errorf("device login: %w: %w", ErrUnauthorized, err)
		}
		return nil, fmt.Errorf("device login: %w", err)
	}
	return token, nil
}

// RefreshingToken returns an authenticator that sends token and, once it
// expires, gets a new one with its refresh token from the login's token
// endpoint. onRefresh, when not nil, is called with every new token, so the
// caller can store it.
func (d DeviceLogin) RefreshingToken(token *oauth2.Token, onRefresh func(*oauth2.Token)) Authenticator {
	cfg := d.config()
	return &oauthAuthenticator{source: func(ctx context.Context) oauth2.TokenSource {
		source := cfg.TokenSource(withHTTPClient(ctx, d.HTTPClient), token)
		if onRefresh == nil {
			return source
		}
		return &notifyingSource{source: source, last: token.AccessToken, notify: onRefresh}
	}}
}

// notifyingSource calls notify when its source returns a new token.
type notifyingSource struct {
	source oauth2.TokenSource
	last   string
	notify func(*oauth2.Token)
}

func (s *notifyingSource) Token() (*oauth2.Token, error) {
	token, err := s.source.Token()
	if err != nil {
		return nil, err
	}
	if token.AccessToken != s.last {
		s.last = token.AccessToken
		s.notify(token)
	}
	return token, nil
}
