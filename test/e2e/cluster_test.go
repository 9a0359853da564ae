package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPostgresURL is the server the cluster tests create their database on unless
// COFFER_TEST_POSTGRES_URL names another: a local PostgreSQL with trust authentication.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// lockTimeout bounds the wait for a background job lock to reach the expected replica. The
// replicas check their locks every second, so it only turns a hang into a failure.
const lockTimeout = time.Minute

// cluster is a set of cofferd replicas over one versitygw bucket and one PostgreSQL
// database, with a round-robin reverse proxy in front of their OCI ports and one in front of
// their S3 ports.
type cluster struct {
	replicas []*server
	database string // URL of the cluster's database
	oci, s3  *roundRobin
	// front is the cluster as clients see it: addr is the OCI proxy, s3addr the S3 proxy.
	front *server
}

// startCluster starts versitygw, creates a fresh database and starts n replicas. The first
// replica starts alone and takes every background job lock before the others start, so the
// test can tell which replica runs garbage collection and the scrub.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	backend := startVersityGW(t)
	c := &cluster{database: createDatabase(t)}
	env := []string{
		"COFFER_STORAGE_DRIVER=s3",
		"COFFER_STORAGE_S3_ENDPOINT=" + backend.endpoint,
		"COFFER_STORAGE_S3_BUCKET=" + backend.bucket,
		"COFFER_STORAGE_S3_PATH_STYLE=true",
		"COFFER_STORAGE_S3_ACCESS_KEY=" + backend.accessKey,
		"COFFER_STORAGE_S3_SECRET_KEY=" + backend.secretKey,
		"COFFER_METADATA_DRIVER=postgres",
		"COFFER_METADATA_POSTGRES_URL=" + c.database,
		"COFFER_GC_SCRUB_ENABLED=true",
		"COFFER_GC_LOCK_CHECK_INTERVAL=1s",
	}
	for i := range n {
		c.replicas = append(c.replicas, startCofferWith(t, t.TempDir(), "", nil, env...))
		if i == 0 {
			c.waitLockOwner(t, "gc", c.replicas[0])
			c.waitLockOwner(t, "scrub", c.replicas[0])
		}
	}

	var ociAddrs, s3Addrs []string
	for _, r := range c.replicas {
		ociAddrs = append(ociAddrs, r.addr)
		s3Addrs = append(s3Addrs, r.s3addr)
	}
	c.oci = startRoundRobin(t, ociAddrs)
	c.s3 = startRoundRobin(t, s3Addrs)
	c.front = &server{addr: c.oci.addr, s3addr: c.s3.addr}
	return c
}

// createDatabase creates an empty database on the test PostgreSQL server, drops it when the
// test ends, and returns its URL.
func createDatabase(t *testing.T) string {
	t.Helper()
	serverURL := os.Getenv("COFFER_TEST_POSTGRES_URL")
	if serverURL == "" {
		serverURL = defaultPostgresURL
	}
	random := make([]byte, 6)
	_, _ = rand.Read(random)
	name := "coffer_e2e_" + hex.EncodeToString(random)

	admin := connectPostgres(t, serverURL)
	defer admin.Close(context.WithoutCancel(t.Context()))
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// The replicas have stopped by now: cleanups run in reverse order.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("connect to drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	parsed, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("parse %s: %v", serverURL, err)
	}
	parsed.Path = "/" + name
	return parsed.String()
}

// connectPostgres opens one connection and fails the test when the server does not respond.
func connectPostgres(t *testing.T, serverURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v (set COFFER_TEST_POSTGRES_URL to use another one)", err)
	}
	return conn
}

// replicaName is the application_name a replica's job lock connection carries.
func replicaName(t *testing.T, r *server) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatalf("host name: %v", err)
	}
	name := fmt.Sprintf("cofferd %s pid %d", host, r.cmd.Process.Pid)
	return name[:min(len(name), 63)]
}

// lockOwner returns the application_name of the connection that holds the advisory lock of
// job, or "" when no connection holds it. The keys are the ones cofferd uses: class 0x0C0FFF
// and the hash of "<schema>/<job>". Advisory locks belong to one database, so the query
// looks only at the cluster's.
func (c *cluster) lockOwner(t *testing.T, job string) string {
	t.Helper()
	conn := connectPostgres(t, c.database)
	defer conn.Close(context.WithoutCancel(t.Context()))
	const query = `SELECT coalesce(max(a.application_name), '') FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 790527
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.objid = hashtext('public/' || $1)::oid AND l.objsubid = 2`
	var owner string
	if err := conn.QueryRow(t.Context(), query, job).Scan(&owner); err != nil {
		t.Fatalf("read the owner of the %s lock: %v", job, err)
	}
	return owner
}

// waitLockOwner polls until replica r holds the lock of job.
func (c *cluster) waitLockOwner(t *testing.T, job string, r *server) {
	t.Helper()
	want := replicaName(t, r)
	deadline := time.Now().Add(lockTimeout)
	owner := ""
	for time.Now().Before(deadline) {
		if owner = c.lockOwner(t, job); owner == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the %s lock is held by %q after %v, expected %q", job, owner, lockTimeout, want)
}

// waitLockOwnerAmong polls until one of replicas holds the lock of job and returns it.
func (c *cluster) waitLockOwnerAmong(t *testing.T, job string, replicas []*server) *server {
	t.Helper()
	deadline := time.Now().Add(lockTimeout)
	owner := ""
	for time.Now().Before(deadline) {
		owner = c.lockOwner(t, job)
		for _, r := range replicas {
			if owner == replicaName(t, r) {
				return r
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the %s lock is held by %q after %v, expected one of the surviving replicas", job, owner, lockTimeout)
	return nil
}

// roundRobin is a reverse proxy that sends each request to the next of its backends, as a
// load balancer in front of the replicas would. It keeps the client's Host header, which S3
// signatures cover.
type roundRobin struct {
	addr string

	mu       sync.Mutex
	backends []string
	next     int
}

// startRoundRobin serves a proxy over backends on a free loopback port until the test ends.
func startRoundRobin(t *testing.T, backends []string) *roundRobin {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the proxy: %v", err)
	}
	rr := &roundRobin{addr: listener.Addr().String(), backends: backends}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: rr.pick()})
			pr.Out.Host = pr.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(listener) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rr
}

// pick returns the next backend.
func (rr *roundRobin) pick() string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	backend := rr.backends[rr.next%len(rr.backends)]
	rr.next++
	return backend
}

// remove takes a backend out of the rotation, as a load balancer's health check does with a
// replica that stopped answering.
func (rr *roundRobin) remove(backend string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	var kept []string
	for _, b := range rr.backends {
		if b != backend {
			kept = append(kept, b)
		}
	}
	rr.backends = kept
}

// logCount returns how many lines of a replica's log contain text.
func logCount(t *testing.T, r *server, text string) int {
	t.Helper()
	data, err := os.ReadFile(r.logPath)
	if err != nil {
		t.Fatalf("read cofferd log: %v", err)
	}
	return strings.Count(string(data), text)
}

// waitLog polls until a replica's log has more than before lines that contain text.
func waitLog(t *testing.T, r *server, text string, before int) {
	t.Helper()
	deadline := time.Now().Add(lockTimeout)
	for time.Now().Before(deadline) {
		if logCount(t, r, text) > before {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("replica %s logged no new %q within %v\n%s", r.addr, text, lockTimeout, r.logTail())
}
