package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxLineBytes bounds one line of an audit log that Verify reads.
const maxLineBytes = 1 << 20

// ErrChainBroken reports an audit log whose hash chain does not hold.
var ErrChainBroken = errors.New("audit chain broken")

// ChainError names the first line at which the chain of a log breaks.
type ChainError struct {
	File   string
	Line   int
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// Unwrap makes a ChainError match ErrChainBroken.
func (e *ChainError) Unwrap() error { return ErrChainBroken }

// Summary describes a verified chain.
type Summary struct {
	Events   int
	FirstSeq uint64
	LastSeq  uint64
	LastHash string
	// Anchored is true when the chain starts at sequence number 1. A log
	// whose older files were rotated away starts later, and the hash its
	// first event names as previous cannot be checked.
	Anchored bool
}

// Verifier checks a chain of events read from one or more files, oldest
// first. Each line must carry the hash of its own content, the next
// sequence number and the hash of the line before it. The hash has no
// key: the check finds a line that was edited, removed, inserted or moved
// afterwards, but a writer who recomputes every later hash can forge a
// consistent log. Keep a copy elsewhere (stdout or http sink) to catch
// that.
type Verifier struct {
	summary Summary
}

// VerifyFiles checks the files in order as one chain.
func VerifyFiles(paths ...string) (Summary, error) {
	var v Verifier
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return v.summary, fmt.Errorf("open audit log: %w", err)
		}
		err = v.Read(f, p)
		_ = f.Close()
		if err != nil {
			return v.summary, err
		}
	}
	return v.summary, nil
}

// Read checks the events of r, named name in errors, as the continuation
// of what the Verifier read before.
func (v *Verifier) Read(r io.Reader, name string) error {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64<<10), maxLineBytes)
	line := 0
	for scanner.Scan() {
		line++
		if err := v.check(scanner.Bytes()); err != "" {
			return &ChainError{File: name, Line: line, Reason: err}
		}
	}
	if err := scanner.Err(); err != nil {
		return &ChainError{File: name, Line: line + 1, Reason: "unreadable: " + err.Error()}
	}
	return nil
}

// Summary returns what the Verifier has read so far.
func (v *Verifier) Summary() Summary { return v.summary }

// check verifies one line and returns why it breaks the chain, or "".
func (v *Verifier) check(line []byte) string {
	ev, reason := parseLine(line)
	if reason != "" {
		return reason
	}
	s := &v.summary
	switch {
	case s.Events == 0 && ev.Seq == 1 && ev.PrevHash != "":
		return "the first event of the chain (seq 1) names a previous hash"
	case s.Events == 0:
		s.FirstSeq, s.Anchored = ev.Seq, ev.Seq == 1
	case ev.Seq <= s.LastSeq:
		return fmt.Sprintf("seq %d follows seq %d: the line is out of order or repeated", ev.Seq, s.LastSeq)
	case ev.Seq > s.LastSeq+1:
		return fmt.Sprintf("seq %d follows seq %d: %s before this line", ev.Seq, s.LastSeq, missing(s.LastSeq+1, ev.Seq-1))
	case ev.PrevHash != s.LastHash:
		return fmt.Sprintf("prev_hash does not match the hash of the event before it (seq %d): that event was edited or replaced", s.LastSeq)
	}
	s.Events++
	s.LastSeq, s.LastHash = ev.Seq, ev.Hash
	return ""
}

func missing(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("the event with seq %d is missing", from)
	}
	return fmt.Sprintf("the events with seq %d to %d are missing", from, to)
}

// parseLine checks that line's hash matches its content and decodes it.
func parseLine(line []byte) (Event, string) {
	var ev Event
	cut := bytes.LastIndex(line, []byte(hashField))
	if cut < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return ev, "not an audit event: the line does not end with its hash"
	}
	recorded := line[cut+len(hashField) : len(line)-2]
	body := append(bytes.Clone(line[:cut]), '}')
	sum := sha256.Sum256(body)
	if len(recorded) != sha256.Size*2 || string(recorded) != hex.EncodeToString(sum[:]) {
		return ev, "the hash does not match the line's content: the line was edited"
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return ev, "not an audit event: " + err.Error()
	}
	if ev.Seq == 0 {
		return ev, "not an audit event: seq is missing"
	}
	return ev, ""
}
