package authn

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// serverKeyFile is the name, inside the data directory, of the 256-bit key
// that encrypts secrets at rest (mode 0600). Losing it makes the stored
// secrets unreadable; it is created on first use.
const serverKeyFile = "server.key"

// loadServerKey reads the data directory's server key, creating it on
// first use.
func loadServerKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, serverKeyFile)
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != 32 {
			return nil, fmt.Errorf("server key %s has %d bytes, want 32", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read server key: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate server key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("store server key: %w", err)
	}
	return key, nil
}

// seal encrypts plaintext with AES-256-GCM; the nonce leads the result.
func seal(key, plaintext []byte) ([]byte, error) {
	return sealWith(key, plaintext, nil)
}

// sealWith is seal with associated data, which open must be given again.
func sealWith(key, plaintext, associated []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, associated), nil
}

// open decrypts what seal produced.
func open(key, sealed []byte) ([]byte, error) {
	return openWith(key, sealed, nil)
}

// openWith decrypts what sealWith produced with the same associated data.
func openWith(key, sealed, associated []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed secret is too short")
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, associated)
	if err != nil {
		return nil, fmt.Errorf("decrypt secret: %w", err)
	}
	return plaintext, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	return cipher.NewGCM(block)
}
