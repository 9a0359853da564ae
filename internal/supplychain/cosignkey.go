package supplychain

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM block types of cosign's encrypted private keys: current cosign
// writes the first, and keys of older versions carry the second.
const (
	PEMTypeEncryptedSigstoreKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	PEMTypeEncryptedCosignKey   = "ENCRYPTED COSIGN PRIVATE KEY"
)

// ErrWrongPassword reports an encrypted key that the password does not
// open. nacl/secretbox cannot tell a wrong password from a damaged file.
var ErrWrongPassword = errors.New("wrong password or damaged key")

// ScryptParams are the cost parameters of the scrypt key derivation.
type ScryptParams struct {
	N int `json:"N"`
	R int `json:"r"`
	P int `json:"p"`
}

// DefaultScryptParams are the parameters EncryptCosignKey uses when given
// the zero value.
var DefaultScryptParams = ScryptParams{N: 32768, R: 8, P: 1}

// maxScryptMemory bounds the memory, 128·N·r bytes, that a key file may
// make scrypt use, so a crafted file cannot exhaust the machine.
const maxScryptMemory = 1 << 30

// encryptedKey is the JSON inside an encrypted cosign key's PEM block.
// The byte slices are base64 in JSON.
type encryptedKey struct {
	KDF struct {
		Name   string       `json:"name"`
		Params ScryptParams `json:"params"`
		Salt   []byte       `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// DecryptCosignKey decodes an encrypted cosign private key (a PEM block
// of type ENCRYPTED SIGSTORE PRIVATE KEY or ENCRYPTED COSIGN PRIVATE KEY).
// The block holds JSON: scrypt parameters and salt, a nacl/secretbox nonce
// and the ciphertext. The 32-byte secretbox key is scrypt(password, salt),
// and the plaintext is a PKCS #8 private key.
func DecryptCosignKey(pemData, password []byte) (crypto.PrivateKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil || (block.Type != PEMTypeEncryptedSigstoreKey && block.Type != PEMTypeEncryptedCosignKey) {
		return nil, fmt.Errorf("encrypted cosign key: expected a PEM block of type %s", PEMTypeEncryptedSigstoreKey)
	}
	var enc encryptedKey
	if err := json.Unmarshal(block.Bytes, &enc); err != nil {
		return nil, fmt.Errorf("%w encrypted cosign key: %w", ErrMalformed, err)
	}
	if err := checkEncryptedKey(&enc); err != nil {
		return nil, err
	}
	p := enc.KDF.Params
	secret, err := scrypt.Key(password, enc.KDF.Salt, p.N, p.R, p.P, 32)
	if err != nil {
		return nil, fmt.Errorf("encrypted cosign key: scrypt: %w", err)
	}
	var key [32]byte
	var nonce [24]byte
	copy(key[:], secret)
	copy(nonce[:], enc.Cipher.Nonce)
	plain, ok := secretbox.Open(nil, enc.Ciphertext, &nonce, &key)
	if !ok {
		return nil, fmt.Errorf("encrypted cosign key: %w", ErrWrongPassword)
	}
	private, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return nil, fmt.Errorf("encrypted cosign key: the decrypted key is not PKCS #8: %w", err)
	}
	return private, nil
}

// checkEncryptedKey rejects unknown algorithms and parameters that scrypt
// or secretbox cannot use, or that would cost too much memory.
func checkEncryptedKey(enc *encryptedKey) error {
	p := enc.KDF.Params
	switch {
	case enc.KDF.Name != "scrypt":
		return fmt.Errorf("encrypted cosign key: %w: key derivation %q, expected scrypt", ErrUnsupported, enc.KDF.Name)
	case enc.Cipher.Name != "nacl/secretbox":
		return fmt.Errorf("encrypted cosign key: %w: cipher %q, expected nacl/secretbox", ErrUnsupported, enc.Cipher.Name)
	case len(enc.Cipher.Nonce) != 24:
		return fmt.Errorf("%w encrypted cosign key: the nonce has %d bytes, expected 24", ErrMalformed, len(enc.Cipher.Nonce))
	case len(enc.KDF.Salt) == 0 || len(enc.Ciphertext) <= secretbox.Overhead:
		return fmt.Errorf("%w encrypted cosign key: the salt or ciphertext is missing", ErrMalformed)
	case p.N <= 1 || p.N&(p.N-1) != 0 || p.R <= 0 || p.P <= 0 || p.P > 16:
		return fmt.Errorf("%w encrypted cosign key: invalid scrypt parameters N=%d r=%d p=%d", ErrMalformed, p.N, p.R, p.P)
	case int64(p.N)*int64(p.R)*128 > maxScryptMemory:
		return fmt.Errorf("encrypted cosign key: %w: scrypt parameters N=%d r=%d need more than 1 GiB of memory", ErrUnsupported, p.N, p.R)
	}
	return nil
}

// EncryptCosignKey encrypts a private key in cosign's format, the inverse
// of DecryptCosignKey, with a random salt and nonce. The zero params use
// DefaultScryptParams.
func EncryptCosignKey(key crypto.PrivateKey, password []byte, params ScryptParams) ([]byte, error) {
	if params == (ScryptParams{}) {
		params = DefaultScryptParams
	}
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encrypt cosign key: %w", err)
	}

	var enc encryptedKey
	enc.KDF.Name, enc.KDF.Params, enc.KDF.Salt = "scrypt", params, make([]byte, 32)
	enc.Cipher.Name, enc.Cipher.Nonce = "nacl/secretbox", make([]byte, 24)
	if _, err := rand.Read(enc.KDF.Salt); err != nil {
		return nil, fmt.Errorf("encrypt cosign key: %w", err)
	}
	if _, err := rand.Read(enc.Cipher.Nonce); err != nil {
		return nil, fmt.Errorf("encrypt cosign key: %w", err)
	}
	if err := checkEncryptedKey(&encryptedKey{KDF: enc.KDF, Cipher: enc.Cipher, Ciphertext: make([]byte, secretbox.Overhead+1)}); err != nil {
		return nil, err
	}

	secret, err := scrypt.Key(password, enc.KDF.Salt, params.N, params.R, params.P, 32)
	if err != nil {
		return nil, fmt.Errorf("encrypt cosign key: scrypt: %w", err)
	}
	var box [32]byte
	var nonce [24]byte
	copy(box[:], secret)
	copy(nonce[:], enc.Cipher.Nonce)
	enc.Ciphertext = secretbox.Seal(nil, plain, &nonce, &box)

	data, err := json.Marshal(enc)
	if err != nil {
		return nil, fmt.Errorf("encrypt cosign key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypeEncryptedSigstoreKey, Bytes: data}), nil
}

// IsEncryptedCosignKey reports whether pemData starts with an encrypted
// cosign key block.
func IsEncryptedCosignKey(pemData []byte) bool {
	block, _ := pem.Decode(pemData)
	return block != nil && (block.Type == PEMTypeEncryptedSigstoreKey || block.Type == PEMTypeEncryptedCosignKey)
}
