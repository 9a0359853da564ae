package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// uploadState remembers the session of an upload in progress, so that a
// rerun of the same cp continues it. The file name hashes the server, the
// destination and the source's path, size and modification time, so a
// changed source starts a new session.
type uploadState struct {
	path string
}

func (a *app) uploadState(job cpJob, info os.FileInfo) uploadState {
	abs, err := filepath.Abs(job.source.path)
	if err != nil {
		abs = job.source.path
	}
	identity := fmt.Sprintf("%s\n%s\n%s\n%s\n%d\n%d", a.settings.Server, job.destination.bucket, job.destination.key,
		abs, info.Size(), info.ModTime().UnixNano())
	sum := sha256.Sum256([]byte(identity))
	return uploadState{path: filepath.Join(a.settings.StateDir, "uploads", hex.EncodeToString(sum[:16])+".json")}
}

type uploadStateFile struct {
	Session string `json:"session"`
}

// load returns the stored session ID, or empty.
func (s uploadState) load() string {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return ""
	}
	var f uploadStateFile
	if json.Unmarshal(data, &f) != nil {
		return ""
	}
	return f.Session
}

// save stores the session ID. A failure only loses the ability to resume.
func (s uploadState) save(session string) {
	data, _ := json.Marshal(uploadStateFile{Session: session})
	if os.MkdirAll(filepath.Dir(s.path), 0o700) == nil {
		_ = os.WriteFile(s.path, data, 0o600)
	}
}

func (s uploadState) remove() { _ = os.Remove(s.path) }
