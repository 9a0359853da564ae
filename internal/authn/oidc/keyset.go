package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// maxDocumentBytes bounds a discovery document or JWKS response.
const maxDocumentBytes = 1 << 20

// fetchTimeout bounds one discovery and JWKS fetch.
const fetchTimeout = 10 * time.Second

// keySet caches the provider's signing keys by kid. A kid missing from
// the cache triggers a refetch, but at most one fetch starts per cooldown,
// whatever the number of tokens with unknown kids, and concurrent
// requests for a fetch share it. Keys older than maxAge are refetched on
// the next use so that keys the provider stopped publishing expire.
type keySet struct {
	client       *http.Client
	issuer       string
	discoveryURL string
	cooldown     time.Duration
	maxAge       time.Duration
	now          func() time.Time

	group singleflight.Group

	mu        sync.RWMutex
	jwksURL   string
	keys      map[string]jose.JSONWebKey
	fetched   time.Time // last successful fetch
	attempted time.Time // last fetch that started
}

// errCooldown reports a refetch skipped because the last one started less
// than a cooldown ago.
var errCooldown = errors.New("jwks fetched recently")

// key returns the signing key with the kid.
func (k *keySet) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	k.mu.RLock()
	key, ok := k.keys[kid]
	stale := k.now().Sub(k.fetched) > k.maxAge
	k.mu.RUnlock()
	if ok && !stale {
		return key, nil
	}

	err := k.refresh(ctx)
	k.mu.RLock()
	key, ok = k.keys[kid]
	empty := len(k.keys) == 0
	k.mu.RUnlock()
	switch {
	case ok:
		return key, nil // a failed refresh keeps the cached keys
	case ctx.Err() != nil:
		return jose.JSONWebKey{}, fmt.Errorf("look up key %q: %w", kid, ctx.Err())
	case empty && err != nil && !errors.Is(err, errCooldown):
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	case empty:
		return jose.JSONWebKey{}, fmt.Errorf("no signing keys fetched yet (the last fetch failed or the JWKS is empty): %w", ErrKeysUnavailable)
	default:
		return jose.JSONWebKey{}, fmt.Errorf("key %q is not in the provider's JWKS: %w", kid, ErrUnknownKey)
	}
}

// refresh fetches the JWKS unless a fetch started less than a cooldown
// ago. Callers that arrive while a fetch runs wait for its result.
func (k *keySet) refresh(ctx context.Context) error {
	ch := k.group.DoChan("jwks", func() (any, error) {
		k.mu.Lock()
		now := k.now()
		if !k.attempted.IsZero() && now.Sub(k.attempted) < k.cooldown {
			k.mu.Unlock()
			return nil, errCooldown
		}
		k.attempted = now
		k.mu.Unlock()

		// The fetch serves every waiting caller, so one caller's
		// cancellation must not fail it for the others.
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		keys, err := k.fetch(fetchCtx)
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		k.keys = keys
		k.fetched = now
		k.mu.Unlock()
		return nil, nil
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch resolves the JWKS URL through discovery when needed, then reads
// the signing keys.
func (k *keySet) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	k.mu.RLock()
	url := k.jwksURL
	k.mu.RUnlock()
	if url == "" {
		var err error
		if url, err = k.discover(ctx); err != nil {
			return nil, err
		}
		k.mu.Lock()
		k.jwksURL = url
		k.mu.Unlock()
	}

	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := k.getJSON(ctx, url, &set); err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue // a key type go-jose cannot read is not one we accept
		}
		if !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue // Keycloak publishes an RSA-OAEP encryption key next to the signing key
		}
		keys[key.KeyID] = key
	}
	return keys, nil
}

// discover reads the discovery document and returns its jwks_uri after
// checking that it names the configured issuer.
func (k *keySet) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, k.discoveryURL, &doc); err != nil {
		return "", fmt.Errorf("fetch discovery document: %w", err)
	}
	if doc.Issuer != k.issuer {
		return "", fmt.Errorf("discovery document %s names issuer %q, expected %q", k.discoveryURL, doc.Issuer, k.issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discovery document %s has no jwks_uri", k.discoveryURL)
	}
	return doc.JWKSURI, nil
}

func (k *keySet) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocumentBytes))
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentBytes)).Decode(out); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}

// ready returns nil when signing keys are cached. When none are, it
// fetches them first, at most once per cooldown as key does.
func (k *keySet) ready(ctx context.Context) error {
	if k.cached() {
		return nil
	}
	err := k.refresh(ctx)
	if k.cached() {
		return nil
	}
	if err != nil && !errors.Is(err, errCooldown) {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return fmt.Errorf("no signing keys fetched yet (the last fetch failed or the JWKS is empty): %w", ErrKeysUnavailable)
}

// cached reports whether the key set holds at least one key.
func (k *keySet) cached() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.keys) > 0
}
