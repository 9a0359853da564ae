package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Sealer encrypts secrets with the server key; authn.Sealer implements it.
type Sealer interface {
	Seal(plaintext, associated []byte) ([]byte, error)
	Open(sealed, associated []byte) ([]byte, error)
}

// Errors of access keys and session credentials.
var (
	// ErrAccessKeyNotFound reports an access key that does not exist.
	ErrAccessKeyNotFound = errors.New("access key not found")
	// ErrInvalidRequest reports a request to create a credential that
	// cannot be honoured, such as an expiry in the past.
	ErrInvalidRequest = errors.New("invalid credential request")
)

// Access key id and secret alphabets and lengths, as AWS shapes them: 20
// upper-case characters with the prefix "AK" (long-term keys) or "ASIA"
// (temporary credentials), and a 40-character secret.
const (
	accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	accessKeyLength   = 20
	secretLength      = 40
)

// AccessKey describes a stored access key, without its secret.
type AccessKey struct {
	ID          string
	OwnerID     string
	Description string
	// Restriction narrows what the key may do; nil for none.
	Restriction *authz.Policy
	Created     time.Time
	// Expires is zero for a key that never expires.
	Expires time.Time
	// Revoked is zero while the key is active.
	Revoked time.Time
}

// Active reports whether the key may be used at now.
func (k AccessKey) Active(now time.Time) bool {
	return k.Revoked.IsZero() && (k.Expires.IsZero() || now.Before(k.Expires))
}

// NewAccessKey is a request to create an access key.
type NewAccessKey struct {
	Description string
	// Expires is zero for a key that never expires.
	Expires time.Time
	// Restriction, if not empty, narrows the key: statements such as
	// ParseSessionPolicy returns.
	Restriction []authz.Statement
}

// AccessKeys creates, resolves and revokes S3 access keys. A key acts as a
// snapshot of the principal that created it, narrowed by the creator's own
// restriction and the key's.
type AccessKeys struct {
	store  metadata.AccessKeys
	sealer Sealer
	now    func() time.Time
}

// NewAccessKeys returns the access keys kept in store, with secrets sealed
// by sealer.
func NewAccessKeys(store metadata.AccessKeys, sealer Sealer) *AccessKeys {
	return &AccessKeys{store: store, sealer: sealer, now: time.Now}
}

// Create stores a new access key owned by owner and returns it with its
// secret, which is shown only this once.
func (a *AccessKeys) Create(ctx context.Context, owner Identity, req NewAccessKey) (AccessKey, string, error) {
	if owner.Principal.Anonymous() {
		return AccessKey{}, "", fmt.Errorf("create access key: anonymous principals own no keys: %w", ErrInvalidRequest)
	}
	now := a.now().UTC()
	if !req.Expires.IsZero() && !req.Expires.After(now) {
		return AccessKey{}, "", fmt.Errorf("create access key: expiry %s is not in the future: %w", req.Expires.Format(time.RFC3339), ErrInvalidRequest)
	}
	restriction := owner.Restriction
	if len(req.Restriction) > 0 {
		restriction = narrowRestriction(owner.Restriction, req.Restriction)
	}
	key := AccessKey{
		ID: "AK" + randomString(accessKeyLength-2, accessKeyAlphabet), OwnerID: owner.Principal.ID,
		Description: req.Description, Restriction: restriction, Created: now, Expires: req.Expires.UTC(),
	}
	secret := randomString(secretLength, secretAlphabet)
	sealed, err := a.sealer.Seal([]byte(secret), []byte(key.ID))
	if err != nil {
		return AccessKey{}, "", fmt.Errorf("seal secret of access key %s: %w", key.ID, err)
	}
	ownerJSON, err := json.Marshal(owner.Principal)
	if err != nil {
		return AccessKey{}, "", fmt.Errorf("encode owner of access key %s: %w", key.ID, err)
	}
	var restrictionJSON []byte
	if restriction != nil {
		if restrictionJSON, err = json.Marshal(restriction); err != nil {
			return AccessKey{}, "", fmt.Errorf("encode restriction of access key %s: %w", key.ID, err)
		}
	}
	err = a.store.CreateAccessKey(ctx, metadata.AccessKey{
		ID: key.ID, SealedSecret: sealed, OwnerID: key.OwnerID, Owner: ownerJSON, Restriction: restrictionJSON,
		Description: key.Description, Created: key.Created, Expires: key.Expires,
	})
	if err != nil {
		return AccessKey{}, "", fmt.Errorf("store access key %s: %w", key.ID, err)
	}
	return key, secret, nil
}

