package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeChain writes n events through a Log into a fresh file and returns
// the file's path and lines.
func writeChain(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	sink, pos, err := OpenFile(path, 0, 0, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	log := NewLog(pos, nil, sink)
	for i := range n {
		ev := Event{Time: time.Date(2026, 12, 5, 9, 0, i, 0, time.UTC), Protocol: "oci", Method: "GET", Path: "/v2/", Status: 200, Principal: "coffer#root"}
		if err := log.Write(context.Background(), ev); err != nil {
			t.Fatalf("write event %d: %v", i, err)
		}
	}
	if err := log.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return path, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func rewrite(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
}

func TestVerifyIntactLog(t *testing.T) {
	path, _ := writeChain(t, 5)
	summary, err := VerifyFiles(path)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if summary.Events != 5 || summary.FirstSeq != 1 || summary.LastSeq != 5 || !summary.Anchored {
		t.Fatalf("summary = %+v", summary)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	rewrite(t, path, nil)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	summary, err := VerifyFiles(path)
	if err != nil || summary.Events != 0 {
		t.Fatalf("verify = %+v, %v", summary, err)
	}
}

// expectBroken checks that verifying path fails at line with a reason
// that contains want.
func expectBroken(t *testing.T, path string, line int, want string) {
	t.Helper()
	_, err := VerifyFiles(path)
	var chainErr *ChainError
	if !errors.As(err, &chainErr) || !errors.Is(err, ErrChainBroken) {
		t.Fatalf("verify error = %v, want a ChainError", err)
	}
	if chainErr.Line != line {
		t.Errorf("broken at line %d, want %d (%v)", chainErr.Line, line, err)
	}
	if !strings.Contains(chainErr.Reason, want) {
		t.Errorf("reason %q does not contain %q", chainErr.Reason, want)
	}
}

func TestVerifyEditedLine(t *testing.T) {
	path, lines := writeChain(t, 5)
	lines[2] = strings.Replace(lines[2], `"status":200`, `"status":201`, 1)
	rewrite(t, path, lines)
	expectBroken(t, path, 3, "was edited")
}

func TestVerifyEditedLineWithNewHash(t *testing.T) {
	path, lines := writeChain(t, 5)
	ev, _ := parseLine([]byte(lines[2]))
	ev.Status = 201
	line, err := encode(&ev)
	if err != nil {
		t.Fatal(err)
	}
	lines[2] = string(line)
	rewrite(t, path, lines)
	expectBroken(t, path, 4, "prev_hash does not match")
}

func TestVerifyDeletedLine(t *testing.T) {
	path, lines := writeChain(t, 5)
	lines = append(lines[:2], lines[3:]...)
	rewrite(t, path, lines)
	expectBroken(t, path, 3, "the event with seq 3 is missing")
}

func TestVerifySwappedLines(t *testing.T) {
	path, lines := writeChain(t, 5)
	lines[1], lines[2] = lines[2], lines[1]
	rewrite(t, path, lines)
	expectBroken(t, path, 2, "the event with seq 2 is missing")
}

func TestVerifyRepeatedLine(t *testing.T) {
	path, lines := writeChain(t, 3)
	lines = append(lines, lines[2])
	rewrite(t, path, lines)
	expectBroken(t, path, 4, "out of order or repeated")
}

func TestVerifyForeignLine(t *testing.T) {
	path, lines := writeChain(t, 3)
	lines[1] = `{"seq":2}`
	rewrite(t, path, lines)
	expectBroken(t, path, 2, "does not end with its hash")
}

func TestVerifyFirstLineRemoved(t *testing.T) {
	path, lines := writeChain(t, 3)
	rewrite(t, path, lines[1:])
	summary, err := VerifyFiles(path)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if summary.Anchored || summary.FirstSeq != 2 {
		t.Fatalf("summary = %+v, want an unanchored chain from seq 2", summary)
	}
}

func TestOpenFileContinuesChain(t *testing.T) {
	path, _ := writeChain(t, 2)
	sink, pos, err := OpenFile(path, 0, 0, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if pos.Seq != 2 {
		t.Fatalf("position = %+v, want seq 2", pos)
	}
	log := NewLog(pos, nil, sink)
	if err := log.Write(context.Background(), Event{Protocol: "s3"}); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	summary, err := VerifyFiles(path)
	if err != nil || summary.Events != 3 {
		t.Fatalf("verify = %+v, %v", summary, err)
	}
}

func TestOpenFileRejectsCutLine(t *testing.T) {
	path, lines := writeChain(t, 2)
	if err := os.WriteFile(path, []byte(lines[0]+"\n"+lines[1][:20]), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := OpenFile(path, 0, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "incomplete line") {
		t.Fatalf("open error = %v, want incomplete line", err)
	}
}

func TestFileSinkRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	tick := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { tick = tick.Add(time.Second); return tick }
	line, err := encode(&Event{Seq: 10, PrevHash: strings.Repeat("0", 64), Protocol: "oci"})
	if err != nil {
		t.Fatal(err)
	}
	// Each file takes two events (lines are len(line)+1 bytes at most), so
	// twelve events make five rotations, of which the newest three stay.
	sink, pos, err := OpenFile(path, int64(2*len(line)+2), 3, clock)
	if err != nil {
		t.Fatal(err)
	}
	log := NewLog(pos, nil, sink)
	for range 12 {
		if err := log.Write(context.Background(), Event{Protocol: "oci"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rotated, err := RotatedFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 3 {
		t.Fatalf("rotated files = %v, want 3", rotated)
	}
	summary, err := VerifyFiles(append(rotated, path)...)
	if err != nil {
		t.Fatalf("verify across files: %v", err)
	}
	if summary.LastSeq != 12 || summary.Events != 8 || summary.Anchored {
		t.Fatalf("summary = %+v, want events 5 to 12", summary)
	}

	sink, pos, err = OpenFile(path, 1<<20, 3, clock)
	if err != nil {
		t.Fatal(err)
	}
	_ = sink.Close(context.Background())
	if pos.Seq != 12 {
		t.Fatalf("reopened position = %+v, want seq 12", pos)
	}
}

func TestVerifyFilesOutOfOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	tick := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { tick = tick.Add(time.Second); return tick }
	sink, pos, err := OpenFile(path, 10, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	log := NewLog(pos, nil, sink)
	for range 3 {
		if err := log.Write(context.Background(), Event{}); err != nil {
			t.Fatal(err)
		}
	}
	_ = log.Close(context.Background())
	rotated, _ := RotatedFiles(path)
	if len(rotated) != 2 {
		t.Fatalf("rotated = %v", rotated)
	}
	_, err = VerifyFiles(rotated[1], rotated[0])
	var chainErr *ChainError
	if !errors.As(err, &chainErr) || chainErr.File != rotated[0] || chainErr.Line != 1 {
		t.Fatalf("verify error = %v, want line 1 of %s", err, rotated[0])
	}
}

// failingSink fails every write.
type failingSink struct{}

func (failingSink) Name() string                              { return "broken" }
func (failingSink) Write(ctx context.Context, b []byte) error { return errors.New("disk full") }
func (failingSink) Close(ctx context.Context) error           { return nil }

func TestLogReportsSinkFailure(t *testing.T) {
	var out bytes.Buffer
	var failed []string
	log := NewLog(Position{}, func(sink string, err error) { failed = append(failed, sink) }, NewWriterSink("stdout", &out), failingSink{})
	err := log.Write(context.Background(), Event{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write error = %v, want the sink's error", err)
	}
	if len(failed) != 1 || failed[0] != "broken" {
		t.Fatalf("failures reported = %v", failed)
	}
	if !strings.HasPrefix(out.String(), `{"seq":1,`) {
		t.Fatalf("stdout = %q, want the event", out.String())
	}
	_ = log.Close(context.Background())
	if err := log.Write(context.Background(), Event{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close = %v, want ErrClosed", err)
	}
}
