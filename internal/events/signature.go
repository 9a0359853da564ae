package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the request header that carries a delivery's
// timestamp and HMAC-SHA256 signature.
const SignatureHeader = "Coffer-Signature"

// ReplayTolerance is the largest age of a signed timestamp that a receiver
// should accept.
const ReplayTolerance = 5 * time.Minute

// ErrInvalidSignature reports a signature header that is malformed, does
// not match the body, or carries a timestamp outside the tolerance.
var ErrInvalidSignature = errors.New("invalid webhook signature")

// Sign returns the Coffer-Signature value "t=<unix>,v1=<hex>", where hex
// is HMAC-SHA256 with secret over "<unix>.<body>".
func Sign(secret string, at time.Time, body []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

// mac returns the hex HMAC-SHA256 of timestamp "." body.
func mac(secret, timestamp string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a Coffer-Signature header value against body, as a
// receiver does: the v1 signature must match in constant time and the
// timestamp must be within tolerance of now, which rejects replays.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
		case k == "t":
			ts = v
		case k == "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: header %q needs t=<unix seconds> and v1=<hex>", ErrInvalidSignature, header)
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: timestamp %d is %s away from now, more than %s", ErrInvalidSignature, unix, age.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches the body", ErrInvalidSignature)
}
