package blob

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cofferhq/coffer/internal/readahead"
)

// shortBody returns n bytes and then fails as a request body that the
// client cut short does.
type shortBody struct {
	r io.Reader
}

func (b *shortBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestCopyDeclaredLargeBody(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), readahead.MinSize/16+1000)
	size := int64(len(content))

	for _, tt := range []struct {
		name     string
		body     io.Reader
		declared int64
		wantErr  error
	}{
		{"exact", bytes.NewReader(content), size, nil},
		{"unknown size", bytes.NewReader(content), -1, nil},
		{"one byte more", bytes.NewReader(content), size - 1, ErrSizeMismatch},
		{"one byte less", bytes.NewReader(content[1:]), size, ErrSizeMismatch},
		{"cut short", &shortBody{r: bytes.NewReader(content[:size/2])}, size, ErrSizeMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			n, err := copyDeclared(&got, tt.body, tt.declared)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if n != size || !bytes.Equal(got.Bytes(), content) {
				t.Fatalf("copied %d bytes that differ from the %d of the body", n, size)
			}
		})
	}
}
