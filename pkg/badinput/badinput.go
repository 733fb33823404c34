// Package badinput is the error type for problems a user must fix in their
// objects: a malformed certificate, an unknown annotation value, a missing
// referenced Secret. Each carries a CamelCase reason that becomes the reason of
// the Warning Event certinel emits, and a message that says what to fix.
package badinput

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is a problem with user input. It is never retried: certinel waits for
// the input to change.
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given reason and a formatted message.
func Errorf(reason, format string, args ...any) error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Prefix puts s before the message of a bad-input error (naming the data
// key or source at fault); other errors are returned as they are.
func Prefix(err error, s string) error {
	if e, ok := As(err); ok {
		return &Error{Reason: e.Reason, Message: s + e.Message}
	}
	return err
}

// As returns the *Error inside err, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Reasons used across certinel. Keep them stable: users alert on them.
const (
	MalformedPEM            = "MalformedPEM"
	NoCertificate           = "NoCertificate"
	NoPrivateKey            = "NoPrivateKey"
	EncryptedPrivateKey     = "EncryptedPrivateKey"
	UnsupportedKeyType      = "UnsupportedKeyType"
	KeyCertificateMismatch  = "KeyCertificateMismatch"
	ChainTooLong            = "ChainTooLong"
	BundleTooLarge          = "BundleTooLarge"
	InvalidAnnotation       = "InvalidAnnotation"
	UnknownKeystoreFormat   = "UnknownKeystoreFormat"
	UnknownPKCS12Profile    = "UnknownPKCS12Profile"
	MissingPasswordSecret   = "MissingPasswordSecret"
	InvalidPassword         = "InvalidPassword"
	MissingTruststoreSource = "MissingTruststoreSource"
	MissingSourceKey        = "MissingSourceKey"
	// CompatKeyIgnored: a cert-utils or Reloader key (--compat) that a
	// certinel key on the same object overrides.
	CompatKeyIgnored = "CompatKeyIgnored"
	DataKeyConflict  = "DataKeyConflict"
	TargetConflict   = "TargetConflict"
)

// quoteLimit is how much of a user's value a message quotes. The API server
// refuses an Event whose note exceeds 1 KiB, so a message must stay short
// whatever the user wrote.
const quoteLimit = 64

// Quote quotes a value the user wrote for a message, cut to quoteLimit
// characters.
func Quote(v string) string {
	if utf8.RuneCountInString(v) <= quoteLimit {
		return strconv.Quote(v)
	}
	r := []rune(v)
	return fmt.Sprintf("%s... (%d characters)", strconv.Quote(string(r[:quoteLimit])), len(r))
}

// NoteLimit is the longest Event note the API server accepts, in bytes.
const NoteLimit = 1024

// Truncate cuts a message to at most NoteLimit bytes on a character
// boundary, so an Event is never refused for its length.
func Truncate(msg string) string {
	if len(msg) <= NoteLimit {
		return msg
	}
	const cut = "..."
	end := NoteLimit - len(cut)
	for end > 0 && !utf8.RuneStart(msg[end]) {
		end--
	}
	return msg[:end] + cut
}

// Reasons of reads across namespaces and of outputs the API server cannot take.
const (
	// SourceNotShared: a source in another namespace without consent (or
	// that does not exist: the message is the same).
	SourceNotShared = "SourceNotShared"
	// SecretExportNotAllowed: an Ingress names a Secret of another
	// namespace that does not carry certinel.io/allow-export-to for it
	// (SourceNotShared, for the one feature that copies a private key).
	SecretExportNotAllowed = "SecretExportNotAllowed"
	// OutputTooLarge: the outputs would not fit the Secret or ConfigMap.
	OutputTooLarge = "OutputTooLarge"
	// WriteRejected: the API server refused a write that retrying cannot fix.
	WriteRejected = "WriteRejected"
	// DataKeyReleased: a data key certinel wrote was replaced by somebody
	// else; certinel left it and no longer manages it.
	DataKeyReleased = "DataKeyReleased"
	// PlaintextPassword: a store password given in clear in an annotation;
	// the stores are written all the same.
	PlaintextPassword = "PlaintextPassword"
)

// Reasons of CA injection.
const (
	// TargetNotInjectable: the target has no place for a CA bundle (a CRD
	// without a conversion webhook, an insecure or local APIService, a
	// webhook configuration without webhooks).
	TargetNotInjectable = "TargetNotInjectable"
	// MissingCASource: the Secret or ConfigMap to inject from does not exist.
	MissingCASource = "MissingCASource"
)

// Reasons of Routes and Ingresses.
const (
	// PassthroughRoute: a passthrough Route takes no certificate.
	PassthroughRoute = "PassthroughRoute"
	// ExternalCertificateRoute: the Route reads its certificate from a Secret itself.
	ExternalCertificateRoute = "ExternalCertificateRoute"
	// CertificateHostMismatch: the certificate does not cover a host; it is applied anyway.
	CertificateHostMismatch = "CertificateHostMismatch"
)

// MissingSecret: a Secret a Route or an Ingress names does not exist.
const MissingSecret = "MissingSecret"
