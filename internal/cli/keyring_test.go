package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

const testServer = "http://127.0.0.1:5000"

func testFileStore(t *testing.T) fileStore {
	t.Helper()
	return fileStore{path: filepath.Join(t.TempDir(), "coffer", "credentials.json")}
}

func TestCredentialStoreFallsBackToFile(t *testing.T) {
	keyring.MockInitWithError(errors.New("no Secret Service on the session bus"))
	file := testFileStore(t)
	store := chooseCredentialStore("auto", file, systemKeyring{})
	if _, ok := store.(fileStore); !ok {
		t.Fatalf("auto without a keyring chose %T, want fileStore", store)
	}
	if err := store.put(testServer, &credential{Method: methodToken, Token: "t1"}); err != nil {
		t.Fatalf("put: %v", err)
	}
	got, found, err := store.get(testServer + "/")
	if err != nil || !found || got.Token != "t1" {
		t.Errorf("get: %+v, %t, %v; want token t1", got, found, err)
	}
	info, err := os.Stat(file.path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", mode)
	}
}

func TestCredentialStoreKeyring(t *testing.T) {
	keyring.MockInit()
	file := testFileStore(t)
	store := chooseCredentialStore("auto", file, systemKeyring{})
	if _, ok := store.(keyringStore); !ok {
		t.Fatalf("auto with a keyring chose %T, want keyringStore", store)
	}
	if err := store.put(testServer, &credential{Method: methodBasic, Username: "root", Password: "pw"}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := os.Stat(file.path); !os.IsNotExist(err) {
		t.Errorf("the credentials file exists after a keyring put: %v", err)
	}
	raw, err := keyring.Get(keyringService, testServer)
	if err != nil {
		t.Fatalf("keyring entry: %v", err)
	}
	var stored credential
	if err := json.Unmarshal([]byte(raw), &stored); err != nil || stored.Password != "pw" {
		t.Errorf("keyring entry %q (%v), want the credential as JSON", raw, err)
	}
	got, found, err := store.get(testServer)
	if err != nil || !found || got.Username != "root" {
		t.Errorf("get: %+v, %t, %v; want user root", got, found, err)
	}

	if err := store.put(testServer, nil); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := keyring.Get(keyringService, testServer); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("keyring entry after remove: %v, want ErrNotFound", err)
	}
	if _, found, err := store.get(testServer); found || err != nil {
		t.Errorf("get after remove: found %t, %v; want nothing", found, err)
	}
}

func TestCredentialStoreMovesFileEntry(t *testing.T) {
	keyring.MockInit()
	file := testFileStore(t)
	if err := file.put(testServer, &credential{Method: methodToken, Token: "old"}); err != nil {
		t.Fatal(err)
	}
	store := chooseCredentialStore("keyring", file, systemKeyring{})
	got, found, err := store.get(testServer)
	if err != nil || !found || got.Token != "old" {
		t.Errorf("get of a file entry: %+v, %t, %v; want token old", got, found, err)
	}
	if err := store.put(testServer, &credential{Method: methodToken, Token: "new"}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, found, _ := file.get(testServer); found {
		t.Error("the file still has the entry after it moved to the keyring")
	}
	if got, _, _ := store.get(testServer); got.Token != "new" {
		t.Errorf("get after the move: token %q, want new", got.Token)
	}
}

func TestCredentialStoreFileMode(t *testing.T) {
	keyring.MockInit()
	if store := chooseCredentialStore("file", testFileStore(t), systemKeyring{}); !isFileStore(store) {
		t.Errorf("mode file chose %T, want fileStore", store)
	}
}

func isFileStore(s credentialStore) bool {
	_, ok := s.(fileStore)
	return ok
}

func TestCredentialStoreKeyringErrors(t *testing.T) {
	keyring.MockInitWithError(errors.New("keyring locked"))
	store := chooseCredentialStore("keyring", testFileStore(t), systemKeyring{})
	if _, _, err := store.get(testServer); err == nil || !strings.Contains(err.Error(), "COFFER_CREDENTIALS_STORE=file") {
		t.Errorf("get from a failing keyring: %v, want a hint to the file store", err)
	}
}

// smallKeyring rejects every entry as too large, as the Windows
// Credential Manager does for entries over its limit.
type smallKeyring struct{ deleted int }

func (k *smallKeyring) Get(string, string) (string, error) { return "", keyring.ErrNotFound }
func (k *smallKeyring) Set(string, string, string) error   { return keyring.ErrSetDataTooBig }
func (k *smallKeyring) Delete(string, string) error {
	k.deleted++
	return keyring.ErrNotFound
}

func TestCredentialStoreTooBigForKeyring(t *testing.T) {
	file := testFileStore(t)
	kr := &smallKeyring{}
	store := chooseCredentialStore("keyring", file, kr)
	if err := store.put(testServer, &credential{Method: methodToken, Token: strings.Repeat("x", 4096)}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if got, found, err := file.get(testServer); err != nil || !found || len(got.Token) != 4096 {
		t.Errorf("file entry: found %t, %v; want the 4096-byte token", found, err)
	}
	if kr.deleted != 1 {
		t.Errorf("keyring deletes %d, want 1 to drop an older entry", kr.deleted)
	}
}
