package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/metadata/postgres"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// statementCounts is what one request sent to PostgreSQL.
type statementCounts struct {
	// RoundTrips counts statements sent on their own, batches and
	// statements prepared on their own: each waits for one response from
	// the server.
	RoundTrips int
	// Statements counts the SQL statements run, alone or in a batch.
	Statements int
	// Transactions counts explicit transactions (BEGIN).
	Transactions int
}

// statementCounter is a pgx tracer that counts what reaches PostgreSQL.
type statementCounter struct {
	mu     sync.Mutex
	counts statementCounts
}

func (c *statementCounter) add(roundTrips, statements int, sql string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.RoundTrips += roundTrips
	c.counts.Statements += statements
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(sql)), "begin") {
		c.counts.Transactions++
	}
}

// take returns the counts so far and starts again from zero.
func (c *statementCounter) take() statementCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	counts := c.counts
	c.counts = statementCounts{}
	return counts
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.add(1, 1, data.SQL)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.add(1, 0, "")
	return ctx
}

func (c *statementCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	c.add(0, 1, data.SQL)
}

func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *statementCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.add(1, 0, "")
	return ctx
}

func (c *statementCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// TestRequestRoundTrips pins what the hottest OCI requests cost on
// PostgreSQL: one round trip with one statement and no transaction. The
// pool has one connection, and each request runs once before it is
// counted, so that the connection has prepared its statements, as the
// pooled connections of a running server have. That first run is not
// checked, because pgx does not report the statements that a batch
// prepares.
func TestRequestRoundTrips(t *testing.T) {
	ctx := t.Context()
	counter := &statementCounter{}
	store, err := postgres.Open(ctx, postgres.NewTestSchema(t)+"&pool_max_conns=1", postgres.WithTracer(counter))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reg := registry.New(store, blob.New(memory.New(), store), 4<<20)
	handler := oci.New(reg)

	config, layer := []byte(`{}`), []byte("layer")
	configDigest, layerDigest := digest.SHA256.FromBytes(config), digest.SHA256.FromBytes(layer)
	for _, content := range [][]byte{config, layer} {
		if _, err := reg.PutBlob(ctx, "app", digest.SHA256.FromBytes(content), bytes.NewReader(content), int64(len(content))); err != nil {
			t.Fatalf("PutBlob: %v", err)
		}
	}
	const mediaType = "application/vnd.oci.image.manifest.v1+json"
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		mediaType, configDigest, len(config), layerDigest, len(layer))
	m, err := reg.PutManifest(ctx, "app", registry.Reference{Tag: "v1"}, mediaType, bytes.NewReader(manifest), nil)
	if err != nil {
		t.Fatalf("PutManifest: %v", err)
	}

	oneRead := statementCounts{RoundTrips: 1, Statements: 1}
	tests := []struct {
		name         string
		method, path string
		want         statementCounts
	}{
		{"manifest GET by tag", http.MethodGet, "/v2/app/manifests/v1", oneRead},
		{"manifest GET by digest", http.MethodGet, "/v2/app/manifests/" + string(m.Digest), oneRead},
		{"manifest HEAD by tag", http.MethodHead, "/v2/app/manifests/v1", oneRead},
		// The layer is referenced, so the lookup has no grace period to restart.
		{"blob HEAD", http.MethodHead, "/v2/app/blobs/" + string(layerDigest), oneRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 2 {
				counter.take()
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, tt.method, tt.path, nil))
				if rec.Code != http.StatusOK {
					t.Fatalf("%s %s = %d %s, want 200", tt.method, tt.path, rec.Code, rec.Body)
				}
				if got := counter.take(); round == 1 && got != tt.want {
					t.Errorf("%s %s sent %+v to PostgreSQL, want %+v", tt.method, tt.path, got, tt.want)
				}
			}
		})
	}
}
