package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one line of the audit log: what one request was for, who made
// it, what the authorization engine decided and what the server returned.
// It never contains a secret: no password, token, signature or query
// string.
type Event struct {
	// Seq numbers the events of one chain from 1 without gaps.
	Seq uint64 `json:"seq"`
	// PrevHash is the Hash of the previous event, empty for the first.
	PrevHash string    `json:"prev_hash"`
	Time     time.Time `json:"time"`
	// Protocol is "oci", "admin" or "s3".
	Protocol  string `json:"protocol"`
	RequestID string `json:"request_id"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	// BytesIn counts the request body bytes the server read, and BytesOut
	// the response body bytes it wrote.
	BytesIn   int64  `json:"bytes_in"`
	BytesOut  int64  `json:"bytes_out"`
	Source    string `json:"source"`
	UserAgent string `json:"user_agent,omitempty"`
	// Principal is the principal ID, or "anonymous".
	Principal    string     `json:"principal"`
	AuthMethod   string     `json:"auth_method,omitempty"`
	CredentialID string     `json:"credential_id,omitempty"`
	Decisions    []Decision `json:"decisions,omitempty"`
	// ErrorCode is the protocol's error code of a failed request, such as
	// SignatureDoesNotMatch, when the handler reported it.
	ErrorCode string `json:"error_code,omitempty"`
	// Hash is the hex SHA-256 of the line up to this field; see encode.
	Hash string `json:"hash,omitempty"`
}

// hashField closes every line: the hash covers the bytes before it.
const hashField = `,"hash":"`

// encode returns ev as one JSON line without the trailing newline, with
// ev.Hash set. The hash is the SHA-256 of the JSON object written without
// the hash, that is of the exact line bytes up to hashField followed by
// "}". Because the previous event's hash is part of those bytes, changing,
// removing or moving any line breaks the chain from there on.
func encode(ev *Event) ([]byte, error) {
	ev.Hash = ""
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode audit event %d: %w", ev.Seq, err)
	}
	sum := sha256.Sum256(body)
	ev.Hash = hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(body)+len(hashField)+len(ev.Hash)+2)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashField...)
	line = append(line, ev.Hash...)
	line = append(line, '"', '}')
	return line, nil
}
