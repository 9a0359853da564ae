package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Authenticator adds credentials to a request.
type Authenticator interface {
	// Authorize sets the request's credentials, typically its
	// Authorization header. It may fetch or refresh a token using ctx.
	Authorize(ctx context.Context, req *http.Request) error
}

// BearerToken sends a fixed token as "Authorization: Bearer <token>", such
// as an OIDC access token. The server does not accept the secrets it
// issues as bearer tokens; use [TokenAuth] for a token of either kind.
type BearerToken string

// Prefixes of the secrets that Coffer issues: personal access tokens and
// robot account secrets.
const (
	PersonalAccessTokenPrefix = "coffer_pat_"
	RobotSecretPrefix         = "coffer_robot_"
)

// TokenAuth returns the authenticator of a token. A secret that Coffer
// issued (it starts with [PersonalAccessTokenPrefix] or
// [RobotSecretPrefix]) goes as the password of HTTP Basic, the only place
// the server accepts it, and any other token as a [BearerToken].
func TokenAuth(token string) Authenticator {
	if strings.HasPrefix(token, PersonalAccessTokenPrefix) || strings.HasPrefix(token, RobotSecretPrefix) {
		return Basic{Username: "token", Password: token}
	}
	return BearerToken(token)
}

// Authorize sets the Authorization header.
func (t BearerToken) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(t))
	return nil
}

// Basic sends HTTP Basic credentials, such as the root user's.
type Basic struct {
	// Username and Password are sent with every request: root's
	// credentials, a robot's, or any name with a personal access token.
	Username string
	Password string
}

// Authorize sets the Authorization header.
func (b Basic) Authorize(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(b.Username, b.Password)
	return nil
}

// TokenSource sends the access tokens of an oauth2.TokenSource as bearer
// tokens. A source from oauth2.Config.TokenSource or
// clientcredentials.Config.TokenSource refreshes the token before it
// expires.
type TokenSource struct {
	// Source returns the current access token and refreshes it when it
	// expires.
	Source oauth2.TokenSource
}

// Authorize fetches a valid token and sets the Authorization header.
func (s TokenSource) Authorize(_ context.Context, req *http.Request) error {
	token, err := s.Source.Token()
	if err != nil {
		return fmt.Errorf("get access token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	return nil
}

// Provider is the part of an OpenID Connect provider's discovery document
// that the client uses.
type Provider struct {
	// Issuer and the endpoints are the fields of the same names in the
	// provider's OpenID Connect discovery document.
	Issuer                      string `json:"issuer"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	EndSessionEndpoint          string `json:"end_session_endpoint"`
}

// Discover reads the discovery document of an OpenID Connect issuer, such
// as "https://sso.example.com/realms/coffer" for a Keycloak realm. A nil
// httpClient uses http.DefaultClient.
func Discover(ctx context.Context, httpClient *http.Client, issuer string) (Provider, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	url := strings.TrimRight(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Provider{}, fmt.Errorf("discover issuer %s: %w", issuer, err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return Provider{}, fmt.Errorf("discover issuer %s: %w: %w", issuer, ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Provider{}, fmt.Errorf("discover issuer %s: %w", issuer, responseError(http.MethodGet, resp))
	}
	defer drain(resp)
	var p Provider
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return Provider{}, fmt.Errorf("discover issuer %s: decode the discovery document: %w", issuer, err)
	}
	if p.TokenEndpoint == "" {
		return Provider{}, fmt.Errorf("discover issuer %s: the discovery document has no token_endpoint", issuer)
	}
	return p, nil
}

// ClientCredentials configures the OAuth 2.0 client credentials grant,
// which a service account such as a CI job uses.
type ClientCredentials struct {
	// TokenURL is the token endpoint, such as
	// https://sso.example.com/realms/coffer/protocol/openid-connect/token.
	// Use [Discover] to find it from the issuer.
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Scopes are requested in addition to the client's default scopes.
	// Empty requests none.
	Scopes []string
	// HTTPClient talks to the token endpoint. Nil uses http.DefaultClient.
	HTTPClient *http.Client
}

// NewClientCredentials returns an authenticator that gets access tokens
// with the client credentials grant and gets a new one shortly before the
// current one expires. The token endpoint is contacted on first use.
func NewClientCredentials(cfg ClientCredentials) Authenticator {
	cc := clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     cfg.TokenURL,
		Scopes:       cfg.Scopes,
	}
	return &oauthAuthenticator{source: func(ctx context.Context) oauth2.TokenSource {
		return cc.TokenSource(withHTTPClient(ctx, cfg.HTTPClient))
	}}
}

// oauthAuthenticator builds its token source lazily with the context of
// the first request, because the oauth2 package keeps that context for
// every later refresh. The source is built from a context that is never
// cancelled, so that one cancelled request does not break later refreshes.
type oauthAuthenticator struct {
	source func(ctx context.Context) oauth2.TokenSource
	once   syncOnceValue[oauth2.TokenSource]
}

func (a *oauthAuthenticator) Authorize(ctx context.Context, req *http.Request) error {
	source := a.once.get(func() oauth2.TokenSource {
		return oauth2.ReuseTokenSource(nil, a.source(context.WithoutCancel(ctx)))
	})
	return TokenSource{Source: source}.Authorize(ctx, req)
}

func withHTTPClient(ctx context.Context, httpClient *http.Client) context.Context {
	if httpClient == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, httpClient)
}
