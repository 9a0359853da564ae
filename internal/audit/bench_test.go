package audit

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkLogWriteFile measures encoding, hashing and appending one
// typical event to the file sink.
func BenchmarkLogWriteFile(b *testing.B) {
	sink, pos, err := OpenFile(filepath.Join(b.TempDir(), "audit.log"), 0, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	log := NewLog(pos, nil, sink)
	defer log.Close(context.Background())
	ev := Event{
		Time: time.Now().UTC(), Protocol: "oci", RequestID: "4be1c0ffee0123456789abcd", Method: "GET",
		Path: "/v2/team/app/manifests/v1", Status: 200, BytesOut: 1234, Source: "10.0.4.7",
		UserAgent: "crane/0.20.2", Principal: "coffer#root", AuthMethod: "basic", CredentialID: "root",
		Decisions: []Decision{{Action: "oci:pull", Resource: "repo:team/app", Effect: "Allow", Reason: "allowed", StatementIDs: []string{"coffer-root"}}},
	}
	for b.Loop() {
		if err := log.Write(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
