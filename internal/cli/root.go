// Package cli implements the coffer command: one file per command, each
// with its flag struct, over the Go client library in pkg/client.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// Version is the CLI's version, set at build time with
// -ldflags "-X github.com/cofferhq/coffer/internal/cli.Version=v1.2.3".
var Version = "dev"

// Streams are the command's standard streams and environment.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Getenv reads an environment variable; nil uses os.Getenv.
	Getenv func(string) string
	// Terminal reports whether Err is a terminal, which turns progress bars
	// on in progress mode auto. Nil checks os.Stderr.
	Terminal func() bool
	// ReadPassword shows prompt and reads a password without echo, for
	// encrypted signing keys. Nil reads from os.Stdin when it is a
	// terminal; when it is not, no password is asked for.
	ReadPassword func(prompt string) ([]byte, error)
}

// app is the state every command shares: the settings and a client built
// on first use.
type app struct {
	streams    Streams
	configPath string
	settings   Settings
	client     *client.Client
}

// NewRootCommand returns the coffer command with every subcommand.
func NewRootCommand(streams Streams) *cobra.Command {
	if streams.Getenv == nil {
		streams.Getenv = os.Getenv
	}
	if streams.Terminal == nil {
		streams.Terminal = stderrIsTerminal
	}
	if streams.ReadPassword == nil {
		streams.ReadPassword = terminalPasswordReader()
	}
	a := &app{streams: streams}
	root := &cobra.Command{
		Use:   "coffer",
		Short: "Move files and OCI artifacts in and out of a Coffer server",
		Long: `coffer is the command-line client of Coffer, an OCI registry and object store.

Settings come from, in order of precedence: command-line flags, COFFER_*
environment variables, the config file (~/.config/coffer/config.yaml), and
the defaults. Credentials come from COFFER_TOKEN, or COFFER_USERNAME with
COFFER_PASSWORD, or what "coffer login" stored for the server.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.load(cmd)
		},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (env COFFER_CONFIG) (default ~/.config/coffer/config.yaml)")
	registerSettingFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(
		newLoginCommand(a), newLogoutCommand(a),
		newCpCommand(a), newLsCommand(a), newRmCommand(a), newMbCommand(a), newRbCommand(a), newStatCommand(a),
		newPushCommand(a), newPullCommand(a), newTagsCommand(a), newReferrersCommand(a), newAttachCommand(a), newTrustCommand(a),
		newWebhookCommand(a), newTokenCommand(a), newAccessKeyCommand(a), newPolicyCommand(a), newSignCommand(a), newVerifyCommand(a),
		newUsageCommand(a), newVersionCommand(a), newDocsCommand(),
	)
	return root
}

// load reads the settings once the flags are parsed.
func (a *app) load(cmd *cobra.Command) error {
	if a.configPath == "" {
		a.configPath = a.streams.Getenv("COFFER_CONFIG")
	}
	if a.configPath == "" {
		a.configPath = defaultConfigPath(a.streams.Getenv)
	}
	settings, err := loadSettings(cmd.Flags(), a.configPath, a.streams.Getenv)
	if err != nil {
		return err
	}
	a.settings = settings
	return nil
}

// credentials returns the store that the credentials_store setting picks.
func (a *app) credentials() credentialStore {
	return chooseCredentialStore(a.settings.CredentialsStore, fileStore{path: a.settings.CredentialsFile}, systemKeyring{})
}

// newClient returns a client of the configured server with the
// credentials from the environment or the credentials file.
func (a *app) newClient(ctx context.Context) (*client.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	auth, err := a.authenticator(ctx)
	if err != nil {
		return nil, err
	}
	c, err := client.New(a.settings.Server, client.Options{
		Auth:      auth,
		Retry:     client.RetryOptions{MaxAttempts: a.settings.Retries},
		ChunkSize: int64(a.settings.ChunkSizeMiB) << 20,
		UserAgent: "coffer-cli/" + Version,
	})
	if err != nil {
		return nil, usageError{err}
	}
	a.client = c
	return c, nil
}

func (a *app) authenticator(ctx context.Context) (client.Authenticator, error) {
	getenv := a.streams.Getenv
	if token := getenv("COFFER_TOKEN"); token != "" {
		return client.TokenAuth(token), nil
	}
	if user := getenv("COFFER_USERNAME"); user != "" {
		return client.Basic{Username: user, Password: getenv("COFFER_PASSWORD")}, nil
	}
	store := a.credentials()
	cred, ok, err := store.get(a.settings.Server)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w to %s: run coffer login, or set COFFER_TOKEN or COFFER_USERNAME and COFFER_PASSWORD", errNotLoggedIn, a.settings.Server)
	}
	return authenticator(ctx, store, a.settings.Server, cred)
}

// printJSON writes v as indented JSON to standard output.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.streams.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonOutput reports whether -o json is in effect.
func (a *app) jsonOutput() bool { return a.settings.Output == "json" }

// formatTime formats a time for text output.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
