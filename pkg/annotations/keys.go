// Package annotations is certinel's user interface: every annotation key,
// every data key certinel writes, and the parsing and validation of their
// values. Controllers never spell a key themselves.
//
// The contract is ../shared/design/annotations.md; the README documents each
// key as it is implemented.
package annotations

import "slices"

// Prefix starts every certinel annotation.
const Prefix = "certinel.io/"

// Section 1: keystores and truststores, on a Secret holding tls.crt and tls.key.
const (
	// Keystores asks for keystores: "jks", "pkcs12" or both, comma-separated.
	Keystores = Prefix + "keystores"
	// KeystorePasswordSecret names the Secret holding the store password:
	// "name" or "name/key" in the same namespace; key defaults to "password".
	KeystorePasswordSecret = Prefix + "keystore-password-secret"
	// KeystorePassword is the store password in clear (discouraged).
	KeystorePassword = Prefix + "keystore-password"
	// KeystoreAlias is the alias of the private key entry.
	KeystoreAlias = Prefix + "keystore-alias"
	// PKCS12Profile selects the PKCS#12 encryption profile.
	PKCS12Profile = Prefix + "pkcs12-profile"
	// TruststoreSources lists extra CA sources merged into the truststores.
	TruststoreSources = Prefix + "truststore-sources"
	// KeystoresTarget names a Secret in the same namespace that receives
	// everything certinel generates from this Secret, instead of the Secret itself.
	KeystoresTarget = Prefix + "keystores-target"
	// CertInfo "true" writes tls.crt.info and ca.crt.info.
	CertInfo = Prefix + "cert-info"
)

// Section 2: CA bundle injection.
const (
	InjectCAFrom          = Prefix + "inject-ca-from"
	InjectCAFromConfigMap = Prefix + "inject-ca-from-configmap"
	InjectCAKey           = Prefix + "inject-ca-key"
)

// Section 3: Routes and Ingresses.
const (
	CertsFromSecret         = Prefix + "certs-from-secret"
	DestinationCAFromSecret = Prefix + "destination-ca-from-secret"
	InjectCA                = Prefix + "inject-ca"
)

// Consent for cross-namespace reads, on the source Secret or ConfigMap.
const (
	// AllowExportTo lists the namespaces (or "*") that may read everything
	// of this Secret, its private key included (an Ingress mirror copies it).
	AllowExportTo = Prefix + "allow-export-to"
	// ShareCertificatesWith lists the namespaces (or "*") that may read the
	// certificates of this Secret or ConfigMap, never a private key.
	ShareCertificatesWith = Prefix + "share-certificates-with"
)

// Section 4: reload of workloads.
const (
	ReloadSecrets    = Prefix + "reload-secrets"
	ReloadConfigMaps = Prefix + "reload-configmaps"
	Reload           = Prefix + "reload"
	ReloadIgnore     = Prefix + "reload-ignore"
	ConfigHash       = Prefix + "config-hash"
)

// Section 5: certificate expiry.
const (
	Monitor       = Prefix + "monitor"
	ExpiryWarning = Prefix + "expiry-warning"
)

// Bookkeeping that certinel writes on the objects it changes.
const (
	// ManagedKeys lists, sorted and comma-separated, the data keys certinel
	// wrote on this object. certinel never touches a data key not listed here.
	ManagedKeys = Prefix + "managed-keys"
	// ManagedDigests records, for each key of ManagedKeys, the first 8
	// bytes of the SHA-256 of the value certinel wrote ("key=digest,..."),
	// so that a value somebody replaced since is left to them. It is apart
	// from ManagedKeys so that an older certinel still reads that one.
	ManagedDigests = Prefix + "managed-digests"
	// KeystoresFingerprint is an HMAC, keyed with the store password, of every
	// input of the keystores. The stores are rebuilt only when it changes.
	KeystoresFingerprint = Prefix + "keystores-fingerprint"
)

// Data keys read from a TLS Secret (kubernetes.io/tls, as cert-manager writes it).
const (
	TLSCertKey = "tls.crt"
	TLSKeyKey  = "tls.key"
	CACertKey  = "ca.crt"
)

// Data keys certinel writes for section 1.
const (
	KeystoreJKSKey      = "keystore.jks"
	TruststoreJKSKey    = "truststore.jks"
	KeystorePKCS12Key   = "keystore.p12"
	TruststorePKCS12Key = "truststore.p12"
	TLSCertInfoKey      = "tls.crt.info"
	CACertInfoKey       = "ca.crt.info"
)

// KeystoreOutputKeys is every data key the keystore feature may write.
var KeystoreOutputKeys = []string{
	CACertInfoKey, KeystoreJKSKey, KeystorePKCS12Key,
	TLSCertInfoKey, TruststoreJKSKey, TruststorePKCS12Key,
}

// Defaults.
const (
	DefaultPassword          = "changeit"
	DefaultAlias             = "certificate"
	DefaultPasswordSecretKey = "password"
	DefaultSourceKey         = CACertKey
)

// Bookkeeping on the mirror of a Secret of another namespace that an
// Ingress uses (section 3).
const (
	// MirrorOf names the Secret ("namespace/name") a mirror copies.
	MirrorOf = Prefix + "mirror-of"
	// MirrorFingerprint summarises the data copied, so that the mirror is
	// rewritten only when its source changed, without keeping its private
	// key in certinel's cache.
	MirrorFingerprint = Prefix + "mirror-fingerprint"
)

// metadataOnly are the keys that ask certinel for nothing from the object's
// data: consent to be read, opting out of reload or monitoring. An object
// that carries only these costs certinel no cached data.
var metadataOnly = []string{AllowExportTo, ShareCertificatesWith, ReloadIgnore, Monitor, ExpiryWarning, MirrorOf, MirrorFingerprint}

// NeedsData reports whether an object with these annotations asks certinel
// to read or write its own data (keystores, cert-info, injection targets,
// bookkeeping of outputs), so that its data is worth caching. Consent and
// opt-out keys alone do not count.
func NeedsData(annotations map[string]string) bool {
	for k := range annotations {
		if len(k) > len(Prefix) && k[:len(Prefix)] == Prefix && !slices.Contains(metadataOnly, k) {
			return true
		}
	}
	return false
}

// HasAny reports whether annotations contain any certinel key.
func HasAny(annotations map[string]string) bool {
	for k := range annotations {
		if len(k) > len(Prefix) && k[:len(Prefix)] == Prefix {
			return true
		}
	}
	return false
}
