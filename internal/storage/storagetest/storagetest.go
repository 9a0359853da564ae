// Package storagetest contains the contract suite that every storage.Driver
// must pass. A driver package calls Run from its own tests:
//
//	func TestDriver(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Driver { return newDriver(t) })
//	}
//
// Each subtest gets a fresh, empty driver from newDriver.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
)

// Run runs the contract suite against drivers built by newDriver, one
// subtest per behaviour.
func Run(t *testing.T, newDriver func(t *testing.T) storage.Driver) {
	tests := []struct {
		name string
		run  func(t *testing.T, d storage.Driver)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReaderOffsets", testReaderOffsets},
		{"Stat", testStat},
		{"WriterSize", testWriterSize},
		{"WriterContinuesAtOffset", testWriterContinuesAtOffset},
		{"WriterDiscardsPastOffset", testWriterDiscardsPastOffset},
		{"WriterOffsetBeyondSize", testWriterOffsetBeyondSize},
		{"WriterOffsetOnMissingKey", testWriterOffsetOnMissingKey},
		{"WriterTruncatesAtZero", testWriterTruncatesAtZero},
		{"CancelAtZero", testCancelAtZero},
		{"CancelAtOffset", testCancelAtOffset},
		{"CloseWithoutCommit", testCloseWithoutCommit},
		{"WriterAfterCommit", testWriterAfterCommit},
		{"NegativeOffsets", testNegativeOffsets},
		{"SizedWriterRoundTrip", testSizedWriterRoundTrip},
		{"SizedWriterTooFewBytes", testSizedWriterTooFewBytes},
		{"SizedWriterTooManyBytes", testSizedWriterTooManyBytes},
		{"SizedWriterCancel", testSizedWriterCancel},
		{"TempWriterMovedToFinalKey", testTempWriterMovedToFinalKey},
		{"TempWriterTooFewBytes", testTempWriterTooFewBytes},
		{"MissingKeys", testMissingKeys},
		{"PrefixIsNotKey", testPrefixIsNotKey},
		{"InvalidKeys", testInvalidKeys},
		{"CancelledContext", testCancelledContext},
		{"MoveReplacesDestination", testMoveReplacesDestination},
		{"MoveToNewPrefix", testMoveToNewPrefix},
		{"MoveOntoItself", testMoveOntoItself},
		{"KeyPrefixConflicts", testKeyPrefixConflicts},
		{"DeleteKey", testDeleteKey},
		{"DeletePrefix", testDeletePrefix},
		{"WalkOrder", testWalkOrder},
		{"WalkPrefix", testWalkPrefix},
		{"WalkStopsOnError", testWalkStopsOnError},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newDriver(t))
		})
	}
}

// put writes content to key at offset 0 and commits it.
func put(t *testing.T, d storage.Driver, key string, content []byte) {
	t.Helper()
	w, err := d.Writer(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Writer(%q, 0): %v", key, err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatalf("Write to %q: %v", key, err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of %q: %v", key, err)
	}
}

// get reads key from offset to the end.
func get(t *testing.T, d storage.Driver, key string, offset int64) []byte {
	t.Helper()
	r, err := d.Reader(t.Context(), key, offset)
	if err != nil {
		t.Fatalf("Reader(%q, %d): %v", key, offset, err)
	}
	defer r.Close()

	content, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return content
}

// assertContent checks that key contains exactly want, without printing
// megabytes on a mismatch.
func assertContent(t *testing.T, d storage.Driver, key string, want []byte) {
	t.Helper()
	got := get(t, d, key, 0)
	if !bytes.Equal(got, want) {
		t.Errorf("content of %q: got %d bytes %.32q, want %d bytes %.32q", key, len(got), got, len(want), want)
	}
}

// assertMissing checks that Stat of key returns ErrNotFound.
func assertMissing(t *testing.T, d storage.Driver, key string) {
	t.Helper()
	if _, err := d.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(%q) error = %v, want ErrNotFound", key, err)
	}
}

// assertErrorIs checks that err wraps target; op names the call for the message.
func assertErrorIs(t *testing.T, op string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", op, err, target)
	}
}

// walkKeys returns the keys that Walk visits below prefix, in visit order.
func walkKeys(t *testing.T, d storage.Driver, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := d.Walk(t.Context(), prefix, func(info storage.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%q): %v", prefix, err)
	}
	return keys
}

// randomBytes returns n bytes that are the same on every run for a given seed.
func randomBytes(n int, seed uint64) []byte {
	source := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	content := make([]byte, n)
	_, _ = source.Read(content)
	return content
}

// cancelledContext returns a context that is already cancelled.
func cancelledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
