package metadatatest

import (
	"bytes"
	"errors"
	"slices"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// credential returns a token credential of owner with a recognisable hash.
func credential(id, kind, name, owner string) metadata.Credential {
	return metadata.Credential{
		ID:          id,
		Kind:        kind,
		Name:        name,
		Owner:       owner,
		OwnerRoles:  []string{"dev", "ops"},
		OwnerGroups: []string{"/eng/web"},
		CreatedBy:   owner,
		SecretHash:  bytes.Repeat([]byte{byte(len(id))}, 32),
		Created:     created,
	}
}

func testCredentialRoundTrip(e *env) {
	c := credential("t1", metadata.CredentialToken, "laptop", "https://id.example/realms/r#alice")
	c.Restriction = []byte(`{"statements":[]}`)
	c.Expires = created.Add(24 * time.Hour)
	if err := e.store.CreateCredential(e.ctx, c); err != nil {
		e.t.Fatalf("CreateCredential: %v", err)
	}
	got, err := e.store.GetCredential(e.ctx, "t1")
	if err != nil {
		e.t.Fatalf("GetCredential: %v", err)
	}
	if got.ID != c.ID || got.Kind != c.Kind || got.Name != c.Name || got.Owner != c.Owner || got.CreatedBy != c.CreatedBy {
		e.t.Errorf("credential = %+v, want %+v", got, c)
	}
	if !slices.Equal(got.OwnerRoles, c.OwnerRoles) || !slices.Equal(got.OwnerGroups, c.OwnerGroups) {
		e.t.Errorf("owner roles %q, groups %q", got.OwnerRoles, got.OwnerGroups)
	}
	if !bytes.Equal(got.SecretHash, c.SecretHash) || !bytes.Equal(got.Restriction, c.Restriction) {
		e.t.Errorf("hash %x, restriction %q", got.SecretHash, got.Restriction)
	}
	if !got.Created.Equal(created) || !got.Expires.Equal(c.Expires) {
		e.t.Errorf("created %s, expires %s", got.Created, got.Expires)
	}
	if !got.LastUsed.IsZero() || !got.Revoked.IsZero() {
		e.t.Errorf("new credential: last used %s, revoked %s, want zero times", got.LastUsed, got.Revoked)
	}

	plain := credential("t2", metadata.CredentialToken, "", "coffer#root")
	plain.OwnerRoles, plain.OwnerGroups = nil, nil
	if err := e.store.CreateCredential(e.ctx, plain); err != nil {
		e.t.Fatalf("CreateCredential without restriction: %v", err)
	}
	got, err = e.store.GetCredential(e.ctx, "t2")
	if err != nil {
		e.t.Fatalf("GetCredential: %v", err)
	}
	if got.Restriction != nil || !got.Expires.IsZero() || len(got.OwnerRoles) != 0 {
		e.t.Errorf("credential without restriction and expiry = %+v", got)
	}

	if _, err := e.store.GetCredential(e.ctx, "missing"); !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("GetCredential(missing) = %v, want ErrNotFound", err)
	}
	if err := e.store.CreateCredential(e.ctx, c); !errors.Is(err, metadata.ErrAlreadyExists) {
		e.t.Errorf("CreateCredential with a taken ID = %v, want ErrAlreadyExists", err)
	}
}

func testListCredentials(e *env) {
	alice, bob := "iss#alice", "iss#bob"
	for _, c := range []metadata.Credential{
		credential("t3", metadata.CredentialToken, "a", alice),
		credential("t1", metadata.CredentialToken, "b", alice),
		credential("t2", metadata.CredentialToken, "c", bob),
		credential("r1", metadata.CredentialRobot, "ci", "coffer#robot$ci"),
	} {
		if err := e.store.CreateCredential(e.ctx, c); err != nil {
			e.t.Fatalf("CreateCredential(%s): %v", c.ID, err)
		}
	}
	ids := func(kind, owner string) []string {
		list, err := e.store.ListCredentials(e.ctx, kind, owner)
		if err != nil {
			e.t.Fatalf("ListCredentials(%s, %s): %v", kind, owner, err)
		}
		var out []string
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(metadata.CredentialToken, alice); !slices.Equal(got, []string{"t1", "t3"}) {
		e.t.Errorf("tokens of alice = %q, want [t1 t3]", got)
	}
	if got := ids(metadata.CredentialToken, ""); !slices.Equal(got, []string{"t1", "t2", "t3"}) {
		e.t.Errorf("all tokens = %q, want [t1 t2 t3]", got)
	}
	if got := ids(metadata.CredentialRobot, ""); !slices.Equal(got, []string{"r1"}) {
		e.t.Errorf("robots = %q, want [r1]", got)
	}
	if got := ids(metadata.CredentialToken, "iss#carol"); len(got) != 0 {
		e.t.Errorf("tokens of carol = %q, want none", got)
	}
}

func testRevokeCredential(e *env) {
	if err := e.store.CreateCredential(e.ctx, credential("t1", metadata.CredentialToken, "x", "iss#alice")); err != nil {
		e.t.Fatal(err)
	}
	first := created.Add(time.Hour)
	if err := e.store.RevokeCredential(e.ctx, "t1", first); err != nil {
		e.t.Fatalf("RevokeCredential: %v", err)
	}
	if err := e.store.RevokeCredential(e.ctx, "t1", first.Add(time.Hour)); err != nil {
		e.t.Fatalf("RevokeCredential again: %v", err)
	}
	got, err := e.store.GetCredential(e.ctx, "t1")
	if err != nil {
		e.t.Fatal(err)
	}
	if !got.Revoked.Equal(first) {
		e.t.Errorf("revoked = %s, want the first revocation %s", got.Revoked, first)
	}
	if err := e.store.RevokeCredential(e.ctx, "missing", first); !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("RevokeCredential(missing) = %v, want ErrNotFound", err)
	}
}

