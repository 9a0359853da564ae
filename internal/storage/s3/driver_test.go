package s3

import (
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/storagetest"
)

// testPrefix is the key prefix of the drivers under test, so every test
// also checks that keys map to "<prefix>/<key>".
const testPrefix = "coffer/data"

// backends lists the S3-compatible servers every driver test runs against.
var backends = []struct {
	name  string
	start func(t *testing.T) testBackend
}{
	{"moto", startMoto},
	{"versitygw", startVersityGW},
}

// TestDriver runs the storage contract suite and the driver's own tests
// against each backend, with a new bucket for each test.
func TestDriver(t *testing.T) {
	isolateAWSConfig(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			backend := b.start(t)
			buckets := 0
			t.Run("Contract", func(t *testing.T) {
				storagetest.Run(t, func(t *testing.T) storage.Driver {
					return backend.newDriver(t, &buckets, testPrefix)
				})
			})
			t.Run("ContractWithoutPrefix", func(t *testing.T) {
				storagetest.Run(t, func(t *testing.T) storage.Driver {
					return backend.newDriver(t, &buckets, "")
				})
			})
			for _, tt := range driverTests {
				t.Run(tt.name, func(t *testing.T) {
					tt.run(t, backend, backend.createBucket(t, &buckets))
				})
			}
		})
	}
}
