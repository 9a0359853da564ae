package supplychain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/veraison/go-cose"
)

// Notary Project envelope header names and values.
const (
	notationPayloadType              = "application/vnd.cncf.notary.payload.v1+json"
	headerSigningScheme              = "io.cncf.notary.signingScheme"
	headerSigningTime                = "io.cncf.notary.signingTime"
	headerExpiry                     = "io.cncf.notary.expiry"
	headerAuthenticSigningTime       = "io.cncf.notary.authenticSigningTime"
	schemeX509                       = "notary.x509"
	schemeX509SigningAuthority       = "notary.x509.signingAuthority"
	coseLabelX5Chain           int64 = 33
)

// notationEnvelope is a notation signature whose signature has been checked
// against the key of its own signing certificate. Trust in that certificate
// is decided later by the trust policy.
type notationEnvelope struct {
	Chain         []*x509.Certificate // leaf first
	SigningScheme string
	SigningTime   time.Time
	Expiry        time.Time // zero when the signature does not expire
	Payload       []byte
}

// jwsProtected is the protected header of a notation JWS envelope.
type jwsProtected struct {
	Algorithm            string     `json:"alg"`
	Critical             []string   `json:"crit"`
	ContentType          string     `json:"cty"`
	SigningScheme        string     `json:"io.cncf.notary.signingScheme"`
	SigningTime          *time.Time `json:"io.cncf.notary.signingTime"`
	AuthenticSigningTime *time.Time `json:"io.cncf.notary.authenticSigningTime"`
	Expiry               *time.Time `json:"io.cncf.notary.expiry"`
}

