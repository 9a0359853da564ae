package s3_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/identity"
)

// principalHeader names the identity headerAuth gives a request: "root",
// a principal ID, or nothing for an anonymous request.
const principalHeader = "X-Test-Principal"

// headerAuth admits every request as the identity its X-Test-Principal
// header names, so that the tests exercise authorization alone.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request, bucket string) (s3.Auth, error) {
	auth := s3.Auth{Body: r.Body, DecodedLength: r.ContentLength, Trailer: func(string) string { return "" }}
	switch name := r.Header.Get(principalHeader); name {
	case "":
		auth.Identity = identity.Anonymous()
	case "root":
		auth.Identity = identity.Root("test")
	default:
		auth.Identity = identity.Identity{Principal: authz.Principal{ID: name, Method: "test"}, CredentialID: "key-" + name}
	}
	return auth, nil
}

// auditLog keeps the audit records of the requests a test server serves.
type auditLog struct {
	mu      sync.Mutex
	records []*audit.Record
}

func (l *auditLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, record := audit.WithRecord(r.Context())
		l.mu.Lock()
		l.records = append(l.records, record)
		l.mu.Unlock()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (l *auditLog) last() *audit.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.records[len(l.records)-1]
}

func newAccessServer(t *testing.T) (*testServer, *auditLog) {
	t.Helper()
	handler, driver, store := newHandlerWith(t, headerAuth{}, s3.Options{Region: testRegion})
	log := &auditLog{}
	srv := httptest.NewServer(log.wrap(handler))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, driver: driver, store: store}, log
}

const alice = "https://id.example.com#alice"

