package identity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
)

// Errors of session tokens.
var (
	// ErrInvalidSessionToken reports a session token that Coffer did not
	// issue for the access key it came with.
	ErrInvalidSessionToken = errors.New("invalid session token")
	// ErrExpiredSessionToken reports temporary credentials past their
	// expiry.
	ErrExpiredSessionToken = errors.New("expired session token")
)

// Temporary credential lifetimes, as AWS bounds DurationSeconds.
const (
	MinSessionDuration     = 15 * time.Minute
	DefaultSessionDuration = time.Hour
	MaxSessionDuration     = 12 * time.Hour
)

// sessionTokenPrefix starts every session token, so that a token from an
// older format is recognised as such.
const sessionTokenPrefix = "CofferSTS1."

// SessionCredentials are temporary S3 credentials.
type SessionCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// Sessions issues and resolves temporary credentials. They are stateless:
// the session token carries the secret, the principal and the session
// policy, sealed with the server key, so every replica with the same key
// accepts them without a shared store. The price is that a session cannot
// be revoked before it expires, as with AWS STS.
type Sessions struct {
	sealer Sealer
	now    func() time.Time
}

// NewSessions returns Sessions sealing with sealer.
func NewSessions(sealer Sealer) *Sessions {
	return &Sessions{sealer: sealer, now: time.Now}
}

// session is the sealed content of a session token.
type session struct {
	Secret      string          `json:"sk"`
	Expires     int64           `json:"exp"`
	Principal   authz.Principal `json:"p"`
	Restriction *authz.Policy   `json:"r,omitempty"`
}

// Issue returns temporary credentials for id that last duration and are
// narrowed by policy (nil for none) on top of id's own restriction.
func (s *Sessions) Issue(id Identity, duration time.Duration, policy []authz.Statement) (SessionCredentials, error) {
	if duration < MinSessionDuration || duration > MaxSessionDuration {
		return SessionCredentials{}, fmt.Errorf("session duration %s is outside %s to %s: %w", duration, MinSessionDuration, MaxSessionDuration, ErrInvalidRequest)
	}
	restriction := id.Restriction
	if len(policy) > 0 {
		restriction = narrowRestriction(id.Restriction, policy)
	}
	creds := SessionCredentials{
		AccessKeyID:     "ASIA" + randomString(accessKeyLength-4, accessKeyAlphabet),
		SecretAccessKey: randomString(secretLength, secretAlphabet),
		Expires:         s.now().UTC().Add(duration).Truncate(time.Second),
	}
	plaintext, err := json.Marshal(session{Secret: creds.SecretAccessKey, Expires: creds.Expires.Unix(), Principal: id.Principal, Restriction: restriction})
	if err != nil {
		return SessionCredentials{}, fmt.Errorf("encode session of %s: %w", id.Principal.ID, err)
	}
	sealed, err := s.sealer.Seal(plaintext, []byte(creds.AccessKeyID))
	if err != nil {
		return SessionCredentials{}, fmt.Errorf("seal session of %s: %w", id.Principal.ID, err)
	}
	creds.SessionToken = sessionTokenPrefix + base64.RawURLEncoding.EncodeToString(sealed)
	return creds, nil
}

// Resolve returns the secret and identity of temporary credentials. A
// token that was not issued with accessKeyID gives an error wrapping
// ErrInvalidSessionToken and an expired one ErrExpiredSessionToken.
func (s *Sessions) Resolve(accessKeyID, token string) (string, Identity, error) {
	if !strings.HasPrefix(accessKeyID, "ASIA") {
		return "", Identity{}, fmt.Errorf("access key %s does not take a session token: %w", accessKeyID, ErrInvalidSessionToken)
	}
	encoded, ok := strings.CutPrefix(token, sessionTokenPrefix)
	if !ok {
		return "", Identity{}, fmt.Errorf("session token of %s: unknown format: %w", accessKeyID, ErrInvalidSessionToken)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", Identity{}, fmt.Errorf("session token of %s: %w", accessKeyID, ErrInvalidSessionToken)
	}
	plaintext, err := s.sealer.Open(sealed, []byte(accessKeyID))
	if err != nil {
		return "", Identity{}, fmt.Errorf("session token of %s: %w", accessKeyID, ErrInvalidSessionToken)
	}
	var sess session
	if err := json.Unmarshal(plaintext, &sess); err != nil {
		return "", Identity{}, fmt.Errorf("decode session of %s: %w", accessKeyID, ErrInvalidSessionToken)
	}
	if !s.now().Before(time.Unix(sess.Expires, 0)) {
		return "", Identity{}, fmt.Errorf("session of %s expired at %s: %w", accessKeyID, time.Unix(sess.Expires, 0).UTC().Format(time.RFC3339), ErrExpiredSessionToken)
	}
	sess.Principal.Method = "sts"
	return sess.Secret, Identity{Principal: sess.Principal, CredentialID: accessKeyID, Restriction: sess.Restriction}, nil
}

// IsSessionKey reports whether accessKeyID names temporary credentials.
func IsSessionKey(accessKeyID string) bool {
	return strings.HasPrefix(accessKeyID, "ASIA")
}
