package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

func TestPrefixUpperBound(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		want   string
		ok     bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"photos/", "photos0", true},
		{"a\u00ff", "a\xc3\xc0", true}, // U+00FF is C3 BF in UTF-8
		{"\U0010FFFF", "\xf4\x8f\xbf\xc0", true},
		{"a\xff", "b", true},
		{"a\xff\xff", "b", true},
		{"\xff", "", false},
		{"\xff\xff", "", false},
	} {
		got, ok := prefixUpperBound(tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixUpperBound(%q) = %q, %t, want %q, %t", tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKeyLowerBound(t *testing.T) {
	for _, tc := range []struct {
		prefix, after string
		want          string
	}{
		{"", "", "\x00"},
		{"", "m", "m\x00"},
		{"photos/", "", "photos/"},
		{"photos/", "a", "photos/"},
		{"photos/", "photos/", "photos/\x00"},
		{"photos/", "photos/b", "photos/b\x00"},
		{"photos/", "z", "z\x00"},
	} {
		if got := keyLowerBound(tc.prefix, tc.after); got != tc.want {
			t.Errorf("keyLowerBound(%q, %q) = %q, want %q", tc.prefix, tc.after, got, tc.want)
		}
	}
}

// TestListQueryPlans checks that listing pages are range scans of an index
// in key order, so that their cost does not grow with the bucket.
func TestListQueryPlans(t *testing.T) {
	s := openTemp(t)
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"objects", listObjectsQuery, []any{"b", "a", 10},
			"SEARCH objects USING PRIMARY KEY (bucket=? AND key>?)"},
		{"objects below", listObjectsBelowQuery, []any{"b", "a", "b", 10},
			"SEARCH objects USING PRIMARY KEY (bucket=? AND key>? AND key<?)"},
		{"uploads", listUploadsQuery(false), []any{"b", "a", nil, "a", "", nil, 10},
			"SEARCH multipart_uploads USING INDEX multipart_uploads_by_key (bucket=? AND key>?)"},
		{"uploads below", listUploadsQuery(true), []any{"b", "a", "b", "a", "id", 5, 10},
			"SEARCH multipart_uploads USING INDEX multipart_uploads_by_key (bucket=? AND key>? AND key<?)"},
		{"uploads before", listUploadsBeforeQuery, []any{5, 10},
			"SEARCH multipart_uploads USING INDEX multipart_uploads_by_created (created<?)"},
	} {
		plan := queryPlan(t, s, tc.query, tc.args...)
		if len(plan) != 1 || plan[0] != tc.want {
			t.Errorf("plan of the %s query = %q, want [%q]", tc.name, plan, tc.want)
		}
	}
}

// queryPlan returns the detail column of EXPLAIN QUERY PLAN for query.
func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
	}
	defer rows.Close()

	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
	}
	return plan
}

// BenchmarkListObjectsLargeBucket lists a page of 1,000 keys from the middle
// of a bucket of 1,000 keys and of one of 1,000,000 keys. Both take about
// the same time when a page is a range scan of the primary key. Filling the
// large bucket takes tens of seconds, outside the timed part.
func BenchmarkListObjectsLargeBucket(b *testing.B) {
	const page = 1000
	for _, size := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", size), func(b *testing.B) {
			ctx := b.Context()
			s := openTemp(b)
			fillBucket(b, s, "bench", size)
			// The page contains keys first to first+page-1, so the cursor is
			// the key before first, or none in a bucket of one page.
			first := size/2 - page/2
			after := ""
			if first > 0 {
				after = benchKey(first - 1)
			}

			b.ResetTimer()
			for b.Loop() {
				objects, err := s.ListObjects(ctx, "bench", "photos/", after, page)
				if err != nil {
					b.Fatalf("ListObjects: %v", err)
				}
				if len(objects) != page {
					b.Fatalf("ListObjects returned %d objects, want %d", len(objects), page)
				}
			}
		})
	}
}

// benchKey returns the key of object i in fillBucket's bucket.
func benchKey(i int) string {
	return fmt.Sprintf("photos/%07d.jpg", i)
}

// fillBucket creates bucket with n objects that share one blob. It writes
// the rows in one transaction, bypassing PutObject, which commits (and
// syncs) once per object.
func fillBucket(tb testing.TB, s *Store, bucket string, n int) {
	tb.Helper()
	ctx := tb.Context()
	if err := s.CreateBucket(ctx, metadata.Bucket{Name: bucket, Region: "us-east-1"}); err != nil {
		tb.Fatalf("CreateBucket: %v", err)
	}
	content := "shared content"
	blob := digest.SHA256.FromBytes([]byte(content))
	now := time.Now().UnixNano()

	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		const insertBlob = `INSERT INTO blobs (digest, size, created, refcount) VALUES (?, ?, ?, ?)`
		if _, err := tx.ExecContext(ctx, insertBlob, string(blob), len(content), now, n); err != nil {
			return err
		}
		return insertObjectRows(ctx, tx, bucket, blob, int64(len(content)), n, now)
	})
	if err != nil {
		tb.Fatalf("fill bucket %s with %d objects: %v", bucket, n, err)
	}
}

// insertObjectRows inserts n object rows named by benchKey.
func insertObjectRows(ctx context.Context, tx *sql.Tx, bucket string, blob digest.Digest, size int64, n int, now int64) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO objects
		(bucket, key, blob, size, etag, content_type, headers, modified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()

	etag := strings.Repeat("0", 32)
	headers := `{"Cache-Control":"max-age=60"}`
	for i := range n {
		if _, err := stmt.ExecContext(ctx, bucket, benchKey(i), string(blob), size, etag, "image/jpeg", headers, now); err != nil {
			return err
		}
	}
	return nil
}
