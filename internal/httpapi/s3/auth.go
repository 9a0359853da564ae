package s3

import (
	"net/http"

	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/identity"
)

// SignatureAuthenticator authenticates with AWS Signature V4 and V2.
// Anonymous requests are denied: no policy can allow them yet.
type SignatureAuthenticator struct {
	Verifier *sigv4.Verifier
}

// Authenticate implements Authenticator.
func (a SignatureAuthenticator) Authenticate(r *http.Request, bucket string) (Auth, error) {
	id, body, err := a.Verifier.VerifyWithBucket(r, bucket)
	if err != nil {
		return Auth{}, err
	}
	if id.Method == sigv4.MethodAnonymous {
		return Auth{}, newError("AccessDenied", http.StatusForbidden, "Access Denied: anonymous requests are not allowed; sign the request with an access key")
	}
	return Auth{
		Principal: id.AccessKey,
		// The verifier knows only the root user's access key so far.
		PrincipalID:   identity.RootPrincipalID,
		Body:          body,
		DecodedLength: body.DecodedLength(),
		Trailer:       func(name string) string { return body.Trailers().Get(name) },
	}, nil
}
