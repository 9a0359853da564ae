package authn

import "fmt"

// Sealer encrypts secrets at rest and in tokens with the server key
// (AES-256-GCM). Every replica that shares the data directory's server.key,
// or a copy of it, opens what any other sealed.
type Sealer struct {
	key []byte
}

// LoadSealer returns a Sealer over the server key of dataDir, creating the
// key on first use.
func LoadSealer(dataDir string) (*Sealer, error) {
	key, err := loadServerKey(dataDir)
	if err != nil {
		return nil, err
	}
	return &Sealer{key: key}, nil
}

// NewSealer returns a Sealer over a 32-byte key, for tests.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealing key has %d bytes, want 32", len(key))
	}
	return &Sealer{key: key}, nil
}

// Seal encrypts plaintext and binds it to associated, which Open must be
// given again: a secret sealed for one access key does not open for
// another.
func (s *Sealer) Seal(plaintext, associated []byte) ([]byte, error) {
	return sealWith(s.key, plaintext, associated)
}

// Open decrypts what Seal produced with the same associated data.
func (s *Sealer) Open(sealed, associated []byte) ([]byte, error) {
	return openWith(s.key, sealed, associated)
}
