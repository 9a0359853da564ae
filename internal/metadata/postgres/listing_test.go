package postgres

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cofferhq/coffer/internal/metadata"
)

// TestListWithUnstorableArguments lists with prefixes and cursors that
// PostgreSQL text cannot hold, which callers send: the objects package ends
// a cursor with 0xFF to skip the keys under a common prefix.
func TestListWithUnstorableArguments(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	if err := s.CreateBucket(ctx, metadata.Bucket{Name: "docs", Region: "us-east-1"}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	keys := []string{"a/1", "a/2", "a\u00e9", "b/1", "b0"}
	for _, k := range keys {
		if _, err := s.PutObject(ctx, object("docs", k, "content of "+k), metadata.Precondition{}); err != nil {
			t.Fatalf("PutObject(%q): %v", k, err)
		}
		u := metadata.MultipartUpload{ID: "upload " + k, Bucket: "docs", Key: k}
		if err := s.CreateMultipartUpload(ctx, u); err != nil {
			t.Fatalf("CreateMultipartUpload(%q): %v", k, err)
		}
	}

	for _, tc := range []struct {
		prefix, after string
		want          []string
	}{
		{"", "a/\xff", []string{"a\u00e9", "b/1", "b0"}},
		{"", "a\x00", []string{"a/1", "a/2", "a\u00e9", "b/1", "b0"}},
		{"", "a/1\x00", []string{"a/2", "a\u00e9", "b/1", "b0"}},
		{"a\xc3", "", []string{"a\u00e9"}},
		{"a\xc3\xa9", "", []string{"a\u00e9"}},
		{"b\x00", "", nil},
		{"", "\xf4\x90", nil},
	} {
		objects, err := s.ListObjects(ctx, "docs", tc.prefix, tc.after, 0)
		if err != nil {
			t.Fatalf("ListObjects(prefix=%q, after=%q): %v", tc.prefix, tc.after, err)
		}
		var got []string
		for _, o := range objects {
			got = append(got, o.Key)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ListObjects(prefix=%q, after=%q) = %q, want %q", tc.prefix, tc.after, got, tc.want)
		}

		uploads, err := s.ListMultipartUploads(ctx, "docs", tc.prefix, tc.after, "", 0)
		if err != nil {
			t.Fatalf("ListMultipartUploads(prefix=%q, keyAfter=%q): %v", tc.prefix, tc.after, err)
		}
		got = nil
		for _, u := range uploads {
			got = append(got, u.Key)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ListMultipartUploads(prefix=%q, keyAfter=%q) keys = %q, want %q", tc.prefix, tc.after, got, tc.want)
		}
	}

	uploads, err := s.ListMultipartUploads(ctx, "docs", "", "a/2", "upload \xff", 0)
	if err != nil {
		t.Fatalf("ListMultipartUploads(after a/2 and an unstorable ID): %v", err)
	}
	if len(uploads) != 3 || uploads[0].Key != "a\u00e9" {
		t.Errorf("ListMultipartUploads(after a/2 and an unstorable ID) = %+v, want the 3 uploads after a/2", uploads)
	}

	repos, err := s.ListRepositories(ctx, "\xff", 0)
	if err != nil || len(repos) != 0 {
		t.Errorf("ListRepositories(after 0xFF) = %v, %v, want none", repos, err)
	}
}

func TestUnstorableNamesAreNotFound(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	if err := s.CreateBucket(ctx, metadata.Bucket{Name: "docs", Region: "us-east-1"}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	for _, name := range []string{"nul\x00", "invalid \xff"} {
		_, err := s.GetObject(ctx, "docs", name)
		wantNotFound(t, "GetObject("+name+")", err)
		_, err = s.DeleteObject(ctx, "docs", name)
		wantNotFound(t, "DeleteObject("+name+")", err)
		_, err = s.GetUpload(ctx, name)
		wantNotFound(t, "GetUpload("+name+")", err)
		wantNotFound(t, "DeleteUpload("+name+")", s.DeleteUpload(ctx, name))
		_, err = s.GetMultipartUpload(ctx, name)
		wantNotFound(t, "GetMultipartUpload("+name+")", err)
		_, err = s.AbortMultipartUpload(ctx, name)
		wantNotFound(t, "AbortMultipartUpload("+name+")", err)

		_, err = s.PutObject(ctx, object("docs", name, "content"), metadata.Precondition{})
		if err == nil || !strings.Contains(err.Error(), "UTF-8") {
			t.Errorf("PutObject(%q) error = %v, want one about UTF-8", name, err)
		}
	}
}

func wantNotFound(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, metadata.ErrNotFound) {
		t.Errorf("%s: error = %v, want one wrapping metadata.ErrNotFound", call, err)
	}
}

// TestListQueryPlans checks that listing pages can be range scans of an
// index in key order, without a sort, so that their cost does not grow with
// the bucket. Sequential scans are disabled, because the planner rightly
// prefers them on the test's nearly empty tables.
func TestListQueryPlans(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	bounded := keyRange{lower: "photos/b", upper: "photos0", bounded: true}
	objects, objectArgs := listObjectsQuery("b", bounded, 10)
	uploads, uploadArgs, _, err := s.listUploadsQuery(ctx, "b", "photos/", "photos/a", "id", 10)
	if err != nil {
		t.Fatalf("listUploadsQuery: %v", err)
	}

	for _, tc := range []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"objects", objects, objectArgs, "objects_pkey"},
		{"uploads", uploads, uploadArgs, "multipart_uploads_by_key"},
		{"uploads before", listUploadsBeforeQuery, []any{int64(5), int64(10)}, "multipart_uploads_by_created"},
	} {
		plan := queryPlan(t, s, tc.query, tc.args...)
		if !strings.Contains(plan, "Index Scan using "+tc.index) || strings.Contains(plan, "Sort") {
			t.Errorf("plan of the %s query:\n%s\nwant an index scan of %s without a sort", tc.name, plan, tc.index)
		}
	}
}

