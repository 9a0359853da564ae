package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// AccessKey is an S3 access key: an access key ID and secret for AWS
// Signature Version 4. The key acts as its owner, narrowed by its policy.
type AccessKey struct {
	// ID is the access key ID, "AK" and 18 more characters.
	ID string `json:"access_key_id"`
	// Secret is the secret access key. The server returns it only in the
	// response of [Client.CreateAccessKey].
	Secret string `json:"secret_access_key,omitempty"`
	// Owner is the principal ID the key acts as.
	Owner       string `json:"owner"`
	Description string `json:"description"`
	// Status is "active", "expired" or "revoked".
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	// ExpiresAt and RevokedAt are nil when the key does not expire or is
	// not revoked.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Restriction is the key's policy as the server stores it, a JSON
	// object with "statements"; nil for a key without a policy.
	Restriction json.RawMessage `json:"restriction,omitempty"`
}

// CreateAccessKeyOptions describes a new access key. The zero value
// creates a key without description, expiry or policy.
type CreateAccessKeyOptions struct {
	// Description is a note on the key's use, for listings.
	Description string
	// ExpiresAt is when the key stops working. Zero creates a key that does
	// not expire.
	ExpiresAt time.Time
	// Policy is an AWS IAM policy document that narrows the key, such as
	// {"Version": "2012-10-17", "Statement": [...]}. Nil leaves the key
	// with all its owner may do.
	Policy json.RawMessage
}

// CreateAccessKey creates an S3 access key for the caller. The returned
// key carries the secret, which the server does not show again. An invalid
// policy or a past expiry gives [ErrInvalidRequest].
func (c *Client) CreateAccessKey(ctx context.Context, opts CreateAccessKeyOptions) (AccessKey, error) {
	body := struct {
		Description string          `json:"description,omitempty"`
		ExpiresAt   *time.Time      `json:"expires_at,omitempty"`
		Policy      json.RawMessage `json:"policy,omitempty"`
	}{Description: opts.Description, Policy: opts.Policy}
	if !opts.ExpiresAt.IsZero() {
		expires := opts.ExpiresAt.UTC()
		body.ExpiresAt = &expires
	}
	var k AccessKey
	err := c.callJSON(ctx, http.MethodPost, "/api/v1/access-keys", nil, body, &k)
	return k, err
}

// AccessKeys lists the caller's access keys without their secrets; for
// the root user it lists every key.
func (c *Client) AccessKeys(ctx context.Context) ([]AccessKey, error) {
	var p page[AccessKey]
	if err := c.callJSON(ctx, http.MethodGet, "/api/v1/access-keys", nil, nil, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}

// AccessKey reads one access key without its secret. Another owner's key
// gives [ErrNotFound] unless the caller is the root user.
func (c *Client) AccessKey(ctx context.Context, id string) (AccessKey, error) {
	var k AccessKey
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/access-keys/"+url.PathEscape(id), nil, nil, &k)
	return k, err
}

// DeleteAccessKey revokes an access key at once; requests signed with it
// fail from then on.
func (c *Client) DeleteAccessKey(ctx context.Context, id string) error {
	return c.callJSON(ctx, http.MethodDelete, "/api/v1/access-keys/"+url.PathEscape(id), nil, nil, nil)
}
