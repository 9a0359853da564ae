package filesystem

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks Linux to begin writing the range to disk without
// waiting (sync_file_range with SYNC_FILE_RANGE_WRITE). It is only a hint:
// durability still comes from the fsync in Commit, so errors are ignored.
func startWriteback(file *os.File, offset, length int64) {
	_ = unix.SyncFileRange(int(file.Fd()), offset, length, unix.SYNC_FILE_RANGE_WRITE)
}

// setDirect turns O_DIRECT on or off for the open file. Filesystems without
// direct I/O, such as some tmpfs versions, reject it with EINVAL.
func setDirect(file *os.File, on bool) error {
	fd := int(file.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if on {
		flags |= unix.O_DIRECT
	} else {
		flags &^= unix.O_DIRECT
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
	return err
}

// isInvalidArgument reports whether err is EINVAL, the error of a direct
// write that the filesystem does not allow.
func isInvalidArgument(err error) bool {
	return errors.Is(err, unix.EINVAL)
}
