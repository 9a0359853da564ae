package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/test/keycloak"
)

// Root credentials of the test server.
const (
	rootUser     = "coffer-client-test"
	rootPassword = "client-test-root-password"
)

// The server and identity provider that every test and example of the
// package uses; TestMain starts them.
var (
	serverURL string
	kc        *keycloak.Server
)

func TestMain(m *testing.M) {
	os.Exit(runWithServer(m))
}

// runWithServer starts a mock Keycloak and a cofferd that accepts its
// tokens, runs the tests and stops both.
func runWithServer(m *testing.M) int {
	kc = keycloak.New(keycloak.Options{})
	err := kc.AddRealm(keycloak.RealmConfig{
		Name:               "coffer",
		DevicePollInterval: 1,
		Clients: []keycloak.ClientConfig{
			{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"}},
			{ClientID: "coffer-cli", DeviceGrant: true, Audiences: []string{"coffer"}},
		},
		Users: []keycloak.UserConfig{{Username: "alice", Password: "alice-password"}},
	})
	if err == nil {
		err = kc.Start("127.0.0.1:0")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "start mock keycloak: %v\n", err)
		return 1
	}
	defer kc.Close()

	dataDir, err := os.MkdirTemp("", "coffer-client-test-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "create data folder: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dataDir)
	addresses, err := freeAddresses(2)
	if err != nil {
		fmt.Fprintf(os.Stderr, "find free ports: %v\n", err)
		return 1
	}
	environ := []string{
		"COFFER_ROOT_USER=" + rootUser, "COFFER_ROOT_PASSWORD=" + rootPassword,
		"COFFER_AUTH_OIDC_ISSUER=" + kc.Issuer("coffer"), "COFFER_AUTH_OIDC_AUDIENCE=coffer",
		// Keycloak users and clients may read, as a policy grants them;
		// writes need the root user.
		readersPolicy,
	}
	cfg, _, err := config.Load(config.Flags{DataDir: dataDir, Listen: addresses[0], S3Listen: addresses[1]}, environ)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load config: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "cofferd: %v\n", err)
		}
	}()
	serverURL = "http://" + cfg.Listen
	if err := waitStarted(serverURL, done); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func freeAddresses(n int) ([]string, error) {
	var addresses []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addresses = append(addresses, ln.Addr().String())
	}
	return addresses, nil
}

// waitStarted polls /startupz until it returns 200 or a generous deadline
// passes.
func waitStarted(base string, done chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("cofferd stopped before it started: %v", err)
		default:
		}
		resp, err := http.Get(base + "/startupz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("cofferd /startupz did not return 200 within 30s")
}

// readersPolicy lets every authenticated principal read system information
// and list buckets and objects.
const readersPolicy = `COFFER_AUTH_POLICIES=[{"id": "readers", "effect": "Allow", "principals": ["*"],
  "actions": ["coffer:system.read", "s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"], "resources": ["*"]}]`
