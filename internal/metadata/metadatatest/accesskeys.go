package metadatatest

import (
	"bytes"
	"slices"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// wantAccessKey compares every field of two access keys.
func (e *env) wantAccessKey(got, want metadata.AccessKey) {
	e.t.Helper()
	if got.ID != want.ID || !bytes.Equal(got.SealedSecret, want.SealedSecret) || got.OwnerID != want.OwnerID ||
		!bytes.Equal(got.Owner, want.Owner) || !bytes.Equal(got.Restriction, want.Restriction) ||
		(got.Restriction == nil) != (want.Restriction == nil) || got.Description != want.Description ||
		!got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) || !got.Revoked.Equal(want.Revoked) {
		e.t.Errorf("access key = %+v, want %+v", got, want)
	}
}

func testAccessKeyLifecycle(e *env) {
	key := metadata.AccessKey{
		ID:           "AKEXAMPLE0000000001",
		SealedSecret: []byte{0, 1, 2, 255},
		OwnerID:      "coffer#root",
		Owner:        []byte(`{"id":"coffer#root"}`),
		Restriction:  []byte(`[{"id":"read"}]`),
		Description:  "CI uploads",
		Created:      created,
		Expires:      created.Add(90 * 24 * time.Hour),
	}
	if err := e.store.CreateAccessKey(e.ctx, key); err != nil {
		e.t.Fatalf("CreateAccessKey: %v", err)
	}
	got, err := e.store.GetAccessKey(e.ctx, key.ID)
	if err != nil {
		e.t.Fatalf("GetAccessKey: %v", err)
	}
	e.wantAccessKey(got, key)

	err = e.store.CreateAccessKey(e.ctx, key)
	e.wantError("CreateAccessKey twice", err, metadata.ErrAlreadyExists)
	e.wantErrorNaming("CreateAccessKey twice", err, key.ID)

	revoked := created.Add(time.Hour)
	if err := e.store.RevokeAccessKey(e.ctx, key.ID, revoked); err != nil {
		e.t.Fatalf("RevokeAccessKey: %v", err)
	}
	if err := e.store.RevokeAccessKey(e.ctx, key.ID, revoked.Add(time.Hour)); err != nil {
		e.t.Fatalf("RevokeAccessKey twice: %v", err)
	}
	got, err = e.store.GetAccessKey(e.ctx, key.ID)
	if err != nil {
		e.t.Fatalf("GetAccessKey after revocation: %v", err)
	}
	key.Revoked = revoked
	e.wantAccessKey(got, key)

	_, err = e.store.GetAccessKey(e.ctx, "AKMISSING")
	e.wantError("GetAccessKey of a missing key", err, metadata.ErrNotFound)
	err = e.store.RevokeAccessKey(e.ctx, "AKMISSING", revoked)
	e.wantError("RevokeAccessKey of a missing key", err, metadata.ErrNotFound)
}

func testAccessKeyWithoutRestriction(e *env) {
	key := metadata.AccessKey{ID: "AKPLAIN", SealedSecret: []byte("s"), OwnerID: "coffer#root", Owner: []byte(`{}`), Created: created}
	if err := e.store.CreateAccessKey(e.ctx, key); err != nil {
		e.t.Fatalf("CreateAccessKey: %v", err)
	}
	got, err := e.store.GetAccessKey(e.ctx, key.ID)
	if err != nil {
		e.t.Fatalf("GetAccessKey: %v", err)
	}
	e.wantAccessKey(got, key)
}

func testListAccessKeys(e *env) {
	for _, k := range []struct{ id, owner string }{{"AK3", "a#1"}, {"AK1", "b#2"}, {"AK2", "a#1"}} {
		key := metadata.AccessKey{ID: k.id, SealedSecret: []byte("s"), OwnerID: k.owner, Owner: []byte(`{}`), Created: created}
		if err := e.store.CreateAccessKey(e.ctx, key); err != nil {
			e.t.Fatalf("CreateAccessKey(%s): %v", k.id, err)
		}
	}
	ids := func(owner string) []string {
		keys, err := e.store.ListAccessKeys(e.ctx, owner)
		if err != nil {
			e.t.Fatalf("ListAccessKeys(%q): %v", owner, err)
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		return ids
	}
	if got, want := ids(""), []string{"AK1", "AK2", "AK3"}; !slices.Equal(got, want) {
		e.t.Errorf("ListAccessKeys of every owner = %q, want %q", got, want)
	}
	if got, want := ids("a#1"), []string{"AK2", "AK3"}; !slices.Equal(got, want) {
		e.t.Errorf("ListAccessKeys(a#1) = %q, want %q", got, want)
	}
	if got := ids("c#3"); len(got) != 0 {
		e.t.Errorf("ListAccessKeys(c#3) = %q, want none", got)
	}
}

func testBucketPolicyLifecycle(e *env) {
	e.createBucket("site")
	_, err := e.store.GetBucketPolicy(e.ctx, "site")
	e.wantError("GetBucketPolicy before any put", err, metadata.ErrNotFound)

	for _, document := range []string{`{"v":1}`, `{"v":2}`} {
		if err := e.store.PutBucketPolicy(e.ctx, "site", []byte(document)); err != nil {
			e.t.Fatalf("PutBucketPolicy(%s): %v", document, err)
		}
		got, err := e.store.GetBucketPolicy(e.ctx, "site")
		if err != nil || string(got) != document {
			e.t.Errorf("GetBucketPolicy = %q, %v, want %q", got, err, document)
		}
	}
	if err := e.store.DeleteBucketPolicy(e.ctx, "site"); err != nil {
		e.t.Fatalf("DeleteBucketPolicy: %v", err)
	}
	if err := e.store.DeleteBucketPolicy(e.ctx, "site"); err != nil {
		e.t.Fatalf("DeleteBucketPolicy without a policy: %v", err)
	}
	_, err = e.store.GetBucketPolicy(e.ctx, "site")
	e.wantError("GetBucketPolicy after delete", err, metadata.ErrNotFound)

	err = e.store.PutBucketPolicy(e.ctx, "missing", []byte(`{}`))
	e.wantError("PutBucketPolicy of a missing bucket", err, metadata.ErrNotFound)
	err = e.store.DeleteBucketPolicy(e.ctx, "missing")
	e.wantError("DeleteBucketPolicy of a missing bucket", err, metadata.ErrNotFound)
}

func testBucketPolicyGoesWithBucket(e *env) {
	e.createBucket("gone")
	if err := e.store.PutBucketPolicy(e.ctx, "gone", []byte(`{"v":1}`)); err != nil {
		e.t.Fatalf("PutBucketPolicy: %v", err)
	}
	if err := e.store.DeleteBucket(e.ctx, "gone"); err != nil {
		e.t.Fatalf("DeleteBucket: %v", err)
	}
	e.createBucket("gone")
	_, err := e.store.GetBucketPolicy(e.ctx, "gone")
	e.wantError("GetBucketPolicy of a recreated bucket", err, metadata.ErrNotFound)
}
