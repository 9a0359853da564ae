// Package keycloak is a mock of Keycloak's OIDC surface for tests: realms,
// discovery, a JWKS with key rotation, the token endpoint (client
// credentials, password, refresh token, device authorization and token
// exchange grants), introspection, userinfo, revocation and logout, with
// Keycloak's claim layout and error bodies. Tests drive it through a Go
// API that also mints tokens with faults; cmd/mock-keycloak runs it on its
// own from a realm file. It aims to match Keycloak 26 where the two are
// compared; docs/keycloak.md lists what it leaves out.
package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Options configures a Server.
type Options struct {
	// PublicURL is the frontend base URL (scheme://host[:port]) that
	// issuers are built from, so tests can make the issuer differ from the
	// address that serves discovery and the JWKS. Default: the listener's
	// http:// URL.
	PublicURL string
	// RelativePath is Keycloak's --http-relative-path: "" (default, as
	// Keycloak 17 and newer) or "/auth" (as Keycloak 16 and older).
	RelativePath string
	// Now is the server's clock; default time.Now. Tests that give the
	// verifier under test a clock of its own pass the same one here.
	Now func() time.Time
}

// Server is a mock Keycloak. Its methods are safe for concurrent use.
type Server struct {
	opts Options

	mu          sync.Mutex
	realms      map[string]*realm
	clockOffset time.Duration

	listener net.Listener
	http     *http.Server
	baseURL  string
}

// realm is the state of one realm.
type realm struct {
	cfg      RealmConfig
	roles    []string
	groups   map[string]bool
	clients  map[string]*ClientConfig
	users    map[string]*user // by username
	keys     []*realmKey
	hmac     hmacKey
	sessions map[string]*session
	devices  map[string]*deviceGrant // by device_code
	revoked  map[string]bool         // access-token jti

	jwksFetches     int
	jwksFailure     int
	discoveryIssuer string
}

// session is a Keycloak user session, created by a login and ended by
// logout or revocation.
type session struct {
	id       string
	userID   string
	clientID string
	active   bool
}

// New returns a server with no realms. Call Start to serve it, or use
// Handler with a server of your own.
func New(opts Options) *Server {
	opts.RelativePath = strings.TrimSuffix(opts.RelativePath, "/")
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, realms: map[string]*realm{}}
}

// Start listens on addr (such as 127.0.0.1:0) and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.listener = l
	s.baseURL = "http://" + l.Addr().String()
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	s.mu.Unlock()
	go func() { _ = s.http.Serve(l) }()
	return nil
}

// Close stops the server started by Start.
func (s *Server) Close() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// URL returns the base URL of the listener, including the relative path,
// such as http://127.0.0.1:43127 or http://127.0.0.1:43127/auth.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL + s.opts.RelativePath
}

// Issuer returns the iss of a realm's tokens: the public base URL, the
// relative path and /realms/<name>, without a trailing slash.
func (s *Server) Issuer(realmName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuerLocked(realmName)
}

func (s *Server) issuerLocked(realmName string) string {
	base := s.opts.PublicURL
	if base == "" {
		base = s.baseURL
	}
	return strings.TrimSuffix(base, "/") + s.opts.RelativePath + "/realms/" + realmName
}

// now is the server's clock, shifted by SetClockOffset.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.opts.Now().Add(s.clockOffset) }

// SetClockOffset shifts the server's clock: the iat, exp and nbf of the
// tokens it issues, the expiry of device codes and the polling interval
// checks. Tests use it for skew and to pass time without sleeping.
func (s *Server) SetClockOffset(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clockOffset = d
}

// AdvanceClock moves the server's clock forward by d.
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clockOffset += d
}

// JWKSFetches returns how many times the realm's JWKS was requested.
func (s *Server) JWKSFetches(realmName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.realms[realmName]; r != nil {
		return r.jwksFetches
	}
	return 0
}

