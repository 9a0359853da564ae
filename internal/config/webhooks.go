package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// Webhooks configures the event outbox and webhook delivery.
type Webhooks struct {
	// Enabled records an event for every manifest, tag and object change
	// and runs the delivery dispatcher. Default true.
	Enabled bool `yaml:"enabled"`
	// MaxAttempts is how many times a delivery is tried before it is
	// dead-lettered. Default 10.
	MaxAttempts int `yaml:"max_attempts"`
	// BaseBackoff is the pause before the first retry; each later retry
	// waits twice as long, up to MaxBackoff, with up to half dropped at
	// random. Defaults 10s and 1h.
	BaseBackoff time.Duration `yaml:"base_backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
	// Timeout bounds one delivery request. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// PollInterval is how often an idle dispatcher looks for new events.
	// Default 1s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Retention is how long delivered and dead-lettered events stay in the
	// outbox and the delivery log. Default 168h (7 days).
	Retention time.Duration `yaml:"retention"`
	// Subscriptions are the subscribers from the configuration. In the
	// environment, COFFER_WEBHOOKS_SUBSCRIPTIONS takes a JSON array.
	Subscriptions []WebhookSubscription `yaml:"subscriptions"`
}

// WebhookSubscription is one subscriber from the configuration.
type WebhookSubscription struct {
	// Name identifies the subscription; its ID is "config-<name>".
	Name string `yaml:"name" json:"name"`
	// URL receives the events as HTTP POST requests.
	URL string `yaml:"url" json:"url"`
	// Secret is the HMAC-SHA256 key, at least 16 characters.
	Secret string `yaml:"secret" json:"secret"`
	// Types are event type globs; empty delivers every type.
	Types []string `yaml:"types" json:"types"`
	// Repositories and Buckets are name globs; both empty delivers every
	// repository and bucket.
	Repositories []string `yaml:"repositories" json:"repositories"`
	Buckets      []string `yaml:"buckets" json:"buckets"`
}

// defaultWebhooks are the delivery settings a newcomer gets.
var defaultWebhooks = Webhooks{
	Enabled:      true,
	MaxAttempts:  10,
	BaseBackoff:  10 * time.Second,
	MaxBackoff:   time.Hour,
	Timeout:      10 * time.Second,
	PollInterval: time.Second,
	Retention:    7 * 24 * time.Hour,
}

// subscriptionName is the form of a subscription name.
var subscriptionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// MinSecretLength is the shortest webhook secret accepted.
const MinSecretLength = 16

// validate checks the delivery settings and every subscription.
func (w Webhooks) validate() []error {
	var errs []error
	for key, d := range map[string]time.Duration{
		"base_backoff": w.BaseBackoff, "max_backoff": w.MaxBackoff, "timeout": w.Timeout,
		"poll_interval": w.PollInterval, "retention": w.Retention,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("webhooks.%s: must be positive, got %s", key, d))
		}
	}
	if w.BaseBackoff > w.MaxBackoff {
		errs = append(errs, fmt.Errorf("webhooks.base_backoff: must not exceed max_backoff (%s), got %s", w.MaxBackoff, w.BaseBackoff))
	}
	if w.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("webhooks.max_attempts: must be at least 1, got %d", w.MaxAttempts))
	}
	seen := map[string]bool{}
	for i, s := range w.Subscriptions {
		if err := ValidateSubscription(s.Name, s.URL, s.Secret); err != nil {
			errs = append(errs, fmt.Errorf("webhooks.subscriptions[%d]: %w", i, err))
		}
		if s.Secret == "" {
			errs = append(errs, fmt.Errorf("webhooks.subscriptions[%d]: secret must be set (at least %d characters)", i, MinSecretLength))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("webhooks.subscriptions[%d]: name %q is used twice", i, s.Name))
		}
		seen[s.Name] = true
	}
	return errs
}

// ValidateSubscription checks a subscription's name, URL and secret; the
// management API uses it too.
func ValidateSubscription(name, rawURL, secret string) error {
	var errs []error
	if !subscriptionName.MatchString(name) {
		errs = append(errs, fmt.Errorf("invalid name %q: use 1 to 63 lowercase letters, digits and '-', starting with a letter or digit", name))
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("invalid url %q: expected an absolute http:// or https:// URL", rawURL))
	}
	if secret != "" && len(secret) < MinSecretLength {
		errs = append(errs, fmt.Errorf("secret is %d characters long, want at least %d", len(secret), MinSecretLength))
	}
	return errors.Join(errs...)
}
