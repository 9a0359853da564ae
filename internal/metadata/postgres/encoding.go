package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/cofferhq/coffer/internal/metadata"
)

// The map fields of objects and multipart uploads (Headers, UserMetadata,
// Checksums) are stored as a JSON object in a text column, and an empty or
// nil map as NULL, so both read back as nil. Parts of a single-PUT object,
// nil or empty, also read back as nil.

// objectRow holds the encoded columns of an object.
type objectRow struct {
	headers, userMetadata, checksums, parts *string
}

// encodeObject encodes the map and parts fields of o.
func encodeObject(o *metadata.Object) (objectRow, error) {
	var row objectRow
	var err error
	if row.headers, err = encodeMap(o.Headers); err != nil {
		return row, fmt.Errorf("encode headers: %w", err)
	}
	if row.userMetadata, err = encodeMap(o.UserMetadata); err != nil {
		return row, fmt.Errorf("encode user metadata: %w", err)
	}
	if row.checksums, err = encodeMap(o.Checksums); err != nil {
		return row, fmt.Errorf("encode checksums: %w", err)
	}
	if row.parts, err = encodeParts(o.Parts); err != nil {
		return row, fmt.Errorf("encode parts: %w", err)
	}
	return row, nil
}

// encodeMap returns m as a JSON object, or NULL when m is empty.
func encodeMap(m map[string]string) (*string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	encoded, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return new(string(encoded)), nil
}

// decodeMap reads a column that encodeMap wrote. NULL reads as nil.
func decodeMap(stored *string) (map[string]string, error) {
	if stored == nil {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(*stored), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// storedPart is the JSON form of a metadata.ObjectPart in objects.parts. It
// has its own field names so that renaming a Go field does not change the
// stored format, which is the same as the SQLite backend's.
type storedPart struct {
	Number   int    `json:"number"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum,omitempty"`
}

// encodeParts returns parts as a JSON array, or NULL when there are none.
func encodeParts(parts []metadata.ObjectPart) (*string, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	stored := make([]storedPart, len(parts))
	for i, p := range parts {
		stored[i] = storedPart{Number: p.Number, Size: p.Size, Checksum: p.Checksum}
	}
	encoded, err := json.Marshal(stored)
	if err != nil {
		return nil, err
	}
	return new(string(encoded)), nil
}

// decodeParts reads a column that encodeParts wrote. NULL reads as nil.
func decodeParts(stored *string) ([]metadata.ObjectPart, error) {
	if stored == nil {
		return nil, nil
	}
	var parts []storedPart
	if err := json.Unmarshal([]byte(*stored), &parts); err != nil {
		return nil, err
	}
	out := make([]metadata.ObjectPart, len(parts))
	for i, p := range parts {
		out[i] = metadata.ObjectPart{Number: p.Number, Size: p.Size, Checksum: p.Checksum}
	}
	return out, nil
}
