package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name of coffer's entries in the OS
// keyring; each entry's user is the server URL.
const keyringService = "coffer"

// keyringAPI is the part of the OS keyring that the CLI uses.
// systemKeyring implements it with github.com/zalando/go-keyring: the
// Secret Service on Linux, the Keychain on macOS and the Credential
// Manager on Windows.
type keyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

type systemKeyring struct{}

func (systemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (systemKeyring) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}
func (systemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// chooseCredentialStore returns the store of mode: "file" the file,
// "keyring" the keyring, and "auto" the keyring when a lookup in it
// succeeds and the file otherwise. A machine without a keyring, such as a
// headless Linux host without a Secret Service, so falls back to the file
// without a message.
func chooseCredentialStore(mode string, file fileStore, kr keyringAPI) credentialStore {
	switch mode {
	case "file":
		return file
	case "keyring":
		return keyringStore{keyring: kr, file: file}
	}
	if _, err := kr.Get(keyringService, "probe"); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return file
	}
	return keyringStore{keyring: kr, file: file}
}

// keyringStore keeps each server's credential as JSON in the OS keyring.
// Credentials that an older version stored in the file are still read
// from there, and moved to the keyring on the next login. A credential
// too large for the keyring (Windows and macOS limit the size) stays in
// the file.
type keyringStore struct {
	keyring keyringAPI
	file    fileStore
}

func (s keyringStore) get(server string) (credential, bool, error) {
	data, err := s.keyring.Get(keyringService, normalizeServer(server))
	if errors.Is(err, keyring.ErrNotFound) {
		return s.file.get(server)
	}
	if err != nil {
		return credential{}, false, fmt.Errorf("read credentials of %s from the OS keyring: %w; set COFFER_CREDENTIALS_STORE=file to use the credentials file", server, err)
	}
	var c credential
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return credential{}, false, fmt.Errorf("the OS keyring entry of %s is not a coffer credential: %w; run coffer login again", server, err)
	}
	return c, true, nil
}

func (s keyringStore) put(server string, c *credential) error {
	key := normalizeServer(server)
	if c == nil {
		if err := s.keyring.Delete(keyringService, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("remove credentials of %s from the OS keyring: %w", server, err)
		}
		return s.dropFromFile(server)
	}
	data, err := json.Marshal(c) //nolint:gosec // the keyring entry is where the secret is meant to be stored
	if err != nil {
		return err
	}
	err = s.keyring.Set(keyringService, key, string(data))
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		// An older, smaller entry would hide the file's.
		if err := s.keyring.Delete(keyringService, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("remove credentials of %s from the OS keyring: %w", server, err)
		}
		return s.file.put(server, c)
	}
	if err != nil {
		return fmt.Errorf("store credentials of %s in the OS keyring: %w; set COFFER_CREDENTIALS_STORE=file to use the credentials file", server, err)
	}
	return s.dropFromFile(server)
}

// dropFromFile removes server's entry from the credentials file if it has
// one, and does not create the file otherwise.
func (s keyringStore) dropFromFile(server string) error {
	_, found, err := s.file.get(server)
	if err != nil || !found {
		return err
	}
	return s.file.put(server, nil)
}