// FailJWKS makes the realm's JWKS endpoint respond with status (such as
// 503); 0 restores it.
func (s *Server) FailJWKS(realmName string, status int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.realmLocked(realmName)
	if err == nil {
		r.jwksFailure = status
	}
	return err
}

// SetDiscoveryIssuer makes the realm's discovery document announce
// another issuer; "" restores the real one.
func (s *Server) SetDiscoveryIssuer(realmName, issuer string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.realmLocked(realmName)
	if err == nil {
		r.discoveryIssuer = issuer
	}
	return err
}

var errNotFound = errors.New("not found")

func (s *Server) realmLocked(name string) (*realm, error) {
	r := s.realms[name]
	if r == nil {
		return nil, fmt.Errorf("realm %q: %w", name, errNotFound)
	}
	return r, nil
}

// AddRealm creates a realm with its roles, groups, clients and users, and
// generates its keys: one active signing key for the default algorithm,
// an RSA-OAEP encryption key and the HMAC key of refresh tokens.
func (s *Server) AddRealm(cfg RealmConfig) error {
	cfg = cfg.withDefaults()
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, "/?#") {
		return fmt.Errorf("invalid realm name %q", cfg.Name)
	}
	sig, err := generateKey(cfg.Name, jose.SignatureAlgorithm(cfg.SignatureAlgorithm))
	if err != nil {
		return fmt.Errorf("realm %s: %w", cfg.Name, err)
	}
	enc, err := generateKey(cfg.Name, "RSA-OAEP")
	if err != nil {
		return fmt.Errorf("realm %s: %w", cfg.Name, err)
	}
	r := &realm{
		cfg:      cfg,
		roles:    []string{"default-roles-" + cfg.Name, "offline_access", "uma_authorization"},
		groups:   map[string]bool{},
		clients:  map[string]*ClientConfig{"account": {ClientID: "account", Roles: accountRoles}},
		users:    map[string]*user{},
		keys:     []*realmKey{sig, enc},
		hmac:     newHMACKey(),
		sessions: map[string]*session{},
		devices:  map[string]*deviceGrant{},
		revoked:  map[string]bool{},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.realms[cfg.Name] != nil {
		return fmt.Errorf("realm %q already exists", cfg.Name)
	}
	for _, role := range cfg.Roles {
		r.addRole(role)
	}
	for _, g := range cfg.Groups {
		if err := r.addGroup(g); err != nil {
			return fmt.Errorf("realm %s: %w", cfg.Name, err)
		}
	}
	for _, c := range cfg.Clients {
		if r.clients[c.ClientID] != nil || c.ClientID == "" {
			return fmt.Errorf("realm %s: invalid or duplicate client id %q", cfg.Name, c.ClientID)
		}
		c = c.withDefaults()
		r.clients[c.ClientID] = &c
	}
	for _, c := range cfg.Clients {
		if err := r.addServiceAccount(r.clients[c.ClientID]); err != nil {
			return fmt.Errorf("realm %s: %w", cfg.Name, err)
		}
	}
	for _, u := range cfg.Users {
		if _, err := r.addUser(u); err != nil {
			return fmt.Errorf("realm %s: %w", cfg.Name, err)
		}
	}
	s.realms[cfg.Name] = r
	return nil
}

// AddRealmRole adds a realm role.
func (s *Server) AddRealmRole(realmName, role string) error {
	return s.withRealm(realmName, func(r *realm) error { r.addRole(role); return nil })
}

// AddGroup adds a group by full path, with its missing parents.
func (s *Server) AddGroup(realmName, path string) error {
	return s.withRealm(realmName, func(r *realm) error { return r.addGroup(path) })
}

// AddClient adds a client; with ServiceAccount its service-account user
// is created too.
func (s *Server) AddClient(realmName string, c ClientConfig) error {
	return s.withRealm(realmName, func(r *realm) error {
		if r.clients[c.ClientID] != nil || c.ClientID == "" {
			return fmt.Errorf("invalid or duplicate client id %q", c.ClientID)
		}
		c = c.withDefaults()
		r.clients[c.ClientID] = &c
		if err := r.addServiceAccount(&c); err != nil {
			delete(r.clients, c.ClientID)
			return err
		}
		return nil
	})
}

