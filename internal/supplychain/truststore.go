package supplychain

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ErrInvalidTrustStore reports a trust store definition that cannot be used.
var ErrInvalidTrustStore = errors.New("invalid trust store")

// TrustStoreConfig is a trust store as the management API accepts it and
// the metadata store keeps it: the trust material for one scope.
type TrustStoreConfig struct {
	Scope Scope `json:"scope"`
	// CosignKeys are PEM public keys (cosign.pub) that sign cosign
	// signatures, Sigstore bundles and DSSE attestations.
	CosignKeys []PEMEntry `json:"cosign_keys,omitempty"`
	// NotationCertificates are the CA or self-signed certificates that
	// notation signing certificates must chain to.
	NotationCertificates []PEMEntry    `json:"notation_certificates,omitempty"`
	NotationPolicy       NotationRules `json:"notation_policy,omitzero"`
	// SigstoreTrustedRoot is an offline Sigstore trusted_root.json. It is
	// stored for keyless verification, which is not implemented yet.
	SigstoreTrustedRoot json.RawMessage `json:"sigstore_trusted_root,omitempty"`
	// Policy, when set, is checked on pulls and downloads in the scope.
	Policy *Policy `json:"policy,omitempty"`
}

// PEMEntry is one named PEM document.
type PEMEntry struct {
	Name string `json:"name"`
	PEM  string `json:"pem"`
}

// NotationRules is the trust policy subset of a notation trust store.
type NotationRules struct {
	// Level is strict (the default), permissive, audit or skip.
	Level string `json:"level,omitempty"`
	// TrustedIdentities are "*" or "x509.subject: <DN>" values.
	TrustedIdentities []string `json:"trusted_identities,omitempty"`
}

// Scope selects what a trust store applies to: repositories whose names
// match a glob, or the objects of one bucket under a key prefix. In the
// glob, "*" matches within one path segment and "**" across segments.
type Scope struct {
	Repositories string `json:"repositories,omitempty"`
	Bucket       string `json:"bucket,omitempty"`
	Prefix       string `json:"prefix,omitempty"`
}

// TrustStore is a validated trust store, ready to verify with.
type TrustStore struct {
	Name     string
	Config   TrustStoreConfig
	Keyring  Keyring
	Notation NotationPolicy
	// Fingerprints are the SHA-256 fingerprints (hex) of the notation
	// certificates, in order.
	Fingerprints []string
	Created      time.Time
	Updated      time.Time
	repositories *regexp.Regexp
}

var (
	trustStoreName  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	repositoryGlob  = regexp.MustCompile(`^[a-z0-9*][a-z0-9._/*-]*$`)
	bucketName      = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	trustedRootType = "application/vnd.dev.sigstore.trustedroot"
)

// ParseTrustStoreConfig decodes a trust store definition, rejecting unknown
// fields, and validates it.
func ParseTrustStoreConfig(name string, document []byte) (*TrustStore, error) {
	var config TrustStoreConfig
	dec := json.NewDecoder(bytes.NewReader(document))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&config); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidTrustStore, name, err)
	}
	return NewTrustStore(name, config)
}

