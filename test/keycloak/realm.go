package keycloak

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the content of a realm file for cmd/mock-keycloak: the realms
// to create at start.
type Config struct {
	Realms []RealmConfig `yaml:"realms"`
}

// RealmConfig describes one realm. Lifetimes are in seconds; zero takes
// Keycloak's realm default.
type RealmConfig struct {
	Name string `yaml:"name"`
	// SignatureAlgorithm is the realm's default signature algorithm:
	// RS256 (default), PS256 or ES256.
	SignatureAlgorithm string `yaml:"signature_algorithm"`
	// AccessTokenLifespan defaults to 300 seconds.
	AccessTokenLifespan int `yaml:"access_token_lifespan"`
	// SSOSessionIdle is the lifetime of refresh tokens; default 1800.
	SSOSessionIdle int `yaml:"sso_session_idle"`
	// DeviceCodeLifespan defaults to 600 seconds, DevicePollInterval to 5.
	DeviceCodeLifespan int `yaml:"device_code_lifespan"`
	DevicePollInterval int `yaml:"device_poll_interval"`
	// SessionStateClaim adds the session_state claim that Keycloak 24 and
	// older put into tokens next to sid.
	SessionStateClaim bool `yaml:"session_state_claim"`
	// Roles are realm roles besides the defaults (default-roles-<realm>,
	// offline_access, uma_authorization) that every realm has.
	Roles   []string       `yaml:"roles"`
	Groups  []string       `yaml:"groups"` // full paths, such as /eng/platform; parents are created
	Clients []ClientConfig `yaml:"clients"`
	Users   []UserConfig   `yaml:"users"`
}

// ClientConfig describes a client of a realm.
type ClientConfig struct {
	ClientID string `yaml:"client_id"`
	// Secret makes the client confidential; a client without one is public.
	Secret string `yaml:"secret"`
	// ServiceAccount enables the client_credentials grant.
	ServiceAccount bool `yaml:"service_account"`
	// DirectAccessGrants enables the password grant.
	DirectAccessGrants bool `yaml:"direct_access_grants"`
	// DeviceGrant enables the device authorization grant.
	DeviceGrant bool `yaml:"device_grant"`
	// TokenExchange enables standard token exchange.
	TokenExchange bool `yaml:"token_exchange"`
	// Roles are the client roles the client defines.
	Roles []string `yaml:"roles"`
	// Audiences are the client ids that audience mappers add to aud.
	Audiences []string `yaml:"audiences"`
	// GroupsClaim names the claim of a group membership mapper; empty
	// means the client has no such mapper and tokens carry no groups.
	GroupsClaim string `yaml:"groups_claim"`
	// GroupsShortNames turns "Full group path" off on that mapper.
	GroupsShortNames bool `yaml:"groups_short_names"`
	// Lightweight issues lightweight access tokens (most claims dropped).
	Lightweight bool `yaml:"lightweight"`
	// AtJWTType sets the header typ of access tokens to at+jwt.
	AtJWTType bool `yaml:"at_jwt_type"`
	// DefaultScopes are the client scopes added to every token; default
	// basic, profile, email, roles, web-origins, acr.
	DefaultScopes []string `yaml:"default_scopes"`
	// OptionalScopes may be requested with the scope parameter; default
	// openid (always allowed), offline_access, microprofile-jwt.
	OptionalScopes []string `yaml:"optional_scopes"`
	// ServiceAccountRoles, ServiceAccountClientRoles and
	// ServiceAccountGroups are granted to the service-account user.
	ServiceAccountRoles       []string            `yaml:"service_account_roles"`
	ServiceAccountClientRoles map[string][]string `yaml:"service_account_client_roles"`
	ServiceAccountGroups      []string            `yaml:"service_account_groups"`
}

// UserConfig describes a user of a realm.
type UserConfig struct {
	// ID is the user's UUID; empty generates one.
	ID        string `yaml:"id"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	Email     string `yaml:"email"`
	FirstName string `yaml:"first_name"`
	LastName  string `yaml:"last_name"`
	// Disabled users cannot log in.
	Disabled    bool                `yaml:"disabled"`
	RealmRoles  []string            `yaml:"realm_roles"`
	ClientRoles map[string][]string `yaml:"client_roles"`
	Groups      []string            `yaml:"groups"` // full paths
}

// LoadConfig reads a realm file, rejecting unknown keys.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read realm file: %w", err)
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("realm file %s: %w", path, err)
	}
	return cfg, nil
}

// Keycloak's realm defaults.
const (
	defaultAccessTokenLifespan = 300
	defaultSSOSessionIdle      = 1800
	defaultDeviceCodeLifespan  = 600
	defaultDevicePollInterval  = 5
)

var (
	defaultClientScopes   = []string{"basic", "profile", "email", "roles", "web-origins", "acr"}
	defaultOptionalScopes = []string{"offline_access", "microprofile-jwt"}
	// accountRoles are the client roles of the built-in account client
	// that default-roles-<realm> grants to every user; they are why aud
	// contains "account" on a new realm.
	accountRoles = []string{"manage-account", "manage-account-links", "view-profile"}
)

func (c RealmConfig) withDefaults() RealmConfig {
	setDefault := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDefault(&c.AccessTokenLifespan, defaultAccessTokenLifespan)
	setDefault(&c.SSOSessionIdle, defaultSSOSessionIdle)
	setDefault(&c.DeviceCodeLifespan, defaultDeviceCodeLifespan)
	setDefault(&c.DevicePollInterval, defaultDevicePollInterval)
	if c.SignatureAlgorithm == "" {
		c.SignatureAlgorithm = "RS256"
	}
	return c
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.DefaultScopes == nil {
		c.DefaultScopes = defaultClientScopes
	}
	if c.OptionalScopes == nil {
		c.OptionalScopes = defaultOptionalScopes
	}
	return c
}

// user is a realm user, including the service-account users of clients.
type user struct {
	UserConfig
	serviceAccountOf string // client id, for service-account users
}

// groupPaths returns the user's group paths as the mapper renders them.
func (u *user) groupPaths(fullPath bool) []string {
	out := make([]string, 0, len(u.Groups))
	for _, g := range u.Groups {
		if !fullPath {
			g = g[strings.LastIndex(g, "/")+1:]
		}
		out = append(out, g)
	}
	return out
}

// hasRealmRole reports whether the user holds a realm role.
func (u *user) hasRealmRole(role string) bool { return slices.Contains(u.RealmRoles, role) }

// newUUID returns a random version 4 UUID, the form of Keycloak's ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// normaliseGroup checks a group path and returns it with its ancestors,
// parents first.
func normaliseGroup(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
		return nil, fmt.Errorf("invalid group path %q: expected a full path such as /eng/platform", path)
	}
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i])
		}
	}
	return append(out, path), nil
}
