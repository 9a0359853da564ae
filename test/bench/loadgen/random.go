package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
)

// seededStream returns an endless stream of pseudo-random bytes that depends
// only on seed, so a layer can be generated again for upload after its digest
// was computed, and never has to be held in memory.
func seededStream(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.NewChaCha8(key)
}

// seededBytes returns the first size bytes of seededStream(seed).
func seededBytes(seed uint64, size int64) []byte {
	data := make([]byte, size)
	// ChaCha8.Read fills the whole slice and never fails.
	_, _ = io.ReadFull(seededStream(seed), data)
	return data
}

// streamDigest returns the sha256 digest of the first size bytes of
// seededStream(seed), hashing them as they are generated.
func streamDigest(seed uint64, size int64) (string, error) {
	hash := sha256.New()
	if _, err := io.Copy(hash, io.LimitReader(seededStream(seed), size)); err != nil {
		return "", fmt.Errorf("hash generated stream with seed %d: %w", seed, err)
	}
	return "sha256:" + hex.EncodeToString(hash.Sum(nil)), nil
}

// bytesDigest returns the sha256 digest of data in OCI form.
func bytesDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