// queryPlan returns the text of EXPLAIN for query, with sequential scans off.
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	var lines []string
	err := pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		rows, err := tx.Query(t.Context(), "EXPLAIN "+query, args...)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	return strings.Join(lines, "\n")
}

func TestWriteRetriesSerializationFailures(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)

	// The first two attempts fail as PostgreSQL aborts a transaction, after
	// writing a bucket row that the rollback must undo.
	attempts := 0
	err := s.write(ctx, func(tx pgx.Tx) error {
		attempts++
		name := "attempt-" + string(rune('0'+attempts))
		if _, err := tx.Exec(ctx, `INSERT INTO buckets (name, region, created) VALUES ($1, '', 0)`, name); err != nil {
			return err
		}
		switch attempts {
		case 1:
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		case 2:
			return &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if attempts != 3 {
		t.Errorf("write ran the transaction %d times, want 3", attempts)
	}
	buckets, err := s.ListBuckets(ctx)
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(buckets) != 1 || buckets[0].Name != "attempt-3" {
		t.Errorf("buckets after the retries = %+v, want only attempt-3", buckets)
	}

	// Other errors end the transaction at once, and so does the last attempt.
	attempts = 0
	other := errors.New("not retryable")
	if err := s.write(ctx, func(pgx.Tx) error { attempts++; return other }); !errors.Is(err, other) || attempts != 1 {
		t.Errorf("write with a plain error: %v after %d attempts, want it after 1", err, attempts)
	}
	attempts = 0
	err = s.write(ctx, func(pgx.Tx) error { attempts++; return &pgconn.PgError{Code: "40001"} })
	if !retryable(err) || attempts != maxAttempts {
		t.Errorf("write that always fails: %v after %d attempts, want a serialization failure after %d", err, attempts, maxAttempts)
	}
}