// Get returns the key id, or an error wrapping ErrAccessKeyNotFound.
func (a *AccessKeys) Get(ctx context.Context, id string) (AccessKey, error) {
	stored, err := a.store.GetAccessKey(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return AccessKey{}, fmt.Errorf("access key %s: %w", id, ErrAccessKeyNotFound)
	}
	if err != nil {
		return AccessKey{}, err
	}
	key, _, err := decodeAccessKey(stored)
	return key, err
}

// List returns the keys of ownerID, or every key for "".
func (a *AccessKeys) List(ctx context.Context, ownerID string) ([]AccessKey, error) {
	stored, err := a.store.ListAccessKeys(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	keys := make([]AccessKey, 0, len(stored))
	for _, s := range stored {
		key, _, err := decodeAccessKey(s)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// Revoke revokes the key id; requests signed with it fail from now on,
// presigned URLs included.
func (a *AccessKeys) Revoke(ctx context.Context, id string) error {
	err := a.store.RevokeAccessKey(ctx, id, a.now())
	if errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("access key %s: %w", id, ErrAccessKeyNotFound)
	}
	return err
}

// Resolve returns the secret and the identity of an active access key. An
// unknown, revoked or expired key gives an error wrapping
// authn.ErrUnknownAccessKey.
func (a *AccessKeys) Resolve(ctx context.Context, id string) (string, Identity, error) {
	stored, err := a.store.GetAccessKey(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return "", Identity{}, fmt.Errorf("access key %s: %w", id, authn.ErrUnknownAccessKey)
	}
	if err != nil {
		return "", Identity{}, err
	}
	key, owner, err := decodeAccessKey(stored)
	if err != nil {
		return "", Identity{}, err
	}
	if !key.Active(a.now()) {
		return "", Identity{}, fmt.Errorf("access key %s is revoked or expired: %w", id, authn.ErrUnknownAccessKey)
	}
	secret, err := a.sealer.Open(stored.SealedSecret, []byte(id))
	if err != nil {
		return "", Identity{}, fmt.Errorf("open secret of access key %s: %w", id, err)
	}
	owner.Method = "access-key"
	return string(secret), Identity{Principal: owner, CredentialID: id, Restriction: key.Restriction}, nil
}

// decodeAccessKey decodes the owner and restriction of a stored key.
func decodeAccessKey(s metadata.AccessKey) (AccessKey, authz.Principal, error) {
	key := AccessKey{ID: s.ID, OwnerID: s.OwnerID, Description: s.Description, Created: s.Created, Expires: s.Expires, Revoked: s.Revoked}
	var owner authz.Principal
	if err := json.Unmarshal(s.Owner, &owner); err != nil {
		return AccessKey{}, authz.Principal{}, fmt.Errorf("decode owner of access key %s: %w", s.ID, err)
	}
	if s.Restriction != nil {
		key.Restriction = &authz.Policy{}
		if err := json.Unmarshal(s.Restriction, key.Restriction); err != nil {
			return AccessKey{}, authz.Principal{}, fmt.Errorf("decode restriction of access key %s: %w", s.ID, err)
		}
	}
	return key, owner, nil
}

// narrowRestriction returns the restriction that allows what both outer
// (possibly nil) and statements allow.
func narrowRestriction(outer *authz.Policy, statements []authz.Statement) *authz.Policy {
	if outer == nil {
		return &authz.Policy{Statements: statements}
	}
	narrowed := authz.Narrow(*outer, authz.Policy{Statements: statements})
	return &narrowed
}

// randomString returns n characters drawn uniformly from alphabet, whose
// length must divide 256.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
