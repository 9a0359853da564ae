package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Secret prefixes. A recognisable prefix lets secret scanners find leaked
// secrets and lets the verifier skip secrets that are not its own.
const (
	TokenSecretPrefix = "coffer_pat_"
	RobotSecretPrefix = "coffer_robot_"
)

// RobotUserPrefix starts the HTTP Basic user name of a robot: robot$<name>.
const RobotUserPrefix = "robot$"

// Sizes of the two random parts of a secret, in bytes before hex encoding.
const (
	credentialIDBytes = 12
	secretBytes       = 32
)

// DefaultTouchInterval is the default of Secrets.TouchInterval.
const DefaultTouchInterval = time.Minute

// CredentialStore is the part of the metadata store that issued secrets
// need.
type CredentialStore interface {
	CreateCredential(ctx context.Context, c metadata.Credential) error
	GetCredential(ctx context.Context, id string) (metadata.Credential, error)
	TouchCredential(ctx context.Context, id string, at time.Time) error
}

// Secrets issues and verifies personal access tokens and robot secrets. A
// secret is "<prefix><id>_<64 hex digits>": the id finds the stored record
// and the record keeps only the SHA-256 hash of the whole secret. The 256
// random bits make a slow password hash unnecessary.
type Secrets struct {
	Store CredentialStore
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// TouchInterval is the shortest time between two recordings of a
	// credential's last use, so that a busy token adds at most one write
	// per interval and replica. Zero means DefaultTouchInterval.
	TouchInterval time.Duration

	mu      sync.Mutex
	touched map[string]time.Time
}

var _ SecretVerifier = (*Secrets)(nil)

// NewSecret returns a new credential ID and a secret for kind
// (metadata.CredentialToken or metadata.CredentialRobot), and the SHA-256
// hash to store.
func NewSecret(kind string) (id, secret string, hash []byte, err error) {
	buf := make([]byte, credentialIDBytes+secretBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", "", nil, fmt.Errorf("generate %s secret: %w", kind, err)
	}
	id = hex.EncodeToString(buf[:credentialIDBytes])
	secret = secretPrefix(kind) + id + "_" + hex.EncodeToString(buf[credentialIDBytes:])
	sum := sha256.Sum256([]byte(secret))
	return id, secret, sum[:], nil
}

// secretPrefix returns the prefix of the secrets of kind.
func secretPrefix(kind string) string {
	if kind == metadata.CredentialRobot {
		return RobotSecretPrefix
	}
	return TokenSecretPrefix
}

// parseSecret returns the kind and ID of a secret that has the form
// NewSecret makes, and false for any other string.
func parseSecret(secret string) (kind, id string, ok bool) {
	rest, found := strings.CutPrefix(secret, TokenSecretPrefix)
	kind = metadata.CredentialToken
	if !found {
		rest, found = strings.CutPrefix(secret, RobotSecretPrefix)
		kind = metadata.CredentialRobot
	}
	id, random, _ := strings.Cut(rest, "_")
	if !found || len(id) != 2*credentialIDBytes || len(random) != 2*secretBytes {
		return "", "", false
	}
	return kind, id, true
}

// VerifySecret checks a personal access token (any user name) or a robot
// secret (user name robot$<name>). It returns an error wrapping
// authn.ErrInvalidCredentials for a secret that is unknown, wrong, expired
// or revoked, and authn.ErrUnavailable when the store cannot be read.
// Revocation takes effect on the next request, because every check reads
// the stored record.
func (s *Secrets) VerifySecret(ctx context.Context, user, secret string) (Identity, error) {
	kind, id, ok := parseSecret(secret)
	if !ok {
		return Identity{}, fmt.Errorf("secret of user %q: not a Coffer secret: %w", user, authn.ErrInvalidCredentials)
	}
	c, err := s.Store.GetCredential(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return Identity{}, fmt.Errorf("%s %s: unknown credential: %w", kind, id, authn.ErrInvalidCredentials)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", authn.ErrUnavailable, err)
	}
	if err := s.check(c, kind, user, secret); err != nil {
		return Identity{}, fmt.Errorf("%s %s: %w: %w", kind, id, err, authn.ErrInvalidCredentials)
	}

	restriction, err := decodeRestriction(c.Restriction)
	if err != nil {
		return Identity{}, fmt.Errorf("%s %s: %w: %w", kind, id, err, authn.ErrInvalidCredentials)
	}
	s.touch(ctx, c)
	return Identity{
		Principal: authz.Principal{
			ID:     c.Owner,
			Method: methodOf(kind),
			Roles:  c.OwnerRoles,
			Groups: c.OwnerGroups,
		},
		CredentialID: c.ID,
		Restriction:  restriction,
	}, nil
}

// check compares the secret's hash in constant time and checks the kind,
// the robot's user name, revocation and expiry.
func (s *Secrets) check(c metadata.Credential, kind, user, secret string) error {
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], c.SecretHash) != 1 || c.Kind != kind {
		return errors.New("wrong secret")
	}
	if kind == metadata.CredentialRobot && user != RobotUserPrefix+c.Name {
		return fmt.Errorf("user %q is not the robot's user name %q", user, RobotUserPrefix+c.Name)
	}
	if !c.Revoked.IsZero() {
		return errors.New("revoked")
	}
	if !c.Expires.IsZero() && !s.now().Before(c.Expires) {
		return fmt.Errorf("expired at %s", c.Expires.Format(time.RFC3339))
	}
	return nil
}

// methodOf returns the authentication method recorded for a kind of secret.
func methodOf(kind string) string {
	if kind == metadata.CredentialRobot {
		return "robot"
	}
	return "pat"
}

// decodeRestriction decodes a stored restriction; nil means none.
func decodeRestriction(stored []byte) (*authz.Policy, error) {
	if stored == nil {
		return nil, nil
	}
	var p authz.Policy
	if err := json.Unmarshal(stored, &p); err != nil {
		return nil, fmt.Errorf("decode restriction: %w", err)
	}
	return &p, nil
}

// touch records the credential's use unless the store or this process
// recorded one within the touch interval. A failure is logged and does not
// fail the request, because the last use is informational.
func (s *Secrets) touch(ctx context.Context, c metadata.Credential) {
	now := s.now()
	interval := s.TouchInterval
	if interval == 0 {
		interval = DefaultTouchInterval
	}
	if now.Sub(c.LastUsed) < interval {
		return
	}
	s.mu.Lock()
	if s.touched == nil {
		s.touched = make(map[string]time.Time)
	}
	if last, ok := s.touched[c.ID]; ok && now.Sub(last) < interval {
		s.mu.Unlock()
		return
	}
	s.touched[c.ID] = now
	s.mu.Unlock()

	if err := s.Store.TouchCredential(ctx, c.ID, now); err != nil {
		telemetry.Logger(ctx).Warn("recording credential use failed", "credential", c.ID, "error", err)
	}
}

func (s *Secrets) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
