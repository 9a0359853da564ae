package filesystem

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks Linux to begin writing the range to disk without
// waiting (sync_file_range with SYNC_FILE_RANGE_WRITE). It is only a hint:
// durability still comes from the fsync in Commit, so errors are ignored.
func startWriteback(file *os.File, offset, length int64) {
	_ = unix.SyncFileRange(int(file.Fd()), offset, length, unix.SYNC_FILE_RANGE_WRITE)
}
