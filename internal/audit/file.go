package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// rotatedTimeFormat names rotated files: audit.log becomes
// audit.log.20261205T091500.000000000Z, which sorts by age.
const rotatedTimeFormat = "20060102T150405.000000000Z"

// FileSink appends events to a file and rotates it by size. Once the file
// would grow past maxBytes, it is renamed with the time as a suffix and a
// new file starts, and only the newest maxFiles rotated files are kept.
// The chain continues across files, so "cofferd audit verify" can check
// them together, oldest first.
type FileSink struct {
	path     string
	maxBytes int64
	maxFiles int
	now      func() time.Time
	file     *os.File
	size     int64
}

// OpenFile opens or creates the file at path (mode 0600, its directory
// 0700) for appending and returns the sink with the chain position of
// its last event, looking into the newest rotated file when the current
// one is empty. maxBytes <= 0 never rotates; maxFiles <= 0 keeps every
// rotated file. now is the clock of rotated file names, time.Now if nil.
func OpenFile(path string, maxBytes int64, maxFiles int, now func() time.Time) (*FileSink, Position, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, Position{}, fmt.Errorf("create audit log directory for %s: %w", path, err)
	}
	pos, err := lastPosition(path)
	if err != nil {
		return nil, Position{}, err
	}
	f, size, err := openAppend(path)
	if err != nil {
		return nil, Position{}, err
	}
	return &FileSink{path: path, maxBytes: maxBytes, maxFiles: maxFiles, now: now, file: f, size: size}, pos, nil
}

func openAppend(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("open audit log %s: %w", path, err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("stat audit log %s: %w", path, err)
	}
	return f, info.Size(), nil
}

// Name implements Sink.
func (s *FileSink) Name() string { return "file" }

// Write appends line with one write call, rotating first when the file
// would exceed its size limit.
func (s *FileSink) Write(ctx context.Context, line []byte) error {
	if s.maxBytes > 0 && s.size > 0 && s.size+int64(len(line)) > s.maxBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.file.Write(line)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("append to audit log %s: %w", s.path, err)
	}
	return nil
}

// Close syncs and closes the file.
func (s *FileSink) Close(ctx context.Context) error {
	syncErr := s.file.Sync()
	if err := s.file.Close(); err != nil {
		return fmt.Errorf("close audit log %s: %w", s.path, err)
	}
	if syncErr != nil {
		return fmt.Errorf("sync audit log %s: %w", s.path, syncErr)
	}
	return nil
}

func (s *FileSink) rotate() error {
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("sync audit log %s: %w", s.path, err)
	}
	if err := s.file.Close(); err != nil {
		return fmt.Errorf("close audit log %s: %w", s.path, err)
	}
	rotated := s.path + "." + s.now().UTC().Format(rotatedTimeFormat)
	if err := os.Rename(s.path, rotated); err != nil {
		return fmt.Errorf("rotate audit log %s: %w", s.path, err)
	}
	f, size, err := openAppend(s.path)
	if err != nil {
		return err
	}
	s.file, s.size = f, size
	return s.prune()
}

// prune removes the oldest rotated files beyond maxFiles.
func (s *FileSink) prune() error {
	if s.maxFiles <= 0 {
		return nil
	}
	rotated, err := RotatedFiles(s.path)
	if err != nil {
		return err
	}
	for len(rotated) > s.maxFiles {
		if err := os.Remove(rotated[0]); err != nil {
			return fmt.Errorf("remove old audit log %s: %w", rotated[0], err)
		}
		rotated = rotated[1:]
	}
	return nil
}

// RotatedFiles returns the rotated files of the audit log at path, oldest
// first.
func RotatedFiles(path string) ([]string, error) {
	matches, err := filepath.Glob(globEscape(path) + ".*")
	if err != nil {
		return nil, fmt.Errorf("list rotated audit logs of %s: %w", path, err)
	}
	var rotated []string
	for _, m := range matches {
		suffix := strings.TrimPrefix(m, path+".")
		if _, err := time.Parse(rotatedTimeFormat, suffix); err == nil {
			rotated = append(rotated, m)
		}
	}
	slices.Sort(rotated)
	return rotated, nil
}

func globEscape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lastPosition returns the chain position after the last event of the
// audit log at path, or of its newest rotated file when path is empty or
// missing.
func lastPosition(path string) (Position, error) {
	candidates := []string{path}
	rotated, err := RotatedFiles(path)
	if err != nil {
		return Position{}, err
	}
	if len(rotated) > 0 {
		candidates = append(candidates, rotated[len(rotated)-1])
	}
	for _, p := range candidates {
		pos, found, err := lastEventIn(p)
		if err != nil || found {
			return pos, err
		}
	}
	return Position{}, nil
}

// tailSize bounds how much of a file's end lastEventIn reads; an event
// line is far shorter.
const tailSize = 1 << 20

// lastEventIn reads the last line of the file at path. found is false for
// a missing or empty file. A last line that is cut short or not an event
// is an error, so that a damaged log is looked at before it grows.
func lastEventIn(path string) (Position, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("open audit log %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Position{}, false, fmt.Errorf("stat audit log %s: %w", path, err)
	}
	if info.Size() == 0 {
		return Position{}, false, nil
	}
	offset := max(info.Size()-tailSize, 0)
	tail := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(tail, offset); err != nil && !errors.Is(err, io.EOF) {
		return Position{}, false, fmt.Errorf("read audit log %s: %w", path, err)
	}
	if tail[len(tail)-1] != '\n' {
		return Position{}, false, fmt.Errorf("audit log %s ends with an incomplete line; run \"cofferd audit verify %s\" and move the file aside before starting", path, path)
	}
	line := tail[bytes.LastIndexByte(tail[:len(tail)-1], '\n')+1 : len(tail)-1]
	var ev Event
	if err := json.Unmarshal(line, &ev); err != nil || ev.Seq == 0 || ev.Hash == "" {
		return Position{}, false, fmt.Errorf("the last line of audit log %s is not an audit event; run \"cofferd audit verify %s\" and move the file aside before starting", path, path)
	}
	return Position{Seq: ev.Seq, Hash: ev.Hash}, true, nil
}