func testRobotNameUniqueWhileActive(e *env) {
	if err := e.store.CreateCredential(e.ctx, credential("r1", metadata.CredentialRobot, "ci", "coffer#robot$ci")); err != nil {
		e.t.Fatal(err)
	}
	err := e.store.CreateCredential(e.ctx, credential("r2", metadata.CredentialRobot, "ci", "coffer#robot$ci"))
	if !errors.Is(err, metadata.ErrAlreadyExists) {
		e.t.Fatalf("second active robot ci = %v, want ErrAlreadyExists", err)
	}
	if err := e.store.CreateCredential(e.ctx, credential("t9", metadata.CredentialToken, "ci", "iss#alice")); err != nil {
		e.t.Errorf("token named like a robot: %v", err)
	}
	if err := e.store.RevokeCredential(e.ctx, "r1", created); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateCredential(e.ctx, credential("r2", metadata.CredentialRobot, "ci", "coffer#robot$ci")); err != nil {
		e.t.Errorf("robot ci after the first was revoked: %v", err)
	}
}

func testTouchCredential(e *env) {
	if err := e.store.CreateCredential(e.ctx, credential("t1", metadata.CredentialToken, "x", "iss#alice")); err != nil {
		e.t.Fatal(err)
	}
	later := created.Add(2 * time.Minute)
	if err := e.store.TouchCredential(e.ctx, "t1", later); err != nil {
		e.t.Fatalf("TouchCredential: %v", err)
	}
	if err := e.store.TouchCredential(e.ctx, "t1", created.Add(time.Minute)); err != nil {
		e.t.Fatalf("TouchCredential with an earlier time: %v", err)
	}
	got, err := e.store.GetCredential(e.ctx, "t1")
	if err != nil {
		e.t.Fatal(err)
	}
	if !got.LastUsed.Equal(later) {
		e.t.Errorf("last used = %s, want %s", got.LastUsed, later)
	}
	if err := e.store.TouchCredential(e.ctx, "missing", later); err != nil {
		e.t.Errorf("TouchCredential(missing) = %v, want nil", err)
	}
}

func testPolicyLifecycle(e *env) {
	p := metadata.StoredPolicy{ID: "team-a", Description: "team A", Statements: []byte(`[{"id":"a"}]`), Updated: created, UpdatedBy: "coffer#root"}
	isNew, err := e.store.PutPolicy(e.ctx, p)
	if err != nil || !isNew {
		e.t.Fatalf("PutPolicy = %t, %v, want created", isNew, err)
	}
	later := created.Add(time.Hour)
	p.Description, p.Statements, p.Updated, p.UpdatedBy = "team A v2", []byte(`[{"id":"b"}]`), later, "iss#alice"
	isNew, err = e.store.PutPolicy(e.ctx, p)
	if err != nil || isNew {
		e.t.Fatalf("PutPolicy again = %t, %v, want replaced", isNew, err)
	}
	got, err := e.store.GetPolicy(e.ctx, "team-a")
	if err != nil {
		e.t.Fatal(err)
	}
	if got.Description != "team A v2" || string(got.Statements) != `[{"id":"b"}]` || got.UpdatedBy != "iss#alice" {
		e.t.Errorf("policy = %+v", got)
	}
	if !got.Created.Equal(created) || !got.Updated.Equal(later) {
		e.t.Errorf("created %s, updated %s, want %s and %s", got.Created, got.Updated, created, later)
	}

	if _, err := e.store.PutPolicy(e.ctx, metadata.StoredPolicy{ID: "base", Statements: []byte(`[]`), Updated: created}); err != nil {
		e.t.Fatal(err)
	}
	list, err := e.store.ListPolicies(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "base" || list[1].ID != "team-a" {
		e.t.Errorf("ListPolicies = %+v, want base and team-a", list)
	}

	if err := e.store.DeletePolicy(e.ctx, "team-a"); err != nil {
		e.t.Fatalf("DeletePolicy: %v", err)
	}
	if _, err := e.store.GetPolicy(e.ctx, "team-a"); !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("GetPolicy after delete = %v, want ErrNotFound", err)
	}
	if err := e.store.DeletePolicy(e.ctx, "team-a"); !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("DeletePolicy again = %v, want ErrNotFound", err)
	}
}
