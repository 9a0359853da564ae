package keycloak

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// deviceGrant is one device authorization request.
type deviceGrant struct {
	deviceCode string
	userCode   string
	clientID   string
	scope      string
	expires    time.Time
	interval   time.Duration
	lastPoll   time.Time
	approvedBy string // user id
	denied     bool
}

// DeviceAuthorization is the JSON body of a device authorization response.
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

func (s *Server) serveDeviceAuthorization(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	form, oerr := readForm(req)
	var c *ClientConfig
	if oerr == nil {
		c, oerr = s.authenticateClient(rr, req, form)
	}
	if oerr == nil && !c.DeviceGrant {
		oerr = newError(http.StatusBadRequest, "unauthorized_client", "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.")
	}
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	now := s.now()
	s.mu.Lock()
	d := &deviceGrant{
		deviceCode: newKeyID(),
		userCode:   newUserCode(),
		clientID:   c.ClientID,
		scope:      form.Get("scope"),
		expires:    now.Add(time.Duration(rr.realm.cfg.DeviceCodeLifespan) * time.Second),
		interval:   time.Duration(rr.realm.cfg.DevicePollInterval) * time.Second,
	}
	rr.realm.devices[d.deviceCode] = d
	s.mu.Unlock()
	verify := rr.issuer + "/device"
	writeJSON(w, http.StatusOK, DeviceAuthorization{
		DeviceCode:              d.deviceCode,
		UserCode:                d.userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(d.userCode),
		ExpiresIn:               rr.realm.cfg.DeviceCodeLifespan,
		Interval:                rr.realm.cfg.DevicePollInterval,
	})
}

// newUserCode returns a code of the form ABCD-EFGH without vowels, as
// Keycloak's user codes.
func newUserCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	var b [8]byte
	_, _ = rand.Read(b[:])
	code := make([]byte, 0, 9)
	for i, v := range b {
		if i == 4 {
			code = append(code, '-')
		}
		code = append(code, alphabet[int(v)%len(alphabet)])
	}
	return string(code)
}

// pollDevice handles a device_code token request per RFC 8628: pending,
// slow_down (and a 5 s longer interval), expired, denied or the tokens.
func (s *Server) pollDevice(rr realmRequest, c *ClientConfig, form url.Values) (*TokenResponse, *oauthError) {
	code := form.Get("device_code")
	if code == "" {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Missing parameter: device_code")
	}
	now := s.now()
	s.mu.Lock()
	d := rr.realm.devices[code]
	if d == nil || d.clientID != c.ClientID {
		s.mu.Unlock()
		return nil, newError(http.StatusBadRequest, "invalid_grant", "Device code not valid")
	}
	if now.After(d.expires) {
		delete(rr.realm.devices, code)
		s.mu.Unlock()
		return nil, newError(http.StatusBadRequest, "expired_token", "Device code is expired")
	}
	if !d.lastPoll.IsZero() && now.Before(d.lastPoll.Add(d.interval)) {
		d.lastPoll = now
		d.interval += 5 * time.Second
		s.mu.Unlock()
		return nil, newError(http.StatusBadRequest, "slow_down", "Slow down")
	}
	d.lastPoll = now
	if d.denied {
		delete(rr.realm.devices, code)
		s.mu.Unlock()
		return nil, newError(http.StatusBadRequest, "access_denied", "The end user denied the authorization request")
	}
	if d.approvedBy == "" {
		s.mu.Unlock()
		return nil, newError(http.StatusBadRequest, "authorization_pending", "The authorization request is still pending")
	}
	delete(rr.realm.devices, code)
	u := rr.realm.userByID(d.approvedBy)
	s.mu.Unlock()
	if u == nil || u.Disabled {
		return nil, newError(http.StatusBadRequest, "invalid_grant", "Account disabled")
	}
	return s.login(rr, c, u, d.scope)
}

// ApproveDevice approves a pending device authorization as username, as
// if the user had entered userCode on the verification page and logged in.
func (s *Server) ApproveDevice(realmName, userCode, username string) error {
	return s.decideDevice(realmName, userCode, func(r *realm, d *deviceGrant) error {
		u := r.users[username]
		if u == nil || u.serviceAccountOf != "" {
			return fmt.Errorf("user %q: %w", username, errNotFound)
		}
		d.approvedBy = u.ID
		return nil
	})
}

// DenyDevice denies a pending device authorization.
func (s *Server) DenyDevice(realmName, userCode string) error {
	return s.decideDevice(realmName, userCode, func(_ *realm, d *deviceGrant) error {
		d.denied = true
		return nil
	})
}

func (s *Server) decideDevice(realmName, userCode string, decide func(*realm, *deviceGrant) error) error {
	return s.withRealm(realmName, func(r *realm) error {
		for _, d := range r.devices {
			if d.userCode == userCode && d.approvedBy == "" && !d.denied {
				return decide(r, d)
			}
		}
		return fmt.Errorf("user code %q: %w", userCode, errNotFound)
	})
}

// serveDeviceVerification replaces Keycloak's browser page at
// /realms/<realm>/device: a form post of user_code, username and password
// approves the request, and action=deny denies it. Real Keycloak shows a
// login page here instead.
func (s *Server) serveDeviceVerification(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	form, oerr := readForm(req)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	userCode := form.Get("user_code")
	if form.Get("action") == "deny" {
		if err := s.DenyDevice(rr.name, userCode); err != nil {
			writeError(w, newError(http.StatusBadRequest, "invalid_request", "Invalid user code"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "denied"})
		return
	}
	s.mu.Lock()
	u := rr.realm.users[form.Get("username")]
	s.mu.Unlock()
	if u == nil || u.Password == "" || u.Password != form.Get("password") {
		writeError(w, newError(http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"))
		return
	}
	if err := s.ApproveDevice(rr.name, userCode, u.Username); err != nil {
		writeError(w, newError(http.StatusBadRequest, "invalid_request", "Invalid user code"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "approved"})
}
