package sts

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/identity"
)

// The XML documents of AssumeRoleWithWebIdentity, in AWS's element names.

type assumeRoleResponse struct {
	XMLName  xml.Name         `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Result   assumeRoleResult `xml:"AssumeRoleWithWebIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	Audience                    string          `xml:"Audience"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials                 credentials     `xml:"Credentials"`
	Provider                    string          `xml:"Provider"`
	PackedPolicySize            int             `xml:"PackedPolicySize"`
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type credentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type errorResponse struct {
	XMLName   xml.Name    `xml:"ErrorResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Error     errorDetail `xml:"Error"`
	RequestID string      `xml:"RequestId"`
}

type errorDetail struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// newResult builds the result of a successful call. The assumed role is
// named after the requested role, whose ARN Coffer accepts but does not
// map: what the credentials may do follows from the token's principal.
func newResult(id identity.Identity, creds identity.SessionCredentials, roleARN, sessionName string, policySize int) *assumeRoleResult {
	issuer, sub := subject(id.Principal.ID)
	role := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return &assumeRoleResult{
		SubjectFromWebIdentityToken: sub,
		Audience:                    audience(id.Principal.Claims),
		AssumedRoleUser: assumedRoleUser{
			Arn:           "arn:aws:sts::000000000000:assumed-role/" + role + "/" + sessionName,
			AssumedRoleID: creds.AccessKeyID + ":" + sessionName,
		},
		Credentials: credentials{
			AccessKeyID:     creds.AccessKeyID,
			SecretAccessKey: creds.SecretAccessKey,
			SessionToken:    creds.SessionToken,
			Expiration:      creds.Expires.UTC().Format(time.RFC3339),
		},
		Provider:         issuer,
		PackedPolicySize: packedPolicySize(policySize),
	}
}

// audience returns the token's azp, or its first aud.
func audience(claims map[string]any) string {
	if azp, ok := claims["azp"].(string); ok && azp != "" {
		return azp
	}
	switch aud := claims["aud"].(type) {
	case string:
		return aud
	case []any:
		if len(aud) > 0 {
			s, _ := aud[0].(string)
			return s
		}
	}
	return ""
}

// packedPolicySize reports the session policy's size as the percentage of
// AWS's 2048-character limit that it uses, as AWS does.
func packedPolicySize(size int) int {
	return size * 100 / 2048
}
