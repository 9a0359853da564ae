package traced

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateCredential calls the wrapped store's CreateCredential inside a span.
func (s *Store) CreateCredential(ctx context.Context, c metadata.Credential) error {
	ctx, call := s.start(ctx, "metadata.CreateCredential")
	err := s.next.CreateCredential(ctx, c)
	call.end(err)
	return err
}

// GetCredential calls the wrapped store's GetCredential inside a span.
func (s *Store) GetCredential(ctx context.Context, id string) (metadata.Credential, error) {
	ctx, c := s.start(ctx, "metadata.GetCredential")
	result, err := s.next.GetCredential(ctx, id)
	c.end(err)
	return result, err
}

// ListCredentials calls the wrapped store's ListCredentials inside a span.
func (s *Store) ListCredentials(ctx context.Context, kind, owner string) ([]metadata.Credential, error) {
	ctx, c := s.start(ctx, "metadata.ListCredentials")
	result, err := s.next.ListCredentials(ctx, kind, owner)
	c.end(err)
	return result, err
}

// RevokeCredential calls the wrapped store's RevokeCredential inside a span.
func (s *Store) RevokeCredential(ctx context.Context, id string, at time.Time) error {
	ctx, c := s.start(ctx, "metadata.RevokeCredential")
	err := s.next.RevokeCredential(ctx, id, at)
	c.end(err)
	return err
}

// TouchCredential calls the wrapped store's TouchCredential inside a span.
func (s *Store) TouchCredential(ctx context.Context, id string, at time.Time) error {
	ctx, c := s.start(ctx, "metadata.TouchCredential")
	err := s.next.TouchCredential(ctx, id, at)
	c.end(err)
	return err
}

// PutPolicy calls the wrapped store's PutPolicy inside a span.
func (s *Store) PutPolicy(ctx context.Context, p metadata.StoredPolicy) (bool, error) {
	ctx, c := s.start(ctx, "metadata.PutPolicy")
	created, err := s.next.PutPolicy(ctx, p)
	c.end(err)
	return created, err
}

// GetPolicy calls the wrapped store's GetPolicy inside a span.
func (s *Store) GetPolicy(ctx context.Context, id string) (metadata.StoredPolicy, error) {
	ctx, c := s.start(ctx, "metadata.GetPolicy")
	result, err := s.next.GetPolicy(ctx, id)
	c.end(err)
	return result, err
}

// ListPolicies calls the wrapped store's ListPolicies inside a span.
func (s *Store) ListPolicies(ctx context.Context) ([]metadata.StoredPolicy, error) {
	ctx, c := s.start(ctx, "metadata.ListPolicies")
	result, err := s.next.ListPolicies(ctx)
	c.end(err)
	return result, err
}

// DeletePolicy calls the wrapped store's DeletePolicy inside a span.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	ctx, c := s.start(ctx, "metadata.DeletePolicy")
	err := s.next.DeletePolicy(ctx, id)
	c.end(err)
	return err
}
