package keycloak

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signing selects how Mint signs a token.
type Signing int

const (
	// SignRealmKey signs with the realm's active key, as Keycloak does.
	SignRealmKey Signing = iota
	// SignNone emits an unsecured JWT: alg "none" and no signature.
	SignNone
	// SignHS256PublicKey signs with HMAC-SHA256 keyed with the PEM of the
	// realm's public key, the algorithm-confusion attack.
	SignHS256PublicKey
	// SignUnpublishedKey signs with a fresh key of the realm's algorithm
	// that the JWKS does not contain; the kid stays the active key's
	// unless MintOptions.KeyID is set.
	SignUnpublishedKey
)

// MintOptions describes a token minted directly, without a grant, for
// negative tests.
type MintOptions struct {
	// Client is the azp; it must exist.
	Client string
	// Username is the subject; empty means the client's service account.
	Username string
	// Kind is AccessToken (default), IDToken or RefreshToken.
	Kind string
	// Scope is the requested scope parameter.
	Scope string
	// Set adds or replaces payload claims; Remove deletes them.
	Set    map[string]any
	Remove []string
	// Header adds or replaces protected header parameters (typ, kid, ...).
	Header map[string]any
	// Signing chooses the key; KeyID overrides the header kid.
	Signing Signing
	KeyID   string
	// ClockOffset shifts iat, exp and nbf relative to the server clock.
	ClockOffset time.Duration
}

// Mint issues a token with the claim layout of a real grant, then applies
// the options' overrides. User tokens get a new active session.
func (s *Server) Mint(realmName string, opts MintOptions) (string, error) {
	s.mu.Lock()
	now := s.nowLocked().Add(opts.ClockOffset)
	r, err := s.realmLocked(realmName)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	g, err := s.mintGrantLocked(r, realmName, opts)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}

	var claims map[string]any
	switch opts.Kind {
	case "", AccessToken:
		claims = g.accessClaims(now)
	case IDToken:
		claims = g.idClaims(now, "")
	case RefreshToken:
		claims = g.refreshClaims(now)
	default:
		return "", fmt.Errorf("invalid token kind %q: expected Bearer, ID or Refresh", opts.Kind)
	}
	for k, v := range opts.Set {
		claims[k] = v
	}
	for _, k := range opts.Remove {
		delete(claims, k)
	}
	return s.signWith(r, claims, opts)
}

func (s *Server) mintGrantLocked(r *realm, realmName string, opts MintOptions) (*grant, error) {
	c := r.clients[opts.Client]
	if c == nil {
		return nil, fmt.Errorf("realm %s: client %q: %w", realmName, opts.Client, errNotFound)
	}
	username := opts.Username
	if username == "" {
		username = "service-account-" + c.ClientID
	}
	u := r.users[username]
	if u == nil {
		return nil, fmt.Errorf("realm %s: user %q: %w", realmName, username, errNotFound)
	}
	g := &grant{realm: r, issuer: s.issuerLocked(realmName), client: c, user: u, scopes: grantScopes(c, opts.Scope), clientAddress: "127.0.0.1"}
	if u.serviceAccountOf == "" {
		g.session = r.newSession(u, c)
	}
	return g, nil
}

// newSession starts a user session.
func (r *realm) newSession(u *user, c *ClientConfig) *session {
	sess := &session{id: newUUID(), userID: u.ID, clientID: c.ClientID, active: true}
	r.sessions[sess.id] = sess
	return sess
}

// signWith signs claims with the key that opts.Signing selects.
func (s *Server) signWith(r *realm, claims map[string]any, opts MintOptions) (string, error) {
	s.mu.Lock()
	alg := jose.SignatureAlgorithm(r.cfg.SignatureAlgorithm)
	active := r.activeKey(alg)
	hmac := r.hmac
	atJWT := false
	if c := r.clients[opts.Client]; c != nil {
		atJWT = c.AtJWTType
	}
	s.mu.Unlock()
	if active == nil {
		return "", fmt.Errorf("realm %s: no active %s key", r.cfg.Name, alg)
	}
	kid := active.kid
	if opts.KeyID != "" {
		kid = opts.KeyID
	}
	typ := "JWT"
	if atJWT && (opts.Kind == "" || opts.Kind == AccessToken) {
		typ = "at+jwt"
	}
	header := map[string]any{"typ": typ, "kid": kid}
	for k, v := range opts.Header {
		header[k] = v
	}

	switch opts.Signing {
	case SignNone:
		header["alg"] = "none"
		return unsecured(header, claims)
	case SignHS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(active.key.Public())
		if err != nil {
			return "", err
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return sign(jose.HS256, secret, header, claims)
	case SignUnpublishedKey:
		if alg == jose.ES256 {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return "", err
			}
			return sign(alg, key, header, claims)
		}
		key, err := generateKey(r.cfg.Name, alg)
		if err != nil {
			return "", err
		}
		return sign(alg, key.key, header, claims)
	}
	if opts.Kind == RefreshToken {
		header["kid"] = hmac.kid
		if opts.KeyID != "" {
			header["kid"] = opts.KeyID
		}
		return sign(jose.HS512, hmac.secret, header, claims)
	}
	return sign(alg, active.key, header, claims)
}

// sign serialises a compact JWS with the header parameters given.
func sign(alg jose.SignatureAlgorithm, key any, header, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	opts := &jose.SignerOptions{}
	for k, v := range header {
		if k != "alg" {
			opts.WithHeader(jose.HeaderKey(k), v)
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("create %s signer: %w", alg, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return jws.CompactSerialize()
}

// unsecured serialises an alg "none" JWT, which go-jose refuses to make.
func unsecured(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + ".", nil
}

// issue signs the tokens of a grant with the realm's keys.
func (s *Server) issue(g *grant, claims map[string]any, kind string) (string, error) {
	opts := MintOptions{Client: g.client.ClientID, Kind: kind}
	return s.signWith(g.realm, claims, opts)
}

var errInvalidToken = errors.New("invalid token")

// parseOwnToken verifies a token this realm issued (access, ID or
// refresh) and returns its claims. It checks the signature, issuer and
// expiry but not the session.
func (s *Server) parseOwnToken(r *realm, issuer, token string) (map[string]any, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.HS512})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("parse token: %w", errInvalidToken)
	}
	kid := jws.Signatures[0].Header.KeyID
	alg := jws.Signatures[0].Header.Algorithm
	s.mu.Lock()
	var key any
	if k := r.keyByID(kid); k != nil && string(k.alg) == alg {
		key = k.key.Public()
	} else if kid == r.hmac.kid && alg == string(jose.HS512) {
		key = r.hmac.secret
	}
	s.mu.Unlock()
	if key == nil {
		return nil, fmt.Errorf("token key %q: %w", kid, errInvalidToken)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("token signature: %w", errInvalidToken)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("token payload: %w", errInvalidToken)
	}
	if claims["iss"] != issuer {
		return nil, fmt.Errorf("token issuer: %w", errInvalidToken)
	}
	if exp, ok := claims["exp"].(float64); ok && float64(s.now().Unix()) > exp {
		return nil, fmt.Errorf("token expired: %w", errInvalidToken)
	}
	if _, ok := claims["exp"]; !ok && claims["typ"] != OfflineToken {
		return nil, fmt.Errorf("token has no exp: %w", errInvalidToken)
	}
	return claims, nil
}
