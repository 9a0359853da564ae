package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// credentialColumns are the columns scanCredential reads, in its order.
const credentialColumns = `id, kind, name, owner, owner_roles, owner_groups, created_by,
	secret_hash, restriction, created, expires, last_used, revoked`

// scanCredential reads one row of credentialColumns.
func scanCredential(row rowScanner) (metadata.Credential, error) {
	var c metadata.Credential
	var roles, groups string
	var created, expires, lastUsed, revoked int64
	err := row.Scan(&c.ID, &c.Kind, &c.Name, &c.Owner, &roles, &groups, &c.CreatedBy,
		&c.SecretHash, &c.Restriction, &created, &expires, &lastUsed, &revoked)
	if err != nil {
		return metadata.Credential{}, err
	}
	if err := json.Unmarshal([]byte(roles), &c.OwnerRoles); err != nil {
		return metadata.Credential{}, fmt.Errorf("decode owner roles of credential %s: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(groups), &c.OwnerGroups); err != nil {
		return metadata.Credential{}, fmt.Errorf("decode owner groups of credential %s: %w", c.ID, err)
	}
	c.Created = fromUnixNano(created)
	c.Expires = fromOptionalNano(expires)
	c.LastUsed = fromOptionalNano(lastUsed)
	c.Revoked = fromOptionalNano(revoked)
	return c, nil
}

// optionalNano stores t as Unix nanoseconds, and the zero time as 0.
func optionalNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixNano()
}

// fromOptionalNano reads what optionalNano stored.
func fromOptionalNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromUnixNano(n)
}

// CreateCredential stores c, or returns an error wrapping
// metadata.ErrAlreadyExists when its ID or its active robot name is taken.
// A zero c.Created is stored as now.
func (s *Store) CreateCredential(ctx context.Context, c metadata.Credential) error {
	const insert = `INSERT INTO credentials (` + credentialColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, insert, c.ID, c.Kind, c.Name, c.Owner, encodeList(c.OwnerRoles),
			encodeList(c.OwnerGroups), c.CreatedBy, c.SecretHash, c.Restriction, unixNano(c.Created, time.Now()),
			optionalNano(c.Expires), optionalNano(c.LastUsed), optionalNano(c.Revoked))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, metadata.ErrAlreadyExists)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create %s credential %s (%s): %w", c.Kind, c.ID, c.Name, err)
	}
	return nil
}

// GetCredential returns the credential with the given ID.
func (s *Store) GetCredential(ctx context.Context, id string) (metadata.Credential, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = ?`, id)
	c, err := scanCredential(row)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.Credential{}, fmt.Errorf("credential %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Credential{}, fmt.Errorf("read credential %s: %w", id, err)
	}
	return c, nil
}

// ListCredentials returns the credentials of kind, of one owner unless
// owner is empty, ordered by ID.
func (s *Store) ListCredentials(ctx context.Context, kind, owner string) ([]metadata.Credential, error) {
	const query = `SELECT ` + credentialColumns + ` FROM credentials
		WHERE kind = ? AND (? = '' OR owner = ?) ORDER BY id`
	rows, err := s.reader.QueryContext(ctx, query, kind, owner, owner)
	if err != nil {
		return nil, fmt.Errorf("list %s credentials: %w", kind, err)
	}
	defer rows.Close()
	var list []metadata.Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s credentials: %w", kind, err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s credentials: %w", kind, err)
	}
	return list, nil
}

// RevokeCredential marks the credential revoked at the given time, unless
// it is revoked already.
func (s *Store) RevokeCredential(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE credentials SET revoked = CASE WHEN revoked = 0 THEN ? ELSE revoked END WHERE id = ?`,
			unixNano(at, time.Now()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, metadata.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke credential %s: %w", id, err)
	}
	return nil
}

// TouchCredential moves the last use of the credential forward to at.
func (s *Store) TouchCredential(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE credentials SET last_used = ? WHERE id = ? AND last_used < ?`,
			unixNano(at, time.Now()), id, unixNano(at, time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("record use of credential %s: %w", id, err)
	}
	return nil
}

// policyColumns are the columns scanPolicy reads, in its order.
const policyColumns = `id, description, statements, created, updated, updated_by`

// scanPolicy reads one row of policyColumns.
func scanPolicy(row rowScanner) (metadata.StoredPolicy, error) {
	var p metadata.StoredPolicy
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Description, &p.Statements, &created, &updated, &p.UpdatedBy); err != nil {
		return metadata.StoredPolicy{}, err
	}
	p.Created = fromUnixNano(created)
	p.Updated = fromUnixNano(updated)
	return p, nil
}

// PutPolicy creates or replaces the policy with p.ID. A zero p.Updated is
// stored as now, and a new policy's Created is its Updated.
func (s *Store) PutPolicy(ctx context.Context, p metadata.StoredPolicy) (bool, error) {
	const upsert = `INSERT INTO policies (` + policyColumns + `) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET description = excluded.description,
			statements = excluded.statements, updated = excluded.updated, updated_by = excluded.updated_by`
	updated := unixNano(p.Updated, time.Now())
	var created bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM policies WHERE id = ?`, p.ID).Scan(&exists)
		if err != nil {
			return err
		}
		created = exists == 0
		_, err = tx.ExecContext(ctx, upsert, p.ID, p.Description, p.Statements, updated, updated, p.UpdatedBy)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store policy %s: %w", p.ID, err)
	}
	return created, nil
}

// GetPolicy returns the policy with the given ID.
func (s *Store) GetPolicy(ctx context.Context, id string) (metadata.StoredPolicy, error) {
	p, err := scanPolicy(s.reader.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.StoredPolicy{}, fmt.Errorf("policy %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.StoredPolicy{}, fmt.Errorf("read policy %s: %w", id, err)
	}
	return p, nil
}

// ListPolicies returns every stored policy, ordered by ID.
func (s *Store) ListPolicies(ctx context.Context) ([]metadata.StoredPolicy, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+policyColumns+` FROM policies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	defer rows.Close()
	var list []metadata.StoredPolicy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("list policies: %w", err)
		}
		list = append(list, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return list, nil
}

// DeletePolicy removes the policy with the given ID.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM policies WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, metadata.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete policy %s: %w", id, err)
	}
	return nil
}
