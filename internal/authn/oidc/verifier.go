// Package oidc validates JWT access tokens of an OpenID Connect provider
// (Keycloak first of all) as an OAuth 2.0 resource server: it checks a
// token locally against the provider's published keys and turns it into a
// Principal with roles and groups.
package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Access-token rules of Config.AccessTokenRule.
const (
	// RuleKeycloak accepts tokens whose payload typ is "Bearer", which
	// rejects Keycloak's ID ("ID") and refresh ("Refresh") tokens.
	RuleKeycloak = "keycloak"
	// RuleATJWT accepts tokens whose header typ is "at+jwt" or
	// "application/at+jwt", as RFC 9068 defines for JWT access tokens.
	RuleATJWT = "at+jwt"
	// RuleClaim accepts tokens whose claim AccessTokenClaim equals
	// AccessTokenClaimValue.
	RuleClaim = "claim"
)

// MaxTokenBytes is the size limit of a token. Keycloak tokens with many
// roles and groups reach several KiB; 64 KiB leaves room and still stops
// oversized input before any decoding.
const MaxTokenBytes = 64 << 10

// MaxClockSkew bounds Config.ClockSkew: a larger tolerance would keep
// expired tokens alive for long.
const MaxClockSkew = 5 * time.Minute

// Config configures a Verifier.
type Config struct {
	// Issuer is the exact iss of accepted tokens, such as
	// https://sso.example.com/realms/coffer. Required.
	Issuer string
	// Audience must be one of the token's aud values. Required.
	Audience string
	// DiscoveryURL overrides where the discovery document is read
	// (default Issuer + "/.well-known/openid-configuration"), for a
	// provider reached through an internal address.
	DiscoveryURL string
	// JWKSURL skips discovery and reads the keys from this URL.
	JWKSURL string
	// Algorithms are the accepted header alg values. Default RS256.
	Algorithms []string
	// ClockSkew is the tolerance of exp, nbf and iat checks, at most
	// MaxClockSkew.
	ClockSkew time.Duration
	// JWKSCooldown is the shortest time between two JWKS fetches.
	// Default 30s.
	JWKSCooldown time.Duration
	// JWKSMaxAge is how long fetched keys are used before they are
	// fetched again. Default 1h.
	JWKSMaxAge time.Duration
	// AllowedAuthorizedParties, when set, lists the azp values accepted.
	AllowedAuthorizedParties []string
	// AccessTokenRule is RuleKeycloak (default), RuleATJWT or RuleClaim.
	AccessTokenRule       string
	AccessTokenClaim      string
	AccessTokenClaimValue string
	// UsernameClaim names the display name claim. Default
	// preferred_username.
	UsernameClaim string
	// GroupsClaim names the group list claim. Default groups.
	GroupsClaim string
	// RolesClient names the client whose roles
	// resource_access.<client>.roles holds. Default Audience.
	RolesClient string
	// HTTPClient fetches discovery and the JWKS. Default: a client with a
	// 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// asymmetric lists the algorithms a public JWKS can verify.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Verifier validates access tokens of one issuer. It is safe for
// concurrent use.
type Verifier struct {
	cfg  Config
	algs []jose.SignatureAlgorithm
	keys *keySet
}

// New checks cfg, fills its defaults and returns a Verifier. It does no
// I/O: discovery and the JWKS are fetched on first use.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg}
	for _, a := range cfg.Algorithms {
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	discovery := cfg.DiscoveryURL
	if discovery == "" {
		discovery = cfg.Issuer + "/.well-known/openid-configuration"
	}
	v.keys = &keySet{
		client:       cfg.HTTPClient,
		issuer:       cfg.Issuer,
		discoveryURL: discovery,
		jwksURL:      cfg.JWKSURL,
		cooldown:     cfg.JWKSCooldown,
		maxAge:       cfg.JWKSMaxAge,
		now:          cfg.Now,
	}
	return v, nil
}

func (c *Config) fill() error {
	if c.Issuer == "" {
		return fmt.Errorf("oidc issuer: %w: must be set", errInvalidConfig)
	}
	if c.Audience == "" {
		return fmt.Errorf("oidc audience: %w: must be set", errInvalidConfig)
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{"RS256"}
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return fmt.Errorf("oidc algorithm %q: %w: expected asymmetric algorithms from %v", a, errInvalidConfig, asymmetric)
		}
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		return fmt.Errorf("oidc clock skew %s: %w: expected 0 to %s", c.ClockSkew, errInvalidConfig, MaxClockSkew)
	}
	setDuration := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDuration(&c.JWKSCooldown, 30*time.Second)
	setDuration(&c.JWKSMaxAge, time.Hour)
	setString := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	setString(&c.AccessTokenRule, RuleKeycloak)
	setString(&c.UsernameClaim, "preferred_username")
	setString(&c.GroupsClaim, "groups")
	setString(&c.RolesClient, c.Audience)
	switch c.AccessTokenRule {
	case RuleKeycloak, RuleATJWT:
	case RuleClaim:
		if c.AccessTokenClaim == "" || c.AccessTokenClaimValue == "" {
			return fmt.Errorf("oidc access token rule %q: %w: needs a claim name and value", RuleClaim, errInvalidConfig)
		}
	default:
		return fmt.Errorf("oidc access token rule %q: %w: expected keycloak, at+jwt or claim", c.AccessTokenRule, errInvalidConfig)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: fetchTimeout}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// header is the part of the JOSE header the checks read.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Crit []string `json:"crit"`
}

