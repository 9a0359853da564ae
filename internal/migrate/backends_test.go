package migrate_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresServer is the server the tests use unless COFFER_TEST_POSTGRES_URL
// names another: a local PostgreSQL with trust authentication.
func postgresServer() string {
	if u := os.Getenv("COFFER_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// newDatabase creates a database with a random name, drops it when the
// test ends and returns its URL.
func newDatabase(t *testing.T) string {
	t.Helper()
	server := postgresServer()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v (set COFFER_TEST_POSTGRES_URL to use another one)", err)
	}
	defer admin.Close(ctx)

	random := make([]byte, 6)
	rand.Read(random)
	name := "migrate_" + hex.EncodeToString(random)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	// The test database needs no durability, and without a WAL flush at
	// each commit the target takes its 12,000 transactions much faster.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off"); err != nil {
		t.Fatalf("configure database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("connect to drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	parsed, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Path = "/" + name
	return parsed.String()
}

// s3Server is a versitygw process a test started on 127.0.0.1.
type s3Server struct {
	endpoint, bucket, accessKey, secretKey string
}

// startVersityGW starts versitygw over a posix folder with one bucket and
// stops it by PID when the test ends. The binary is COFFER_VERSITYGW, or
// versitygw in COFFER_TOOLS_BIN.
func startVersityGW(t *testing.T) s3Server {
	t.Helper()
	binary := os.Getenv("COFFER_VERSITYGW")
	if binary == "" && os.Getenv("COFFER_TOOLS_BIN") != "" {
		binary = filepath.Join(os.Getenv("COFFER_TOOLS_BIN"), "versitygw")
	}
	if _, err := os.Stat(binary); binary == "" || err != nil {
		t.Fatalf("versitygw not found: set COFFER_TOOLS_BIN to the folder test/e2e/install-tools.sh fills, or COFFER_VERSITYGW to the binary")
	}
	root := t.TempDir()
	srv := s3Server{bucket: "coffer-blobs", accessKey: "migrate-access", secretKey: "migrate-secret-key"}
	if err := os.Mkdir(filepath.Join(root, srv.bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	listener.Close()
	srv.endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)

	cmd := exec.Command(binary, "--port", fmt.Sprintf("127.0.0.1:%d", port),
		"--access", srv.accessKey, "--secret", srv.secretKey, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// The deadline only turns a hung start into a failure.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return srv
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("versitygw did not accept connections on %s", addr)
	return srv
}
