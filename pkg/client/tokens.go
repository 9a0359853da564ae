package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Scope narrows a personal access token: the token may do at most these
// actions on these resources. docs/policies.md lists the action and
// resource patterns.
type Scope struct {
	// Actions are action patterns such as "oci:pull" or "s3:Get*".
	Actions []string `json:"actions"`
	// Resources are resource patterns such as "repo:team-a/**" or
	// "arn:aws:s3:::releases/*".
	Resources []string `json:"resources"`
}

// Token is a personal access token. It acts as the principal that created
// it, with that principal's roles and groups at creation time, narrowed by
// its scopes.
type Token struct {
	// ID identifies the token in list, get and revoke calls.
	ID string `json:"id"`
	// Name describes what the token is for.
	Name string `json:"name"`
	// Owner and CreatedBy are principal IDs.
	Owner     string    `json:"owner"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	// Expires, LastUsed and Revoked are zero when the token does not
	// expire, was never used or is not revoked.
	Expires  time.Time `json:"expires,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
	// Scopes are empty for a token that may do all its owner may do.
	Scopes []Scope `json:"scopes,omitempty"`
	// Secret is the token itself. Send it as the password of HTTP Basic,
	// because the server does not accept it as a bearer token. The server
	// returns it only in the response of [Client.CreateToken].
	Secret string `json:"secret,omitempty"`
}

// CreateTokenOptions describes a new personal access token.
type CreateTokenOptions struct {
	// Name describes the token's use, 1 to 200 characters. Required.
	Name string
	// ExpiresIn is the token's lifetime. Zero creates a token that does not
	// expire.
	ExpiresIn time.Duration
	// Scopes narrow the token. Nil lets it do all its owner may do.
	Scopes []Scope
}

// CreateToken creates a personal access token for the caller. The returned
// Token carries the secret, which the server does not show again.
func (c *Client) CreateToken(ctx context.Context, opts CreateTokenOptions) (Token, error) {
	body := struct {
		Name      string  `json:"name"`
		ExpiresIn string  `json:"expires_in,omitempty"`
		Scopes    []Scope `json:"scopes,omitempty"`
	}{Name: opts.Name, Scopes: opts.Scopes}
	if opts.ExpiresIn > 0 {
		body.ExpiresIn = opts.ExpiresIn.String()
	}
	var t Token
	err := c.callJSON(ctx, http.MethodPost, "/api/v1/tokens", nil, body, &t)
	return t, err
}

// TokensOptions selects the tokens that [Client.Tokens] lists.
type TokensOptions struct {
	// Owner is the principal ID whose tokens are listed. Empty lists the
	// caller's own tokens; another owner needs the coffer:tokens.list
	// permission on that owner's tokens.
	Owner string
}

// Tokens lists personal access tokens, revoked and expired ones included,
// without their secrets.
func (c *Client) Tokens(ctx context.Context, opts TokensOptions) ([]Token, error) {
	query := url.Values{}
	if opts.Owner != "" {
		query.Set("owner", opts.Owner)
	}
	var p page[Token]
	if err := c.callJSON(ctx, http.MethodGet, "/api/v1/tokens", query, nil, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}

// Token reads one personal access token, without its secret.
func (c *Client) Token(ctx context.Context, id string) (Token, error) {
	var t Token
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/tokens/"+url.PathEscape(id), nil, nil, &t)
	return t, err
}

// RevokeToken revokes a personal access token, so the next request that
// sends it fails with 401. An unknown ID gives [ErrNotFound].
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.callJSON(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}