// NewTrustStore validates config and parses its keys and certificates.
func NewTrustStore(name string, config TrustStoreConfig) (*TrustStore, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidTrustStore, name, fmt.Sprintf(format, args...))
	}
	if !trustStoreName.MatchString(name) {
		return nil, invalid("the name must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	ts := &TrustStore{Name: name, Config: config}
	if err := ts.compileScope(); err != nil {
		return nil, invalid("%v", err)
	}
	if len(config.CosignKeys) == 0 && len(config.NotationCertificates) == 0 && len(config.SigstoreTrustedRoot) == 0 {
		return nil, invalid("it holds no cosign key, notation certificate or Sigstore trusted root")
	}
	for i, entry := range config.CosignKeys {
		if entry.Name == "" {
			return nil, invalid("cosign_keys[%d].name is missing", i)
		}
		key, err := ParsePublicKey(entry.Name, []byte(entry.PEM))
		if err != nil {
			return nil, invalid("cosign_keys[%d]: %v", i, err)
		}
		ts.Keyring.Keys = append(ts.Keyring.Keys, key)
	}
	if err := ts.compileNotation(); err != nil {
		return nil, invalid("%v", err)
	}
	if config.Policy != nil {
		if err := config.Policy.validate(); err != nil {
			return nil, invalid("%v", err)
		}
	}
	if len(config.SigstoreTrustedRoot) > 0 {
		var root struct {
			MediaType string `json:"mediaType"`
		}
		if err := json.Unmarshal(config.SigstoreTrustedRoot, &root); err != nil || !strings.HasPrefix(root.MediaType, trustedRootType) {
			return nil, invalid("sigstore_trusted_root is not a JSON object with a mediaType of %s", trustedRootType)
		}
	}
	return ts, nil
}

// CompileRepositoryGlob compiles a glob over repository names, in which
// "*" matches within one path segment and "**" across segments.
func CompileRepositoryGlob(glob string) (*regexp.Regexp, error) {
	if !repositoryGlob.MatchString(glob) {
		return nil, fmt.Errorf("%q is not a repository name glob", glob)
	}
	pattern := regexp.QuoteMeta(glob)
	pattern = strings.ReplaceAll(pattern, `\*\*`, `.*`)
	pattern = strings.ReplaceAll(pattern, `\*`, `[^/]*`)
	return regexp.MustCompile("^" + pattern + "$"), nil
}

func (ts *TrustStore) compileScope() error {
	s := ts.Config.Scope
	switch {
	case s.Repositories != "" && (s.Bucket != "" || s.Prefix != ""):
		return errors.New("scope names both repositories and a bucket; use one trust store for each")
	case s.Repositories != "":
		re, err := CompileRepositoryGlob(s.Repositories)
		if err != nil {
			return fmt.Errorf("scope.repositories: %w", err)
		}
		ts.repositories = re
	case s.Bucket != "":
		if !bucketName.MatchString(s.Bucket) {
			return fmt.Errorf("scope.bucket %q is not a bucket name", s.Bucket)
		}
	default:
		return errors.New("scope needs repositories (a glob) or a bucket")
	}
	return nil
}

func (ts *TrustStore) compileNotation() error {
	rules := ts.Config.NotationPolicy
	level, err := ParseVerificationLevel(rules.Level)
	if err != nil {
		return fmt.Errorf("notation_policy: %w", err)
	}
	ts.Notation = NotationPolicy{Level: level, TrustedIdentities: rules.TrustedIdentities}
	for i, entry := range ts.Config.NotationCertificates {
		if entry.Name == "" {
			return fmt.Errorf("notation_certificates[%d].name is missing", i)
		}
		certs, err := ParseCertificates(entry.Name, []byte(entry.PEM))
		if err != nil {
			return fmt.Errorf("notation_certificates[%d]: %w", i, err)
		}
		for _, cert := range certs {
			ts.Notation.TrustAnchors = append(ts.Notation.TrustAnchors, cert)
			ts.Fingerprints = append(ts.Fingerprints, fingerprint(cert))
		}
	}
	if len(ts.Notation.TrustAnchors) > 0 && len(rules.TrustedIdentities) == 0 {
		return errors.New(`notation_policy.trusted_identities is required with notation certificates; use ["*"] to trust every identity the certificates vouch for`)
	}
	for i, identity := range rules.TrustedIdentities {
		dn, ok := strings.CutPrefix(identity, "x509.subject:")
		if identity != "*" && (!ok || len(parseDN(dn)) == 0) {
			return fmt.Errorf(`notation_policy.trusted_identities[%d] %q is neither "*" nor "x509.subject: <DN>"`, i, identity)
		}
	}
	return nil
}

func fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// CoversRepository reports whether the trust store applies to repo.
func (ts *TrustStore) CoversRepository(repo string) bool {
	return ts.repositories != nil && ts.repositories.MatchString(repo)
}

// CoversObject reports whether the trust store applies to the object.
func (ts *TrustStore) CoversObject(bucket, key string) bool {
	return ts.Config.Scope.Bucket == bucket && strings.HasPrefix(key, ts.Config.Scope.Prefix)
}

// Document encodes the trust store definition for the metadata store.
func (ts *TrustStore) Document() []byte {
	document, _ := json.Marshal(ts.Config) // plain structs and RawMessage always encode
	return document
}
