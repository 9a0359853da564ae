package metadatatest

import (
	"bytes"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// newUpload returns an upload at offset zero with fixed times.
func newUpload(id, repo string) metadata.Upload {
	return metadata.Upload{
		ID:         id,
		Repository: repo,
		HashState:  []byte("initial hash state"),
		Created:    created,
		Updated:    created,
	}
}

// getUpload returns the upload and fails the test on error.
func (e *env) getUpload(id string) metadata.Upload {
	e.t.Helper()
	u, err := e.store.GetUpload(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetUpload(%s): %v", id, err)
	}
	return u
}

// wantUpload compares every field of two uploads.
func (e *env) wantUpload(got, want metadata.Upload) {
	e.t.Helper()
	if got.ID != want.ID || got.Repository != want.Repository || got.Offset != want.Offset {
		e.t.Errorf("upload = %s in %s at %d, want %s in %s at %d",
			got.ID, got.Repository, got.Offset, want.ID, want.Repository, want.Offset)
	}
	if !bytes.Equal(got.HashState, want.HashState) {
		e.t.Errorf("upload hash state = %q, want %q", got.HashState, want.HashState)
	}
	if !got.Created.Equal(want.Created) {
		e.t.Errorf("upload created = %v, want %v", got.Created, want.Created)
	}
	if !got.Updated.Equal(want.Updated) {
		e.t.Errorf("upload updated = %v, want %v", got.Updated, want.Updated)
	}
}

func testUploadLifecycle(e *env) {
	u := newUpload("upload-1", "app")
	if err := e.store.CreateUpload(e.ctx, u); err != nil {
		e.t.Fatalf("CreateUpload: %v", err)
	}
	e.wantUpload(e.getUpload(u.ID), u)
	// Starting an upload does not create the repository.
	e.wantNoRepository("app")

	advanced := u
	advanced.Offset = 1024
	advanced.HashState = []byte("hash state after 1024 bytes")
	advanced.Updated = created.Add(time.Minute)
	if err := e.store.AdvanceUpload(e.ctx, advanced, 0); err != nil {
		e.t.Fatalf("AdvanceUpload(0 -> 1024): %v", err)
	}
	e.wantUpload(e.getUpload(u.ID), advanced)

	if err := e.store.DeleteUpload(e.ctx, u.ID); err != nil {
		e.t.Fatalf("DeleteUpload: %v", err)
	}
	_, err := e.store.GetUpload(e.ctx, u.ID)
	e.wantNotFound("GetUpload after DeleteUpload", err)
	e.wantNotFound("DeleteUpload twice", e.store.DeleteUpload(e.ctx, u.ID))
	e.wantNotFound("AdvanceUpload after DeleteUpload", e.store.AdvanceUpload(e.ctx, advanced, 1024))
}

func testAdvanceUploadConflict(e *env) {
	u := newUpload("upload-2", "app")
	if err := e.store.CreateUpload(e.ctx, u); err != nil {
		e.t.Fatalf("CreateUpload: %v", err)
	}
	first := u
	first.Offset = 100
	first.HashState = []byte("state at 100")
	if err := e.store.AdvanceUpload(e.ctx, first, 0); err != nil {
		e.t.Fatalf("AdvanceUpload(0 -> 100): %v", err)
	}

	// A second request that also started from offset 0 has lost the race.
	stale := u
	stale.Offset = 50
	stale.HashState = []byte("state at 50")
	e.wantConflict("AdvanceUpload from stale offset 0", e.store.AdvanceUpload(e.ctx, stale, 0))

	got := e.getUpload(u.ID)
	if got.Offset != 100 {
		e.t.Errorf("offset after the rejected advance = %d, want 100", got.Offset)
	}
	if !bytes.Equal(got.HashState, first.HashState) {
		e.t.Errorf("hash state after the rejected advance = %q, want %q", got.HashState, first.HashState)
	}
	if !got.Created.Equal(created) {
		e.t.Errorf("created after advancing = %v, want %v", got.Created, created)
	}
}

func testCreateUploadDuplicate(e *env) {
	u := newUpload("upload-3", "app")
	if err := e.store.CreateUpload(e.ctx, u); err != nil {
		e.t.Fatalf("CreateUpload: %v", err)
	}
	other := newUpload("upload-3", "other")
	other.Offset = 7
	e.wantConflict("CreateUpload with a used id", e.store.CreateUpload(e.ctx, other))
	e.wantUpload(e.getUpload(u.ID), u)

	_, err := e.store.GetUpload(e.ctx, "never-created")
	e.wantNotFound("GetUpload(unknown)", err)
}

func testPing(e *env) {
	if err := e.store.Ping(e.ctx); err != nil {
		e.t.Errorf("Ping: %v", err)
	}
}
