package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/metadatatest"
)

// defaultTestURL is the server the tests use unless COFFER_TEST_POSTGRES_URL
// names another: a local PostgreSQL with trust authentication and a
// database named test.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testServerURL returns the URL of the server the tests use.
func testServerURL() string {
	if u := os.Getenv("COFFER_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

// newSchema creates an empty schema with a random name on the test server,
// drops it with everything in it when the test ends, and returns a
// connection URL whose search_path is that schema. It fails the test when
// the server does not answer.
func newSchema(tb testing.TB) string {
	tb.Helper()
	server := testServerURL()
	parsed, err := url.Parse(server)
	if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
		tb.Fatalf("COFFER_TEST_POSTGRES_URL must be a postgres:// URL, got %q", server)
	}

	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("connect to the test PostgreSQL server %s: %v\n"+
			"The PostgreSQL tests need a running server; set COFFER_TEST_POSTGRES_URL to use another one.",
			parsed.Redacted(), err)
	}
	defer admin.Close(ctx)

	random := make([]byte, 8)
	rand.Read(random)
	schema := "t_" + hex.EncodeToString(random)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() { dropSchema(tb, server, schema) })

	query := parsed.Query()
	query.Set("search_path", schema)
	parsed.RawQuery = query.Encode()
	return parsed.String()
}

// dropSchema drops a schema that newSchema created. It runs after the test's
// context is canceled, so it uses a context of its own.
func dropSchema(tb testing.TB, server, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Errorf("connect to drop schema %s: %v", schema, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
	}
}

// openTest opens a store in a new schema and closes it when the test ends,
// before the schema is dropped.
func openTest(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), newSchema(tb))
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
	metadatatest.Run(t, func(t *testing.T) metadata.Store { return openTest(t) })
}

func TestOpenConcurrently(t *testing.T) {
	const replicas = 5
	dsn := newSchema(t)

	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
		if errs[i] != nil {
			t.Errorf("Open from replica %d: %v", i, errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	embedded, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	applied := appliedMigrations(t, stores[0])
	if len(applied) != len(embedded) {
		t.Fatalf("schema_migrations has %d rows, want one for each of the %d embedded migrations: %+v",
			len(applied), len(embedded), applied)
	}
	for i, m := range embedded {
		if applied[i].version != m.version || applied[i].name != m.name {
			t.Errorf("schema_migrations row %d = %+v, want version %d %s", i, applied[i], m.version, m.name)
		}
	}

	// Every replica works on the same tables.
	ctx := t.Context()
	if err := stores[1].CreateBucket(ctx, metadata.Bucket{Name: "shared", Region: "us-east-1"}); err != nil {
		t.Fatalf("CreateBucket through replica 1: %v", err)
	}
	if _, err := stores[4].GetBucket(ctx, "shared"); err != nil {
		t.Errorf("GetBucket through replica 4: %v", err)
	}
}

func TestReopenKeepsDataAndMigrations(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)

	s, err := Open(ctx, dsn)
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
	s.Close()

	reopened, err := Open(ctx, dsn)
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
	if len(after) != len(before) {
		t.Fatalf("migrations after reopening = %+v, want unchanged %+v", after, before)
	}
	for i := range before {
		if after[i] != before[i] {
			t.Errorf("migration %d after reopening = %+v, want unchanged %+v", i, after[i], before[i])
		}
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
	rows, err := s.pool.Query(t.Context(), `SELECT version, name, applied FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	applied, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (appliedMigration, error) {
		var m appliedMigration
		err := row.Scan(&m.version, &m.name, &m.applied)
		return m, err
	})
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return applied
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const record = `INSERT INTO schema_migrations (version, name, applied) VALUES (9999, '9999_future.sql', 0)`
	if _, err := s.pool.Exec(ctx, record); err != nil {
		t.Fatalf("record a future migration: %v", err)
	}
	s.Close()

	s, err = Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatalf("Open of a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "9999") {
		t.Errorf("Open of a newer schema: error = %v, want one naming version 9999", err)
	}
}

func TestOpenWithoutSchema(t *testing.T) {
	parsed, err := url.Parse(newSchema(t))
	if err != nil {
		t.Fatalf("parse test URL: %v", err)
	}
	query := parsed.Query()
	query.Set("search_path", "no_such_schema")
	parsed.RawQuery = query.Encode()

	s, err := Open(t.Context(), parsed.String())
	if err == nil {
		s.Close()
		t.Fatalf("Open with a search_path of a missing schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "search_path") {
		t.Errorf("Open with a search_path of a missing schema: error = %v, want one naming search_path", err)
	}
}

func TestOpenFailsWithoutServer(t *testing.T) {
	// A listener that closes every connection it accepts stands in for a
	// server that does not speak PostgreSQL.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()

	dsn := "postgres://coffer:secret-password@" + listener.Addr().String() + "/none?sslmode=disable&connect_timeout=5"
	s, err := Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatalf("Open of an unreachable server succeeded, want an error")
	}
	if strings.Contains(err.Error(), "secret-password") {
		t.Errorf("Open error %q contains the password", err)
	}
}

func TestWritesUseReadCommitted(t *testing.T) {
	// A server or role may default to another isolation level; the locking
	// in this package is designed for READ COMMITTED, so write sets it.
	parsed, err := url.Parse(newSchema(t))
	if err != nil {
		t.Fatalf("parse test URL: %v", err)
	}
	query := parsed.Query()
	query.Set("default_transaction_isolation", "serializable")
	parsed.RawQuery = query.Encode()
	s, err := Open(t.Context(), parsed.String())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })

	var level string
	err = s.write(t.Context(), func(tx pgx.Tx) error {
		return tx.QueryRow(t.Context(), "SHOW transaction_isolation").Scan(&level)
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if level != "read committed" {
		t.Errorf("isolation level of a write transaction = %q, want read committed", level)
	}
}