// AddUser adds a user and returns its id.
func (s *Server) AddUser(realmName string, u UserConfig) (string, error) {
	var id string
	err := s.withRealm(realmName, func(r *realm) error {
		created, err := r.addUser(u)
		if err == nil {
			id = created.ID
		}
		return err
	})
	return id, err
}

// UserID returns the id of a user by username; a client's service-account
// user is named service-account-<client id>.
func (s *Server) UserID(realmName, username string) (string, error) {
	var id string
	err := s.withRealm(realmName, func(r *realm) error {
		u := r.users[username]
		if u == nil {
			return fmt.Errorf("user %q: %w", username, errNotFound)
		}
		id = u.ID
		return nil
	})
	return id, err
}

// SetUserEnabled enables or disables a user.
func (s *Server) SetUserEnabled(realmName, username string, enabled bool) error {
	return s.withRealm(realmName, func(r *realm) error {
		u := r.users[username]
		if u == nil {
			return fmt.Errorf("user %q: %w", username, errNotFound)
		}
		u.Disabled = !enabled
		return nil
	})
}

func (s *Server) withRealm(name string, fn func(*realm) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.realmLocked(name)
	if err != nil {
		return err
	}
	if err := fn(r); err != nil {
		return fmt.Errorf("realm %s: %w", name, err)
	}
	return nil
}

func (r *realm) addRole(role string) {
	if !slices.Contains(r.roles, role) {
		r.roles = append(r.roles, role)
	}
}

func (r *realm) addGroup(path string) error {
	paths, err := normaliseGroup(path)
	if err != nil {
		return err
	}
	for _, p := range paths {
		r.groups[p] = true
	}
	return nil
}

func (r *realm) addServiceAccount(c *ClientConfig) error {
	if !c.ServiceAccount {
		return nil
	}
	if c.Secret == "" {
		return fmt.Errorf("client %s: a service account needs a confidential client (set a secret)", c.ClientID)
	}
	_, err := r.addUserInternal(UserConfig{
		Username:    "service-account-" + c.ClientID,
		RealmRoles:  c.ServiceAccountRoles,
		ClientRoles: c.ServiceAccountClientRoles,
		Groups:      c.ServiceAccountGroups,
	}, c.ClientID)
	return err
}

func (r *realm) addUser(u UserConfig) (*user, error) {
	if strings.HasPrefix(u.Username, "service-account-") {
		return nil, fmt.Errorf("user %q: the service-account- prefix is reserved", u.Username)
	}
	return r.addUserInternal(u, "")
}

func (r *realm) addUserInternal(u UserConfig, serviceAccountOf string) (*user, error) {
	if u.Username == "" || r.users[u.Username] != nil {
		return nil, fmt.Errorf("invalid or duplicate username %q", u.Username)
	}
	for _, role := range u.RealmRoles {
		if !slices.Contains(r.roles, role) {
			return nil, fmt.Errorf("user %s: realm role %q not found", u.Username, role)
		}
	}
	for client, roles := range u.ClientRoles {
		c := r.clients[client]
		if c == nil {
			return nil, fmt.Errorf("user %s: client %q not found", u.Username, client)
		}
		for _, role := range roles {
			if !slices.Contains(c.Roles, role) {
				return nil, fmt.Errorf("user %s: client role %s/%s not found", u.Username, client, role)
			}
		}
	}
	for _, g := range u.Groups {
		if !r.groups[g] {
			return nil, fmt.Errorf("user %s: group %q not found", u.Username, g)
		}
	}
	if u.ID == "" {
		u.ID = newUUID()
	}
	created := &user{UserConfig: u, serviceAccountOf: serviceAccountOf}
	r.users[u.Username] = created
	return created, nil
}

func (r *realm) userByID(id string) *user {
	for _, u := range r.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}
