package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// loginFlags are the flags of coffer login.
type loginFlags struct {
	username          string
	passwordStdin     bool
	tokenStdin        bool
	device            bool
	clientCredentials bool
	issuer            string
	clientID          string
	clientSecretStdin bool
}

func newLoginCommand(a *app) *cobra.Command {
	var f loginFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Store credentials for the server",
		Long: `Store credentials for the server in the credentials file (mode 0600).

Four methods:
  --username NAME --password-stdin      HTTP Basic, such as the root user
  --token-stdin                         a bearer token or personal access token
  --client-credentials --issuer URL --client-id ID --client-secret-stdin
                                        a service account (OAuth client credentials);
                                        a fresh token is fetched on every run
  --device --issuer URL [--client-id coffer-cli]
                                        sign in with a browser on any device
                                        (OAuth device authorization)

The credentials are checked against the server before they are stored.
Until Coffer has access policies, OpenID Connect tokens may only read
(GET and HEAD); changes need the root user's credentials.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLogin(cmd.Context(), f) },
	}
	flags := cmd.Flags()
	flags.StringVarP(&f.username, "username", "u", "", "user name for HTTP Basic")
	flags.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from standard input")
	flags.BoolVar(&f.tokenStdin, "token-stdin", false, "read a bearer token or personal access token from standard input")
	flags.BoolVar(&f.device, "device", false, "sign in with the OAuth device authorization flow")
	flags.BoolVar(&f.clientCredentials, "client-credentials", false, "log in as an OAuth client (service account)")
	flags.StringVar(&f.issuer, "issuer", "", "OpenID Connect issuer URL, such as https://sso.example.com/realms/coffer")
	flags.StringVar(&f.clientID, "client-id", "", "OAuth client ID (default coffer-cli with --device)")
	flags.BoolVar(&f.clientSecretStdin, "client-secret-stdin", false, "read the OAuth client secret from standard input")
	cmd.MarkFlagsMutuallyExclusive("username", "token-stdin", "device", "client-credentials")
	return cmd
}

func (a *app) runLogin(ctx context.Context, f loginFlags) error {
	cred, err := a.loginCredential(ctx, f)
	if err != nil {
		return err
	}
	store := a.credentials()
	auth, err := authenticator(ctx, store, a.settings.Server, cred)
	if err != nil {
		return err
	}
	c, err := client.New(a.settings.Server, client.Options{Auth: auth, Retry: client.RetryOptions{MaxAttempts: a.settings.Retries}})
	if err != nil {
		return usageError{err}
	}
	info, err := c.SystemInfo(ctx)
	if err != nil {
		return fmt.Errorf("check the credentials with %s: %w", a.settings.Server, err)
	}
	if err := store.put(a.settings.Server, &cred); err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(map[string]string{"server": a.settings.Server, "method": cred.Method, "server_version": info.Version})
	}
	fmt.Fprintf(a.streams.Out, "Logged in to %s (%s, server %s)\n", a.settings.Server, cred.Method, info.Version)
	return nil
}

// loginCredential builds the credential the flags describe.
func (a *app) loginCredential(ctx context.Context, f loginFlags) (credential, error) {
	stdin := bufio.NewReader(a.streams.In)
	readSecret := func(what string) (string, error) {
		line, err := stdin.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", usageError{fmt.Errorf("no %s on standard input: %w", what, err)}
		}
		return line, nil
	}
	switch {
	case f.username != "":
		if !f.passwordStdin {
			return credential{}, usageError{errors.New("--username needs --password-stdin, so the password stays out of the process list and shell history")}
		}
		password, err := readSecret("password")
		return credential{Method: methodBasic, Username: f.username, Password: password}, err
	case f.tokenStdin:
		token, err := readSecret("token")
		return credential{Method: methodToken, Token: token}, err
	case f.clientCredentials:
		if f.issuer == "" || f.clientID == "" || !f.clientSecretStdin {
			return credential{}, usageError{errors.New("--client-credentials needs --issuer, --client-id and --client-secret-stdin")}
		}
		secret, err := readSecret("client secret")
		return credential{Method: methodClientCredentials, Issuer: f.issuer, ClientID: f.clientID, ClientSecret: secret}, err
	case f.device:
		return a.deviceLogin(ctx, f)
	}
	return credential{}, usageError{errors.New("choose a login method: --username, --token-stdin, --client-credentials or --device")}
}

func (a *app) deviceLogin(ctx context.Context, f loginFlags) (credential, error) {
	if f.issuer == "" {
		return credential{}, usageError{errors.New("--device needs --issuer")}
	}
	if f.clientID == "" {
		f.clientID = "coffer-cli"
	}
	provider, err := client.Discover(ctx, nil, f.issuer)
	if err != nil {
		return credential{}, err
	}
	login := client.DeviceLogin{
		Provider: provider,
		ClientID: f.clientID,
		Prompt: func(code client.DeviceCode) {
			page := code.VerificationURIComplete
			if page == "" {
				page = code.VerificationURI
			}
			fmt.Fprintf(a.streams.Err, "To sign in, open %s and enter the code %s\n", page, code.UserCode)
		},
	}
	token, err := login.Run(ctx)
	if err != nil {
		return credential{}, err
	}
	return credential{Method: methodDevice, Issuer: f.issuer, ClientID: f.clientID, OAuth: fromOAuth(token)}, nil
}
