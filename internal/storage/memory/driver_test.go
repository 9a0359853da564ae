package memory_test

import (
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/storagetest"
)

func TestDriver(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver { return memory.New() })
}
