// Command mock-keycloak serves the mock Keycloak of package
// test/keycloak on its own, with realms from a YAML file, so its flows can
// be tried with curl. See docs/keycloak.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferhq/coffer/test/keycloak"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	configPath := flag.String("config", "", "YAML realm file (see test/keycloak/cmd/mock-keycloak/realm.yaml)")
	publicURL := flag.String("public-url", "", "frontend base URL for issuers, such as https://sso.example.com (default: the listener URL)")
	relativePath := flag.String("relative-path", "", `Keycloak's --http-relative-path: "" or "/auth"`)
	flag.Parse()

	if err := run(*listen, *configPath, keycloak.Options{PublicURL: *publicURL, RelativePath: *relativePath}); err != nil {
		fmt.Fprintln(os.Stderr, "mock-keycloak:", err)
		os.Exit(1)
	}
}

func run(listen, configPath string, opts keycloak.Options) error {
	if configPath == "" {
		return fmt.Errorf("missing -config: name a realm file such as test/keycloak/cmd/mock-keycloak/realm.yaml")
	}
	cfg, err := keycloak.LoadConfig(configPath)
	if err != nil {
		return err
	}
	server := keycloak.New(opts)
	for _, realm := range cfg.Realms {
		if err := server.AddRealm(realm); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Start(listen); err != nil {
		return err
	}
	for _, realm := range cfg.Realms {
		slog.Info("realm ready", "realm", realm.Name, "issuer", server.Issuer(realm.Name))
	}
	<-ctx.Done()
	slog.Info("stopping")
	return server.Close()
}