// parseJWS decodes a notation JWS envelope (JSON serialisation, flattened)
// and checks its signature with the leaf certificate of its x5c header.
func parseJWS(data []byte) (*notationEnvelope, error) {
	var raw struct {
		Payload   string `json:"payload"`
		Protected string `json:"protected"`
		Header    struct {
			X5C []string `json:"x5c"`
		} `json:"header"`
		Signature string `json:"signature"`
	}
	if err := decodeStrictJSON(data, &raw); err != nil {
		return nil, fmt.Errorf("%w JWS envelope: %w", ErrMalformed, err)
	}
	protectedJSON, err := base64.RawURLEncoding.DecodeString(raw.Protected)
	if err != nil {
		return nil, fmt.Errorf("%w JWS envelope: protected header is not base64url", ErrMalformed)
	}
	var protected jwsProtected
	if err := json.Unmarshal(protectedJSON, &protected); err != nil {
		return nil, fmt.Errorf("%w JWS envelope: protected header: %w", ErrMalformed, err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(raw.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w JWS envelope: payload is not base64url", ErrMalformed)
	}
	sig, err := base64.RawURLEncoding.DecodeString(raw.Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w JWS envelope: signature is missing or not base64url", ErrMalformed)
	}
	chain, err := parseChain(raw.Header.X5C, base64.StdEncoding.DecodeString)
	if err != nil {
		return nil, fmt.Errorf("JWS envelope: %w", err)
	}

	env := &notationEnvelope{Chain: chain, SigningScheme: protected.SigningScheme, Payload: payload}
	if err := env.checkHeaders(protected.ContentType, protected.Critical, protected.SigningTime, protected.AuthenticSigningTime, protected.Expiry); err != nil {
		return nil, fmt.Errorf("JWS envelope: %w", err)
	}
	signingInput := []byte(raw.Protected + "." + raw.Payload)
	if err := verifyJWSSignature(protected.Algorithm, chain[0].PublicKey, signingInput, sig); err != nil {
		return nil, fmt.Errorf("JWS envelope: %w", err)
	}
	return env, nil
}

// parseCOSE decodes a notation COSE_Sign1 envelope and checks its signature
// with the leaf certificate of its x5chain header.
func parseCOSE(data []byte) (*notationEnvelope, error) {
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(data); err != nil {
		return nil, fmt.Errorf("%w COSE envelope: %w", ErrMalformed, err)
	}
	encoded, err := coseChain(msg.Headers.Unprotected[coseLabelX5Chain])
	if err != nil {
		return nil, fmt.Errorf("COSE envelope: %w", err)
	}
	chain, err := parseChain(encoded, func(s string) ([]byte, error) { return []byte(s), nil })
	if err != nil {
		return nil, fmt.Errorf("COSE envelope: %w", err)
	}

	protected := msg.Headers.Protected
	contentType, _ := protected[cose.HeaderLabelContentType].(string)
	scheme, _ := protected[headerSigningScheme].(string)
	env := &notationEnvelope{Chain: chain, SigningScheme: scheme, Payload: msg.Payload}
	critical, err := protected.Critical()
	if err != nil {
		return nil, fmt.Errorf("%w COSE envelope: %w", ErrMalformed, err)
	}
	var names []string
	for _, label := range critical {
		name, ok := label.(string)
		if !ok {
			return nil, fmt.Errorf("%w COSE envelope: critical header %v is not supported", ErrUnsupported, label)
		}
		names = append(names, name)
	}
	if err := env.checkHeaders(contentType, names, coseTime(protected[headerSigningTime]), coseTime(protected[headerAuthenticSigningTime]), coseTime(protected[headerExpiry])); err != nil {
		return nil, fmt.Errorf("COSE envelope: %w", err)
	}

	alg, err := protected.Algorithm()
	if err != nil {
		return nil, fmt.Errorf("%w COSE envelope: %w", ErrMalformed, err)
	}
	verifier, err := cose.NewVerifier(alg, chain[0].PublicKey)
	if err != nil {
		return nil, fmt.Errorf("COSE envelope: algorithm %v with the signing certificate's key: %w", alg, ErrSignatureInvalid)
	}
	if err := msg.Verify(nil, verifier); err != nil {
		return nil, fmt.Errorf("COSE envelope: %w: %w", ErrSignatureInvalid, err)
	}
	return env, nil
}

// checkHeaders applies the rules shared by both envelope formats: the
// payload type, the critical headers a verifier must understand, the
// signing scheme and the signing time.
func (env *notationEnvelope) checkHeaders(contentType string, critical []string, signingTime, authenticSigningTime, expiry *time.Time) error {
	if contentType != notationPayloadType {
		return fmt.Errorf("%w: content type %q is not %s", ErrMalformed, contentType, notationPayloadType)
	}
	for _, name := range critical {
		switch name {
		case headerSigningScheme, headerExpiry, headerAuthenticSigningTime:
		default:
			return fmt.Errorf("%w: critical header %q is not supported", ErrUnsupported, name)
		}
	}
	if !slices.Contains(critical, headerSigningScheme) {
		return fmt.Errorf("%w: %s is not marked critical", ErrMalformed, headerSigningScheme)
	}
	if expiry != nil && !slices.Contains(critical, headerExpiry) {
		return fmt.Errorf("%w: %s is present but not marked critical", ErrMalformed, headerExpiry)
	}
	switch env.SigningScheme {
	case schemeX509:
		if signingTime == nil {
			return fmt.Errorf("%w: %s is missing", ErrMalformed, headerSigningTime)
		}
		env.SigningTime = *signingTime
	case schemeX509SigningAuthority:
		if authenticSigningTime == nil {
			return fmt.Errorf("%w: %s is missing", ErrMalformed, headerAuthenticSigningTime)
		}
		env.SigningTime = *authenticSigningTime
	default:
		return fmt.Errorf("%w: signing scheme %q is neither %s nor %s", ErrMalformed, env.SigningScheme, schemeX509, schemeX509SigningAuthority)
	}
	if expiry != nil {
		env.Expiry = *expiry
	}
	return nil
}

func parseChain(encoded []string, decode func(string) ([]byte, error)) ([]*x509.Certificate, error) {
	if len(encoded) == 0 {
		return nil, fmt.Errorf("%w: the certificate chain is missing", ErrMalformed)
	}
	chain := make([]*x509.Certificate, 0, len(encoded))
	for i, e := range encoded {
		der, err := decode(e)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d is not base64", ErrMalformed, i)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrMalformed, i, err)
		}
		chain = append(chain, cert)
	}
	return chain, nil
}

// coseChain returns the DER certificates of a COSE x5chain header, which
// holds one byte string or an array of them.
func coseChain(value any) ([]string, error) {
	switch v := value.(type) {
	case []byte:
		return []string{string(v)}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			der, ok := item.([]byte)
			if !ok {
				return nil, fmt.Errorf("%w: x5chain holds a %T, not a byte string", ErrMalformed, item)
			}
			out = append(out, string(der))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: the x5chain header is missing", ErrMalformed)
}

func coseTime(value any) *time.Time {
	switch v := value.(type) {
	case time.Time:
		return &v
	case int64:
		t := time.Unix(v, 0).UTC()
		return &t
	case uint64:
		t := time.Unix(int64(v), 0).UTC()
		return &t
	}
	return nil
}

// verifyJWSSignature checks a JWS signature made with one of the algorithms
// the Notary Project allows: RSASSA-PSS or ECDSA with SHA-256/384/512.
func verifyJWSSignature(alg string, key crypto.PublicKey, signingInput, sig []byte) error {
	hashes := map[string]crypto.Hash{
		"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
		"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512,
	}
	h, ok := hashes[alg]
	if !ok {
		return fmt.Errorf("%w: JWS algorithm %q is not one the Notary Project allows", ErrUnsupported, alg)
	}
	hasher := h.New()
	hasher.Write(signingInput)
	sum := hasher.Sum(nil)

	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg[0] != 'P' {
			break
		}
		if err := rsa.VerifyPSS(k, h, sum, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			return fmt.Errorf("%w: %w", ErrSignatureInvalid, err)
		}
		return nil
	case *ecdsa.PublicKey:
		if alg[0] != 'E' || len(sig)%2 != 0 {
			break
		}
		r := new(big.Int).SetBytes(sig[:len(sig)/2])
		s := new(big.Int).SetBytes(sig[len(sig)/2:])
		if !ecdsa.Verify(k, sum, r, s) {
			return ErrSignatureInvalid
		}
		return nil
	}
	return fmt.Errorf("%w: JWS algorithm %s does not fit the signing certificate's %T key", ErrSignatureInvalid, alg, key)
}