// Ready returns nil when the verifier holds the provider's signing keys.
// It fetches them when it has none, at most once per JWKS cooldown, and
// otherwise returns an error wrapping ErrKeysUnavailable. /readyz calls it.
func (v *Verifier) Ready(ctx context.Context) error {
	return v.keys.ready(ctx)
}

// Verify validates a JWT access token and returns its principal. The
// checks run in this order and stop at the first failure: size and shape,
// header alg in the allowed list, key by kid, signature, exact issuer,
// audience, access-token type, exp present and not passed, nbf and iat
// not in the future (each within ClockSkew), azp allow-list, sub present.
// Every error wraps one of the Err* values of this package.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	hdr, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.cfg.Algorithms, hdr.Alg) {
		return nil, fmt.Errorf("token alg %q, accepted %v: %w", hdr.Alg, v.cfg.Algorithms, ErrAlgorithm)
	}
	key, err := v.keys.key(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	payload, err := v.verifySignature(token, hdr, key)
	if err != nil {
		return nil, err
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(hdr, claims); err != nil {
		return nil, err
	}
	return v.principal(claims), nil
}

// parseHeader checks the size and the three-part shape of a compact JWS
// and decodes its header.
func parseHeader(token string) (header, error) {
	var h header
	if len(token) > MaxTokenBytes {
		return h, fmt.Errorf("token of %d bytes exceeds %d: %w", len(token), MaxTokenBytes, ErrMalformed)
	}
	if strings.Count(token, ".") != 2 {
		return h, fmt.Errorf("token is not a compact JWS of three parts: %w", ErrMalformed)
	}
	encoded, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return h, fmt.Errorf("token header is not base64url: %w", ErrMalformed)
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return h, fmt.Errorf("token header is not a JSON object: %w", ErrMalformed)
	}
	if len(h.Crit) > 0 {
		return h, fmt.Errorf("token header has critical extensions %q: %w", h.Crit, ErrMalformed)
	}
	return h, nil
}

func (v *Verifier) verifySignature(token string, hdr header, key jose.JSONWebKey) ([]byte, error) {
	if key.Algorithm != "" && key.Algorithm != hdr.Alg {
		return nil, fmt.Errorf("key %q is for %s, token uses %s: %w", hdr.Kid, key.Algorithm, hdr.Alg, ErrSignature)
	}
	jws, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		return nil, fmt.Errorf("parse token: %v: %w", err, ErrMalformed)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, fmt.Errorf("token signed with key %q: %w", hdr.Kid, ErrSignature)
	}
	return payload, nil
}

