package keycloak

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeyState is the state of a realm key, as in Keycloak's key providers.
type KeyState int

const (
	// KeyActive keys sign new tokens and are published.
	KeyActive KeyState = iota
	// KeyPassive keys no longer sign but stay published, so tokens they
	// signed still verify.
	KeyPassive
	// KeyDisabled keys are neither used nor published.
	KeyDisabled
)

// realmKey is one asymmetric key of a realm.
type realmKey struct {
	kid   string
	alg   jose.SignatureAlgorithm // or RSA-OAEP for the encryption key
	use   string                  // "sig" or "enc"
	key   crypto.Signer
	cert  *x509.Certificate
	state KeyState
}

// jwk returns the public JWK as Keycloak publishes it, with x5c and the
// x5t thumbprints.
func (k *realmKey) jwk() jose.JSONWebKey {
	sha1sum := sha1.Sum(k.cert.Raw) //nolint:gosec // thumbprint, not a signature
	sha256sum := sha256.Sum256(k.cert.Raw)
	return jose.JSONWebKey{
		Key:                         k.key.Public(),
		KeyID:                       k.kid,
		Algorithm:                   string(k.alg),
		Use:                         k.use,
		Certificates:                []*x509.Certificate{k.cert},
		CertificateThumbprintSHA1:   sha1sum[:],
		CertificateThumbprintSHA256: sha256sum[:],
	}
}

// newKeyID returns a random 43-character base64url key id, the length of
// Keycloak's kids.
func newKeyID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// generateKey creates a key for alg (RS256, PS256, ES256 or RSA-OAEP)
// with a self-signed certificate whose subject is the realm name.
func generateKey(realm string, alg jose.SignatureAlgorithm) (*realmKey, error) {
	var signer crypto.Signer
	var err error
	use := "sig"
	switch alg {
	case jose.RS256, jose.PS256:
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RSA-OAEP":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
		use = "enc"
	default:
		return nil, fmt.Errorf("unsupported key algorithm %q: expected RS256, PS256 or ES256", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	cert, err := selfSigned(realm, signer)
	if err != nil {
		return nil, err
	}
	return &realmKey{kid: newKeyID(), alg: alg, use: use, key: signer, cert: cert}, nil
}

func selfSigned(realm string, key crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: realm},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create certificate for realm %s: %w", realm, err)
	}
	return x509.ParseCertificate(der)
}

// hmacKey is the realm's HS512 secret for refresh tokens; it is never
// published.
type hmacKey struct {
	kid    string
	secret []byte
}

func newHMACKey() hmacKey {
	secret := make([]byte, 64)
	_, _ = rand.Read(secret)
	return hmacKey{kid: newUUID(), secret: secret}
}

// activeKey returns the newest active signing key for alg, or nil.
func (r *realm) activeKey(alg jose.SignatureAlgorithm) *realmKey {
	for i := len(r.keys) - 1; i >= 0; i-- {
		k := r.keys[i]
		if k.use == "sig" && k.alg == alg && k.state == KeyActive {
			return k
		}
	}
	return nil
}

// keyByID returns a published or passive key by kid, or nil.
func (r *realm) keyByID(kid string) *realmKey {
	for _, k := range r.keys {
		if k.kid == kid && k.state != KeyDisabled {
			return k
		}
	}
	return nil
}

// jwks returns the published key set: every signing key that is not
// disabled and the encryption key.
func (r *realm) jwks() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range r.keys {
		if k.state != KeyDisabled {
			set.Keys = append(set.Keys, k.jwk())
		}
	}
	return set
}

// RotateKey adds a new active signing key for alg to a realm and makes the
// previous active keys of that algorithm passive: they stay published.
// It returns the new kid.
func (s *Server) RotateKey(realmName, alg string) (string, error) {
	key, err := generateKey(realmName, jose.SignatureAlgorithm(alg))
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.realmLocked(realmName)
	if err != nil {
		return "", err
	}
	for _, k := range r.keys {
		if k.use == "sig" && k.alg == key.alg && k.state == KeyActive {
			k.state = KeyPassive
		}
	}
	r.keys = append(r.keys, key)
	return key.kid, nil
}

// SetKeyState changes the state of a realm key; KeyDisabled removes it
// from the JWKS.
func (s *Server) SetKeyState(realmName, kid string, state KeyState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.realmLocked(realmName)
	if err != nil {
		return err
	}
	for _, k := range r.keys {
		if k.kid == kid {
			k.state = state
			return nil
		}
	}
	return fmt.Errorf("realm %s: key %q not found", realmName, kid)
}

// SetSignatureAlgorithm changes the realm's default signature algorithm
// (RS256, PS256 or ES256), generating an active key for it when the realm
// has none.
func (s *Server) SetSignatureAlgorithm(realmName, alg string) error {
	s.mu.Lock()
	r, err := s.realmLocked(realmName)
	has := err == nil && r.activeKey(jose.SignatureAlgorithm(alg)) != nil
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if !has {
		if _, err := s.RotateKey(realmName, alg); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.cfg.SignatureAlgorithm = alg
	return nil
}

// ActiveKeyID returns the kid of the key that signs the realm's access
// tokens now.
func (s *Server) ActiveKeyID(realmName string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.realmLocked(realmName)
	if err != nil {
		return "", err
	}
	k := r.activeKey(jose.SignatureAlgorithm(r.cfg.SignatureAlgorithm))
	if k == nil {
		return "", fmt.Errorf("realm %s: no active %s key", realmName, r.cfg.SignatureAlgorithm)
	}
	return k.kid, nil
}
