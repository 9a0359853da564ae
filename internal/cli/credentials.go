package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cofferhq/coffer/pkg/client"
)

// Login methods.
const (
	methodBasic             = "basic"
	methodToken             = "token"
	methodClientCredentials = "client-credentials"
	methodDevice            = "device"
)

// credential is the stored login of one server.
type credential struct {
	Method string `json:"method"`
	// Username and Password are the HTTP Basic credentials (method basic).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Token is a static bearer token or personal access token (method token).
	Token string `json:"token,omitempty"`
	// Issuer, ClientID and ClientSecret identify the OpenID Connect client
	// (methods client-credentials and device).
	Issuer       string `json:"issuer,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// OAuth is the device login's current token with its refresh token.
	OAuth *oauthToken `json:"oauth,omitempty"`
}

type oauthToken struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry"`
}

// credentialStore keeps the stored login of each server: the OS keyring
// (keyringStore) or the credentials file (fileStore).
type credentialStore interface {
	// get returns the credential of server and whether one is stored.
	get(server string) (credential, bool, error)
	// put stores the credential of server; nil removes it.
	put(server string, c *credential) error
}

// fileStore is the credentials file: a JSON object from server URL to
// credential, readable only by its owner.
type fileStore struct {
	path string
}

var errNotLoggedIn = errors.New("not logged in")

func (s fileStore) load() (map[string]credential, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]credential{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	all := map[string]credential{}
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", s.path, err)
	}
	return all, nil
}

// get returns the credential of server.
func (s fileStore) get(server string) (credential, bool, error) {
	all, err := s.load()
	if err != nil {
		return credential{}, false, err
	}
	c, ok := all[normalizeServer(server)]
	return c, ok, nil
}

// put stores the credential of server, replacing the file atomically.
func (s fileStore) put(server string, c *credential) error {
	all, err := s.load()
	if err != nil {
		return err
	}
	if c == nil {
		delete(all, normalizeServer(server))
	} else {
		all[normalizeServer(server)] = *c
	}
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("store credentials: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("store credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(data)
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		return fmt.Errorf("store credentials in %s: %w", s.path, err)
	}
	return nil
}

func normalizeServer(server string) string { return strings.TrimRight(server, "/") }

// authenticator turns a stored credential into a client authenticator. A
// device login's refreshed token is written back to s.
func authenticator(ctx context.Context, s credentialStore, server string, c credential) (client.Authenticator, error) {
	switch c.Method {
	case methodBasic:
		return client.Basic{Username: c.Username, Password: c.Password}, nil
	case methodToken:
		return client.TokenAuth(c.Token), nil
	case methodClientCredentials:
		provider, err := client.Discover(ctx, nil, c.Issuer)
		if err != nil {
			return nil, err
		}
		return client.NewClientCredentials(client.ClientCredentials{
			TokenURL: provider.TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		}), nil
	case methodDevice:
		if c.OAuth == nil {
			return nil, fmt.Errorf("%w: the stored device login has no token; run coffer login --device again", errNotLoggedIn)
		}
		login := client.DeviceLogin{
			Provider: client.Provider{TokenEndpoint: c.Issuer + "/protocol/openid-connect/token"},
			ClientID: c.ClientID,
		}
		if provider, err := client.Discover(ctx, nil, c.Issuer); err == nil {
			login.Provider = provider
		} else if c.OAuth.Expiry.Before(time.Now()) {
			return nil, err
		}
		token := c.OAuth.token()
		return login.RefreshingToken(token, func(t *oauth2.Token) {
			c.OAuth = fromOAuth(t)
			// NOTE: a failed write only costs a refresh on the next run.
			_ = s.put(server, &c)
		}), nil
	}
	return nil, fmt.Errorf("stored credentials: unknown login method %q for %s; run coffer login again", c.Method, server)
}

func (t *oauthToken) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Expiry: t.Expiry}
}

func fromOAuth(t *oauth2.Token) *oauthToken {
	return &oauthToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Expiry: t.Expiry}
}
