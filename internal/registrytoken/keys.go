// Package registrytoken issues and verifies the registry tokens of the
// Docker registry token protocol: short-lived JWTs that Coffer's token
// endpoint hands to OCI clients and that the /v2/ API accepts as bearer
// tokens. The package has no HTTP code.
package registrytoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/scrypt"
)

// keyIDPrefix starts the kid of every registry token. Bearer tokens whose
// kid lacks it are left to the OpenID Connect verifier.
const keyIDPrefix = "coffer-registry-"

// DefaultRotation is how long one signing key is used before the next one
// takes over.
const DefaultRotation = 24 * time.Hour

// scrypt parameters of the master key: 32 MiB of memory and about 100 ms of
// one core per derivation (measured on a 2-vCPU VM), paid once at start.
// They make guessing a weak root password from a token expensive.
const (
	scryptN      = 1 << 15
	scryptR      = 8
	scryptP      = 1
	masterKeyLen = 32
)

// scryptSalt separates the master key from any other use of the secret.
var scryptSalt = []byte("coffer registry token signing keys v1")

// Keys derives the rotating HMAC-SHA256 signing keys of registry tokens
// from one secret. Every replica configured with the same secret derives
// the same keys, so a token that one replica issues verifies on all of
// them without shared state. The key of rotation period n is
// HMAC-SHA256(master, "period <n>"), where the master key is the scrypt
// hash of the secret.
type Keys struct {
	master   []byte
	rotation time.Duration
}

// DeriveKeys derives the signing keys from secret, rotating every rotation
// (DefaultRotation when zero or negative).
func DeriveKeys(secret []byte, rotation time.Duration) (*Keys, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("derive registry token keys: the secret is empty")
	}
	if rotation <= 0 {
		rotation = DefaultRotation
	}
	master, err := scrypt.Key(secret, scryptSalt, scryptN, scryptR, scryptP, masterKeyLen)
	if err != nil {
		return nil, fmt.Errorf("derive registry token keys: %w", err)
	}
	return &Keys{master: master, rotation: rotation}, nil
}

// period returns the rotation period that contains t.
func (k *Keys) period(t time.Time) int64 {
	return t.Unix() / int64(k.rotation/time.Second)
}

// signingKey returns the key id and key that sign tokens at time t.
func (k *Keys) signingKey(t time.Time) (string, []byte) {
	p := k.period(t)
	return keyIDPrefix + strconv.FormatInt(p, 10), k.periodKey(p)
}

// verificationKey returns the key of kid when kid names the period of t, the
// one before it (tokens issued just before a rotation) or the one after it
// (a replica whose clock is slightly ahead). Other key ids are rejected.
func (k *Keys) verificationKey(kid string, t time.Time) ([]byte, bool) {
	digits, ok := strings.CutPrefix(kid, keyIDPrefix)
	if !ok {
		return nil, false
	}
	p, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strconv.FormatInt(p, 10) != digits {
		return nil, false
	}
	current := k.period(t)
	if p < current-1 || p > current+1 {
		return nil, false
	}
	return k.periodKey(p), true
}

func (k *Keys) periodKey(p int64) []byte {
	mac := hmac.New(sha256.New, k.master)
	mac.Write([]byte("period " + strconv.FormatInt(p, 10)))
	return mac.Sum(nil)
}
