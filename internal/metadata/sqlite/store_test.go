package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/metadatatest"
)

// openTemp opens a store on a new file in a temporary directory and closes
// it when the test ends.
func openTemp(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), filepath.Join(tb.TempDir(), "metadata.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	metadatatest.Run(t, func(t *testing.T) metadata.Store { return openTemp(t) })
}

func TestReopenKeepsDataAndMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "metadata.db")

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	config := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte("config")), Size: 6}
	if err := s.LinkBlob(ctx, "app", config); err != nil {
		t.Fatalf("LinkBlob: %v", err)
	}
	content := []byte(`{"schemaVersion":2}`)
	m := &metadata.Manifest{
		Repository: "app",
		Digest:     digest.SHA256.FromBytes(content),
		MediaType:  "application/vnd.oci.image.manifest.v1+json",
		Content:    content,
		Blobs:      []digest.Digest{config.Digest},
	}
	if err := s.PutManifest(ctx, m, "latest"); err != nil {
		t.Fatalf("PutManifest: %v", err)
	}
	before := appliedMigrations(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	reopened, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	t.Cleanup(func() { reopened.Close() })

	got, err := reopened.GetTaggedManifest(ctx, "app", "latest")
	if err != nil {
		t.Fatalf("GetTaggedManifest after reopening: %v", err)
	}
	if string(got.Content) != string(content) {
		t.Errorf("content after reopening = %q, want %q", got.Content, content)
	}
	refs, err := reopened.BlobReferences(ctx, config.Digest)
	if err != nil {
		t.Fatalf("BlobReferences after reopening: %v", err)
	}
	if refs != 1 {
		t.Errorf("BlobReferences after reopening = %d, want 1", refs)
	}

	after := appliedMigrations(t, reopened)
	embedded, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(before) != len(embedded) {
		t.Fatalf("migrations after first Open = %+v, want the %d embedded ones", before, len(embedded))
	}
	for i, m := range embedded {
		if before[i].version != m.version || before[i].name != m.name {
			t.Errorf("migration %d after first Open = %+v, want version %d %s", i, before[i], m.version, m.name)
		}
	}
	if !slices.Equal(after, before) {
		t.Errorf("migrations after reopening = %+v, want unchanged %+v", after, before)
	}
}

// appliedMigration is one row of schema_migrations.
type appliedMigration struct {
	version int
	name    string
	applied int64
}

func appliedMigrations(t *testing.T, s *Store) []appliedMigration {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), `SELECT version, name, applied FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []appliedMigration
	for rows.Next() {
		var m appliedMigration
		if err := rows.Scan(&m.version, &m.name, &m.applied); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return out
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "metadata.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const record = `INSERT INTO schema_migrations (version, name, applied) VALUES (9999, '9999_future.sql', 0)`
	if _, err := s.writer.ExecContext(ctx, record); err != nil {
		t.Fatalf("record a future migration: %v", err)
	}
	s.Close()

	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "9999") {
		t.Errorf("Open of a newer schema: error = %v, want one naming version 9999", err)
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:metadata.db", filepath.Join(t.TempDir(), "a?mode=ro")} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		for pool, db := range map[string]queryRower{"writer": s.writer, "reader": s.reader} {
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatalf("%s PRAGMA %s: %v", pool, tc.pragma, err)
			}
			if got != tc.want {
				t.Errorf("%s PRAGMA %s = %s, want %s", pool, tc.pragma, got, tc.want)
			}
		}
	}

	var queryOnly string
	if err := s.reader.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&queryOnly); err != nil {
		t.Fatalf("reader PRAGMA query_only: %v", err)
	}
	if queryOnly != "1" {
		t.Errorf("reader PRAGMA query_only = %s, want 1", queryOnly)
	}
}

func TestReadsDoNotWaitForWriter(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	content := []byte(`{"schemaVersion":2,"layers":[]}`)
	m := &metadata.Manifest{
		Repository: "app",
		Digest:     digest.SHA256.FromBytes(content),
		MediaType:  "application/vnd.oci.image.manifest.v1+json",
		Content:    content,
	}
	if err := s.PutManifest(ctx, m, "latest"); err != nil {
		t.Fatalf("PutManifest: %v", err)
	}

	// Hold the only writer connection in a transaction with an uncommitted
	// change. Reads go through the reader pool, so they neither wait for that
	// connection nor see the change. A read routed through the writer pool
	// would block here until the test times out.
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin write transaction: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM tags`); err != nil {
		t.Fatalf("delete tags in the open transaction: %v", err)
	}

	got, err := s.GetTaggedManifest(ctx, "app", "latest")
	if err != nil {
		t.Fatalf("GetTaggedManifest during a write transaction: %v", err)
	}
	if got.Digest != m.Digest {
		t.Errorf("GetTaggedManifest during a write transaction = %s, want %s", got.Digest, m.Digest)
	}
	tags, err := s.ListTags(ctx, "app", "", 0)
	if err != nil {
		t.Fatalf("ListTags during a write transaction: %v", err)
	}
	if len(tags) != 1 || tags[0] != "latest" {
		t.Errorf("ListTags during a write transaction = %q, want [latest]", tags)
	}
}
