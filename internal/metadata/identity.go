package metadata

import (
	"context"
	"time"
)

// Kinds of Credential.
const (
	// CredentialToken is a personal access token: it acts as the principal
	// that created it.
	CredentialToken = "token"
	// CredentialRobot is a robot account: a principal of its own,
	// coffer#robot$<name>, for machines.
	CredentialRobot = "robot"
)

// Credential is a personal access token or a robot account: a secret that
// Coffer issued and stores only as its SHA-256 hash.
type Credential struct {
	// ID is the public identifier, which is also part of the secret so
	// that a secret finds its record with one lookup.
	ID   string
	Kind string
	// Name is the description of a token or the name of a robot. Robot
	// names are unique among robots that are not revoked.
	Name string
	// Owner is the principal ID the credential acts as: the creator for a
	// token, coffer#robot$<name> for a robot. OwnerRoles and OwnerGroups
	// are the owner's roles and groups when the credential was created.
	Owner       string
	OwnerRoles  []string
	OwnerGroups []string
	// CreatedBy is the principal ID that created the credential.
	CreatedBy string
	// SecretHash is the SHA-256 hash of the secret.
	SecretHash []byte
	// Restriction is the JSON of the authz.Policy that narrows what the
	// credential may do; nil means no narrowing.
	Restriction []byte
	Created     time.Time
	// Expires is when the credential stops working; zero means never.
	Expires time.Time
	// LastUsed is when the credential last authenticated a request, to
	// the precision the verifier records it; zero means never.
	LastUsed time.Time
	// Revoked is when the credential was revoked; zero means active.
	Revoked time.Time
}

// StoredPolicy is a named list of policy statements managed through the
// management API.
type StoredPolicy struct {
	ID          string
	Description string
	// Statements is the JSON array of the policy's authz.Statement values.
	Statements []byte
	Created    time.Time
	Updated    time.Time
	// UpdatedBy is the principal ID that last wrote the policy.
	UpdatedBy string
}

// Identities stores issued credentials and the stored policies.
type Identities interface {
	// CreateCredential stores c. It returns ErrAlreadyExists when the ID
	// is taken or c is a robot whose name an active robot has.
	CreateCredential(ctx context.Context, c Credential) error
	// GetCredential returns the credential with the given ID, revoked or
	// not, or ErrNotFound.
	GetCredential(ctx context.Context, id string) (Credential, error)
	// ListCredentials returns the credentials of kind, ordered by ID. A
	// non-empty owner returns only that owner's credentials.
	ListCredentials(ctx context.Context, kind, owner string) ([]Credential, error)
	// RevokeCredential marks the credential revoked at the given time. A
	// revoked credential keeps its first revocation time. It returns
	// ErrNotFound for an unknown ID.
	RevokeCredential(ctx context.Context, id string, at time.Time) error
	// TouchCredential records a use at the given time, unless a later use
	// is recorded already. An unknown ID changes nothing.
	TouchCredential(ctx context.Context, id string, at time.Time) error

	// PutPolicy creates or replaces the policy with p.ID and reports
	// whether it was created. A replaced policy keeps its Created time.
	PutPolicy(ctx context.Context, p StoredPolicy) (created bool, err error)
	// GetPolicy returns the policy with the given ID, or ErrNotFound.
	GetPolicy(ctx context.Context, id string) (StoredPolicy, error)
	// ListPolicies returns every stored policy, ordered by ID.
	ListPolicies(ctx context.Context) ([]StoredPolicy, error)
	// DeletePolicy removes the policy, or returns ErrNotFound.
	DeletePolicy(ctx context.Context, id string) error
}
