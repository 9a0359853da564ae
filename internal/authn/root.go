// Package authn turns request credentials into a Principal. This version
// supports the root user. Keycloak tokens, personal access tokens and S3
// access keys are meant to plug in behind the same Authenticator seam.
package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Principal is the identity a request acts as.
type Principal struct {
	// Subject identifies the principal, for example "root".
	Subject string
	// Method names how the principal authenticated, for example "basic".
	Method string
}

// ErrInvalidCredentials reports credentials that do not match any identity.
var ErrInvalidCredentials = errors.New("invalid credentials")

// ErrUnavailable reports credentials that could not be checked because a
// dependency, such as the identity provider's key set, is unavailable.
var ErrUnavailable = errors.New("credential check unavailable")

// ErrUnknownAccessKey reports an S3 access key that no identity owns.
var ErrUnknownAccessKey = errors.New("unknown access key")

// credentialsFile is the name, inside the data directory, of the file
// that keeps generated root credentials (the password only as a bcrypt hash).
const credentialsFile = "root-credentials.json"

type storedCredentials struct {
	User           string `json:"user"`
	PasswordBcrypt []byte `json:"password_bcrypt"`
	// PasswordSealed is the password encrypted with the server key: S3
	// signatures need the secret itself, not a hash of it.
	PasswordSealed []byte `json:"password_sealed"`
}

// Root verifies the root user's credentials. A password from the
// configuration is checked against its SHA-256. A generated password is
// checked with bcrypt once and then remembered as a SHA-256, so that later
// requests cost a hash instead of a bcrypt run.
type Root struct {
	user     string
	secret   string // the password, for S3 signature verification
	bcrypt   []byte
	mu       sync.RWMutex
	verified [][32]byte
}

// LoadRoot returns the root credentials. With user and password set (from
// configuration) they are used as they are. Otherwise the credentials
// stored in dataDir are loaded, or generated on first start: then the
// password is written once to announce and only its hash is stored.
func LoadRoot(dataDir, user, password string, announce io.Writer) (*Root, error) {
	if user != "" {
		// The configured password is in memory anyway, so a SHA-256 of it
		// is all Verify needs; bcrypt protects only the stored file.
		return &Root{user: user, secret: password, verified: [][32]byte{sha256.Sum256([]byte(password))}}, nil
	}

	path := filepath.Join(dataDir, credentialsFile)
	data, err := os.ReadFile(path)
	if err == nil {
		var stored storedCredentials
		if err := json.Unmarshal(data, &stored); err != nil || stored.User == "" {
			return nil, fmt.Errorf("read root credentials %s: invalid content; delete the file to generate new credentials", path)
		}
		key, err := loadServerKey(dataDir)
		if err != nil {
			return nil, err
		}
		secret, err := open(key, stored.PasswordSealed)
		if err != nil {
			return nil, fmt.Errorf("read root credentials %s: %w; delete the file to generate new credentials", path, err)
		}
		return &Root{user: stored.User, secret: string(secret), bcrypt: stored.PasswordBcrypt}, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read root credentials: %w", err)
	}
	return generateRoot(dataDir, path, announce)
}

func generateRoot(dataDir, path string, announce io.Writer) (*Root, error) {
	user := "coffer-" + randomString(8, lowerAlphabet)
	password := randomString(32, passwordAlphabet)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash root password: %w", err)
	}
	key, err := loadServerKey(dataDir)
	if err != nil {
		return nil, err
	}
	sealed, err := seal(key, []byte(password))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(storedCredentials{User: user, PasswordBcrypt: hash, PasswordSealed: sealed})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("store root credentials: %w", err)
	}
	_, err = fmt.Fprintf(announce, "\nGenerated root credentials (shown only this once; set COFFER_ROOT_USER and COFFER_ROOT_PASSWORD to choose your own):\n  user:     %s\n  password: %s\n\n", user, password)
	if err != nil {
		return nil, fmt.Errorf("print generated root credentials: %w; delete %s and start again", err, path)
	}
	return &Root{user: user, secret: password, bcrypt: hash}, nil
}

// Lookup returns the secret of the root access key for S3 signature
// verification: the root user is the access key, its password the secret.
func (r *Root) Lookup(_ context.Context, accessKey string) (string, error) {
	if subtle.ConstantTimeCompare([]byte(accessKey), []byte(r.user)) != 1 {
		return "", fmt.Errorf("access key %q: %w", accessKey, ErrUnknownAccessKey)
	}
	return r.secret, nil
}

// User returns the root user name.
func (r *Root) User() string { return r.user }

// Verify checks a user name and password against the root credentials.
func (r *Root) Verify(user, password string) (Principal, error) {
	if subtle.ConstantTimeCompare([]byte(user), []byte(r.user)) != 1 {
		return Principal{}, ErrInvalidCredentials
	}
	sum := sha256.Sum256([]byte(password))
	r.mu.RLock()
	for _, known := range r.verified {
		if subtle.ConstantTimeCompare(known[:], sum[:]) == 1 {
			r.mu.RUnlock()
			return Principal{Subject: "root", Method: "basic"}, nil
		}
	}
	r.mu.RUnlock()

	if r.bcrypt == nil || bcrypt.CompareHashAndPassword(r.bcrypt, []byte(password)) != nil {
		return Principal{}, ErrInvalidCredentials
	}
	r.mu.Lock()
	if len(r.verified) < 4 {
		r.verified = append(r.verified, sum)
	}
	r.mu.Unlock()
	return Principal{Subject: "root", Method: "basic"}, nil
}

const (
	lowerAlphabet    = "abcdefghijklmnopqrstuvwxyz0123456789"
	passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	var b [1]byte
	for i := 0; i < n; {
		if _, err := rand.Read(b[:]); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		if int(b[0]) < limit {
			out[i] = alphabet[int(b[0])%len(alphabet)]
			i++
		}
	}
	return string(out)
}