// claims are the registered and Keycloak claims the checks read; all
// holds every claim.
type claims struct {
	Iss   string       `json:"iss"`
	Sub   string       `json:"sub"`
	Aud   audience     `json:"aud"`
	Exp   *numericDate `json:"exp"`
	Nbf   *numericDate `json:"nbf"`
	Iat   *numericDate `json:"iat"`
	Typ   string       `json:"typ"`
	Azp   string       `json:"azp"`
	Jti   string       `json:"jti"`
	Scope string       `json:"scope"`
	all   map[string]any
}

func decodeClaims(payload []byte) (*claims, error) {
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("token claims: %v: %w", err, ErrMalformed)
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&c.all); err != nil || c.all == nil {
		return nil, fmt.Errorf("token claims are not a JSON object: %w", ErrMalformed)
	}
	return &c, nil
}

// audience is an aud claim: a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly
// fractional.
type numericDate struct{ time.Time }

func (d *numericDate) UnmarshalJSON(data []byte) error {
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return errors.New("a date claim is not a number")
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return errors.New("a date claim is out of range")
	}
	d.Time = time.Unix(0, 0).Add(time.Duration(f * float64(time.Second)))
	return nil
}

func (v *Verifier) checkClaims(hdr header, c *claims) error {
	if c.Iss != v.cfg.Issuer {
		return fmt.Errorf("token iss %q, expected %q: %w", c.Iss, v.cfg.Issuer, ErrIssuer)
	}
	if !slices.Contains(c.Aud, v.cfg.Audience) {
		return fmt.Errorf("token aud %q does not contain %q: %w", []string(c.Aud), v.cfg.Audience, ErrAudience)
	}
	if err := v.checkAccessToken(hdr, c); err != nil {
		return err
	}
	if err := v.checkTimes(c); err != nil {
		return err
	}
	if len(v.cfg.AllowedAuthorizedParties) > 0 && !slices.Contains(v.cfg.AllowedAuthorizedParties, c.Azp) {
		return fmt.Errorf("token azp %q: %w", c.Azp, ErrAuthorizedParty)
	}
	if c.Sub == "" {
		return fmt.Errorf("token has no sub (Keycloak adds it with the basic client scope): %w", ErrMissingSubject)
	}
	return nil
}

func (v *Verifier) checkAccessToken(hdr header, c *claims) error {
	switch v.cfg.AccessTokenRule {
	case RuleATJWT:
		typ := strings.ToLower(hdr.Typ)
		if typ != "at+jwt" && typ != "application/at+jwt" {
			return fmt.Errorf("token header typ %q, expected at+jwt: %w", hdr.Typ, ErrNotAccessToken)
		}
	case RuleClaim:
		got, _ := c.all[v.cfg.AccessTokenClaim].(string)
		if got != v.cfg.AccessTokenClaimValue {
			return fmt.Errorf("token claim %s is %q, expected %q: %w", v.cfg.AccessTokenClaim, got, v.cfg.AccessTokenClaimValue, ErrNotAccessToken)
		}
	default:
		if c.Typ != "Bearer" {
			return fmt.Errorf("token typ %q, expected Bearer: %w", c.Typ, ErrNotAccessToken)
		}
	}
	return nil
}

func (v *Verifier) checkTimes(c *claims) error {
	now := v.cfg.Now()
	skew := v.cfg.ClockSkew
	if c.Exp == nil {
		return fmt.Errorf("token has no exp: %w", ErrMissingExpiry)
	}
	if now.After(c.Exp.Add(skew)) {
		return fmt.Errorf("token expired at %s: %w", c.Exp.UTC().Format(time.RFC3339), ErrExpired)
	}
	if c.Nbf != nil && c.Nbf.After(now.Add(skew)) {
		return fmt.Errorf("token nbf %s is in the future: %w", c.Nbf.UTC().Format(time.RFC3339), ErrNotYetValid)
	}
	if c.Iat != nil && c.Iat.After(now.Add(skew)) {
		return fmt.Errorf("token iat %s is in the future: %w", c.Iat.UTC().Format(time.RFC3339), ErrIssuedInFuture)
	}
	return nil
}
