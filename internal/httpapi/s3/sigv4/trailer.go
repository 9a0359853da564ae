package sigv4

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
)

const trailerSignatureName = "x-amz-trailer-signature"

// readTrailers reads the trailer section after the final chunk: lines of
// "name:value", then a blank line. In the signed form the last line before
// the blank one is x-amz-trailer-signature, computed over the preceding
// lines as "name:value\n" each. Blank lines before the signature are
// skipped, because minio-go v7 writes one between the checksum and the
// signature. Only the trailer that x-amz-trailer declared may appear.
func (c *chunkedReader) readTrailers() error {
	var signedLines []byte
	signatureSeen, blankSkipped := false, false
	for range maxTrailerLines {
		if _, err := c.src.Peek(1); err == io.EOF && blankSkipped {
			// The body ended where the signature should have been.
			return c.checkTrailerSignaturePresent(signatureSeen)
		}
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line == "" {
			if c.signer != nil && !signatureSeen {
				blankSkipped = true
				continue
			}
			return c.checkTrailerSignaturePresent(signatureSeen)
		}
		if signatureSeen {
			return ErrMalformedTrailer.withMessage("The trailer continues after %s.", trailerSignatureName)
		}

		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return ErrMalformedTrailer.withMessage("The trailer line %q is not of the form name:value.", line)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if name == trailerSignatureName {
			if c.signer == nil {
				return ErrMalformedTrailer.withMessage("An unsigned payload cannot carry %s.", trailerSignatureName)
			}
			trailerHash := sha256.Sum256(signedLines)
			if !c.signer.verifyTrailer(trailerHash[:], value) {
				return ErrSignatureDoesNotMatch.withMessage("The trailer signature we calculated does not match the %s you provided.", trailerSignatureName)
			}
			signatureSeen = true
			continue
		}
		if c.algorithm == 0 || name != c.algorithm.HeaderName() {
			return ErrMalformedTrailer.withMessage("The trailer %q was not declared in x-amz-trailer.", name)
		}
		if c.trailers.Get(name) != "" {
			return ErrMalformedTrailer.withMessage("The trailer %q appears twice.", name)
		}
		c.trailers.Set(name, value)
		signedLines = append(signedLines, line...)
		signedLines = append(signedLines, '\n')
	}
	return ErrMalformedTrailer.withMessage("The trailer has more than %d lines.", maxTrailerLines)
}

func (c *chunkedReader) checkTrailerSignaturePresent(signatureSeen bool) error {
	if c.signer != nil && !signatureSeen {
		return ErrSignatureDoesNotMatch.withMessage("The trailer has no %s.", trailerSignatureName)
	}
	return nil
}

// verifyChecksum compares the checksum trailer that x-amz-trailer declared
// with the checksum of the decoded data. After Body.TakeTrailerChecksum it
// only checks that the trailer is present and decodes.
func (c *chunkedReader) verifyChecksum() error {
	if c.algorithm == 0 {
		return nil
	}
	name := c.algorithm.HeaderName()
	value := c.trailers.Get(name)
	if value == "" {
		return ErrMalformedTrailer.withMessage("x-amz-trailer declares %s but the trailer does not contain it.", name)
	}
	sent, err := c.algorithm.Decode(value)
	if err != nil {
		return ErrInvalidRequest.withMessage("Value for %s trailing header is invalid.", name)
	}
	if c.checksum != nil && !bytes.Equal(sent, c.checksum.Sum(nil)) {
		return ErrBadDigest.withMessage("The %v you specified did not match the calculated checksum.", c.algorithm)
	}
	return nil
}

// finishedTrailers returns a copy of the trailers once the body has been
// read to a verified end, and nil before.
func (c *chunkedReader) finishedTrailers() http.Header {
	if !errors.Is(c.err, io.EOF) {
		return nil
	}
	return c.trailers.Clone()
}
