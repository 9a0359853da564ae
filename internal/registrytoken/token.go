package registrytoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
)

// Issuer is the iss claim of every registry token.
const Issuer = "coffer"

// Method is the authentication method that requests with a registry token
// report in audit events.
const Method = "registry-token"

// Defaults of a Service.
const (
	DefaultLifetime = 5 * time.Minute
	// DefaultLeeway is the clock difference between replicas that the nbf,
	// iat and exp checks tolerate.
	DefaultLeeway = time.Minute
	// MaxTokenBytes bounds the tokens Resolve parses. Tokens that carry a
	// large role or claim set stay far below it.
	MaxTokenBytes = 64 << 10
)

// ErrNotRegistryToken reports a bearer token that Coffer did not issue, such
// as an OpenID Connect access token. The caller passes it on.
var ErrNotRegistryToken = errors.New("not a registry token")

// Access is one entry of a token's access claim, in the layout of the Docker
// registry token specification.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Claims is the payload of a registry token. Besides the standard claims it
// carries what /v2/ needs to decide requests live: the principal's roles,
// groups and identity-provider claims, and the credential that obtained the
// token, for audit events.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  string   `json:"aud"`
	Expiry    int64    `json:"exp"`
	NotBefore int64    `json:"nbf"`
	IssuedAt  int64    `json:"iat"`
	ID        string   `json:"jti"`
	Access    []Access `json:"access"`

	Method       string         `json:"coffer_method,omitempty"`
	CredentialID string         `json:"coffer_credential,omitempty"`
	Roles        []string       `json:"coffer_roles,omitempty"`
	Groups       []string       `json:"coffer_groups,omitempty"`
	Claims       map[string]any `json:"coffer_claims,omitempty"`
}

type header struct {
	Algorithm string `json:"alg"`
	Type      string `json:"typ"`
	KeyID     string `json:"kid"`
}

// Token is an issued registry token.
type Token struct {
	Value     string
	IssuedAt  time.Time
	ExpiresIn time.Duration
}

// Service issues registry tokens for one service name (the aud claim).
type Service struct {
	keys     *Keys
	audience string
	lifetime time.Duration
	leeway   time.Duration
	now      func() time.Time
}

// NewService returns a Service that signs with keys, for the service name
// audience. The token lifetime is DefaultLifetime.
func NewService(keys *Keys, audience string) *Service {
	return &Service{keys: keys, audience: audience, lifetime: DefaultLifetime, leeway: DefaultLeeway, now: time.Now}
}

// Audience returns the service name that tokens are issued for.
func (s *Service) Audience() string { return s.audience }

// Issue signs a token that grants access to the principal of id.
func (s *Service) Issue(id identity.Identity, access []authz.Scope) (Token, error) {
	now := s.now().UTC()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return Token{}, fmt.Errorf("generate registry token id: %w", err)
	}
	claims := Claims{
		Issuer:       Issuer,
		Subject:      id.Principal.ID,
		Audience:     s.audience,
		Expiry:       now.Add(s.lifetime).Unix(),
		NotBefore:    now.Unix(),
		IssuedAt:     now.Unix(),
		ID:           hex.EncodeToString(jti),
		Access:       make([]Access, 0, len(access)),
		Method:       id.Principal.Method,
		CredentialID: id.CredentialID,
		Roles:        id.Principal.Roles,
		Groups:       id.Principal.Groups,
		Claims:       id.Principal.Claims,
	}
	for _, scope := range access {
		claims.Access = append(claims.Access, Access{Type: scope.Type, Name: scope.Name, Actions: scope.Actions})
	}
	kid, key := s.keys.signingKey(now)
	value, err := sign(header{Algorithm: "HS256", Type: "JWT", KeyID: kid}, claims, key)
	if err != nil {
		return Token{}, err
	}
	return Token{Value: value, IssuedAt: now, ExpiresIn: s.lifetime}, nil
}

func sign(h header, claims Claims, key []byte) (string, error) {
	headerJSON, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode registry token header: %w", err)
	}
	payloadJSON, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode registry token claims: %w", err)
	}
	signingInput := base64.RawURLEncoding.EncodeToString(headerJSON) + "." + base64.RawURLEncoding.EncodeToString(payloadJSON)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac(key, signingInput)), nil
}

func mac(key []byte, signingInput string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// Resolve verifies a registry token and returns its identity: the
// principal it was issued to, restricted to its access claim. It
// returns ErrNotRegistryToken for a token whose kid Coffer never issues,
// and an error wrapping authn.ErrInvalidCredentials for a registry token
// that is forged, expired, not yet valid or issued for another service.
//
// NOTE: Resolve does not look the credential up again, so the tokens that a
// since-revoked personal access token or robot obtained stay valid until
// they expire, at most DefaultLifetime later.
func (s *Service) Resolve(token string) (identity.Identity, error) {
	claims, err := s.verify(token)
	if err != nil {
		return identity.Identity{}, err
	}
	restriction := authz.Policy{Statements: accessStatements(claims.Access)}
	return identity.Identity{
		Principal: authz.Principal{
			ID:     claims.Subject,
			Method: Method,
			Roles:  claims.Roles,
			Groups: claims.Groups,
			Claims: claims.Claims,
		},
		CredentialID: claims.CredentialID,
		Restriction:  &restriction,
	}, nil
}

// verify checks the token's form, key id, signature and claims, in that
// order.
func (s *Service) verify(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > MaxTokenBytes {
		return Claims{}, ErrNotRegistryToken
	}
	var h header
	if err := decodeSegment(parts[0], &h); err != nil || !strings.HasPrefix(h.KeyID, keyIDPrefix) {
		return Claims{}, ErrNotRegistryToken
	}
	if h.Algorithm != "HS256" {
		return Claims{}, invalid("algorithm %q is not HS256", h.Algorithm)
	}
	now := s.now()
	key, ok := s.keys.verificationKey(h.KeyID, now)
	if !ok {
		return Claims{}, invalid("key id %q is unknown or outside the rotation window", h.KeyID)
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(signature, mac(key, parts[0]+"."+parts[1])) {
		return Claims{}, invalid("the signature does not match")
	}

	var claims Claims
	if err := decodeSegment(parts[1], &claims); err != nil {
		return Claims{}, invalid("malformed claims: %v", err)
	}
	unix := now.Unix()
	leeway := int64(s.leeway / time.Second)
	switch {
	case claims.Issuer != Issuer:
		return Claims{}, invalid("issuer %q is not %q", claims.Issuer, Issuer)
	case claims.Audience != s.audience:
		return Claims{}, invalid("audience %q is not the service %q", claims.Audience, s.audience)
	case claims.Expiry == 0 || unix > claims.Expiry+leeway:
		return Claims{}, invalid("the token expired")
	case claims.NotBefore > unix+leeway || claims.IssuedAt > unix+leeway:
		return Claims{}, invalid("the token is not valid yet")
	}
	return claims, nil
}

func decodeSegment(segment string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("registry token: %s: %w", fmt.Sprintf(format, args...), authn.ErrInvalidCredentials)
}