// releasesPolicy lets everyone read releases/public/* and alice upload
// anywhere in the bucket and delete under tmp/.
const releasesPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::releases/public/*"},
    {"Sid": "AliceWrites", "Effect": "Allow", "Principal": {"AWS": "user:https://id.example.com#alice"},
     "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::releases", "arn:aws:s3:::releases/*"]},
    {"Sid": "AliceCleansTmp", "Effect": "Allow", "Principal": {"AWS": "user:https://id.example.com#alice"},
     "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::releases/tmp/*"}
  ]
}`

func TestAnonymousNeedsAPolicy(t *testing.T) {
	s, log := newAccessServer(t)
	root := []string{principalHeader, "root"}
	s.must(t, http.StatusOK, http.MethodPut, "/releases", nil, root...)
	s.must(t, http.StatusOK, http.MethodPut, "/releases/public/a.txt", []byte("a"), root...)

	expectError(t, s.do(t, http.MethodGet, "/releases/public/a.txt", nil), http.StatusForbidden, "AccessDenied", "/releases/public/a.txt")
	decisions := log.last().Decisions()
	if len(decisions) != 1 || decisions[0].Action != "s3:GetObject" || decisions[0].Effect != "Deny" ||
		decisions[0].Resource != "arn:aws:s3:::releases/public/a.txt" {
		t.Errorf("audit decisions of the denied GET = %+v, want one s3:GetObject deny", decisions)
	}
	expectError(t, s.do(t, http.MethodGet, "/", nil), http.StatusForbidden, "AccessDenied", "/")
	expectError(t, s.do(t, http.MethodPut, "/other", nil), http.StatusForbidden, "AccessDenied", "/other")
	expectError(t, s.do(t, http.MethodPut, "/releases?versioning", nil), http.StatusForbidden, "AccessDenied", "/releases")

	s.must(t, http.StatusNoContent, http.MethodPut, "/releases?policy", []byte(releasesPolicy), root...)
	if got := s.must(t, http.StatusOK, http.MethodGet, "/releases/public/a.txt", nil); string(got.body) != "a" {
		t.Errorf("anonymous GET under a public-read policy = %q, want %q", got.body, "a")
	}
	if principal, _, _ := log.last().Identity(); principal != "" {
		t.Errorf("audit principal of an anonymous request = %q, want empty", principal)
	}
	before := s.storedBytes(t)
	expectError(t, s.do(t, http.MethodPut, "/releases/public/b.txt", []byte("bb")), http.StatusForbidden, "AccessDenied", "/releases/public/b.txt")
	if after := s.storedBytes(t); after != before {
		t.Errorf("a denied PUT changed the stored bytes from %d to %d", before, after)
	}
	expectError(t, s.do(t, http.MethodGet, "/releases?list-type=2", nil), http.StatusForbidden, "AccessDenied", "/releases")
}

func TestBucketPolicyGrantsUser(t *testing.T) {
	s, log := newAccessServer(t)
	root := []string{principalHeader, "root"}
	user := []string{principalHeader, alice}
	s.must(t, http.StatusOK, http.MethodPut, "/releases", nil, root...)
	expectError(t, s.do(t, http.MethodPut, "/releases/tmp/x", []byte("x"), user...), http.StatusForbidden, "AccessDenied", "/releases/tmp/x")

	s.must(t, http.StatusNoContent, http.MethodPut, "/releases?policy", []byte(releasesPolicy), root...)
	for _, key := range []string{"tmp/x", "tmp/y", "keep/z"} {
		s.must(t, http.StatusOK, http.MethodPut, "/releases/"+key, []byte(key), user...)
	}
	principal, method, credential := log.last().Identity()
	if principal != alice || method != "test" || credential != "key-"+alice {
		t.Errorf("audit identity = %q %q %q, want alice's", principal, method, credential)
	}
	if d := log.last().Decisions(); len(d) != 1 || d[0].Effect != "Allow" || !slices.Equal(d[0].StatementIDs, []string{"AliceWrites"}) {
		t.Errorf("audit decisions of an allowed PUT = %+v, want AliceWrites", d)
	}

	expectError(t, s.do(t, http.MethodGet, "/releases?policy", nil, user...), http.StatusForbidden, "AccessDenied", "/releases")
	expectError(t, s.do(t, http.MethodDelete, "/releases?policy", nil, user...), http.StatusForbidden, "AccessDenied", "/releases")
	expectError(t, s.do(t, http.MethodDelete, "/releases", nil, user...), http.StatusForbidden, "AccessDenied", "/releases")

	body := `<Delete><Object><Key>tmp/x</Key></Object><Object><Key>keep/z</Key></Object></Delete>`
	resp := s.must(t, http.StatusOK, http.MethodPost, "/releases?delete", []byte(body), append(user, "Content-Md5", md5Base64([]byte(body)))...)
	if !strings.Contains(string(resp.body), "<Deleted><Key>tmp/x</Key></Deleted>") ||
		!strings.Contains(string(resp.body), "<Error><Key>keep/z</Key><Code>AccessDenied</Code>") {
		t.Errorf("DeleteObjects with one key outside the grant = %s, want tmp/x deleted and keep/z denied", resp.body)
	}
	s.must(t, http.StatusOK, http.MethodHead, "/releases/keep/z", nil, root...)

	s.must(t, http.StatusOK, http.MethodPut, "/secret", nil, root...)
	s.must(t, http.StatusOK, http.MethodPut, "/secret/k", []byte("classified"), root...)
	expectError(t, s.do(t, http.MethodPut, "/releases/copy", nil, append(user, "X-Amz-Copy-Source", "/secret/k")...),
		http.StatusForbidden, "AccessDenied", "/releases/copy")
	s.must(t, http.StatusNotFound, http.MethodHead, "/releases/copy", nil, root...)
	s.must(t, http.StatusOK, http.MethodPut, "/releases/copy", nil, append(user, "X-Amz-Copy-Source", "/releases/tmp/y")...)
}

func TestBucketPolicyDocument(t *testing.T) {
	s, _ := newAccessServer(t)
	root := []string{principalHeader, "root"}
	s.must(t, http.StatusOK, http.MethodPut, "/releases", nil, root...)
	expectError(t, s.do(t, http.MethodGet, "/releases?policy", nil, root...), http.StatusNotFound, "NoSuchBucketPolicy", "/releases")
	s.must(t, http.StatusNoContent, http.MethodPut, "/releases?policy", []byte(releasesPolicy), root...)
	got := s.must(t, http.StatusOK, http.MethodGet, "/releases?policy", nil, root...)
	if string(got.body) != releasesPolicy || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET ?policy = %s %q, want the stored document as JSON", got.header.Get("Content-Type"), got.body)
	}

	outside := strings.ReplaceAll(releasesPolicy, "arn:aws:s3:::releases/public/*", "arn:aws:s3:::other/*")
	expectError(t, s.do(t, http.MethodPut, "/releases?policy", []byte(outside), root...), http.StatusBadRequest, "MalformedPolicy", "/releases")
	expectError(t, s.do(t, http.MethodPut, "/releases?policy", []byte(strings.Repeat(" ", authz.MaxBucketPolicySize+1)), root...),
		http.StatusBadRequest, "MalformedPolicy", "/releases")
	expectError(t, s.do(t, http.MethodPut, "/missing?policy", []byte(releasesPolicy), root...), http.StatusNotFound, "NoSuchBucket", "/missing")
	if again := s.must(t, http.StatusOK, http.MethodGet, "/releases?policy", nil, root...); string(again.body) != releasesPolicy {
		t.Errorf("a rejected PUT ?policy replaced the policy with %q", again.body)
	}

	s.must(t, http.StatusNoContent, http.MethodDelete, "/releases?policy", nil, root...)
	expectError(t, s.do(t, http.MethodGet, "/releases?policy", nil, root...), http.StatusNotFound, "NoSuchBucketPolicy", "/releases")
}

func TestRootKeepsBucketPolicyAccess(t *testing.T) {
	s, _ := newAccessServer(t)
	root := []string{principalHeader, "root"}
	s.must(t, http.StatusOK, http.MethodPut, "/locked", nil, root...)
	denyAll := `{"Statement": [{"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource": ["arn:aws:s3:::locked", "arn:aws:s3:::locked/*"]}]}`
	s.must(t, http.StatusNoContent, http.MethodPut, "/locked?policy", []byte(denyAll), root...)

	expectError(t, s.do(t, http.MethodPut, "/locked/k", []byte("x"), root...), http.StatusForbidden, "AccessDenied", "/locked/k")
	s.must(t, http.StatusOK, http.MethodGet, "/locked?policy", nil, root...)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/locked?policy", nil, root...)
	s.must(t, http.StatusOK, http.MethodPut, "/locked/k", []byte("x"), root...)
}
