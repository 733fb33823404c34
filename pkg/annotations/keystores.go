package annotations

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certinel/certinel/pkg/badinput"
)

// Format is a keystore format.
type Format string

const (
	JKS    Format = "jks"
	PKCS12 Format = "pkcs12"
)

// Profile is a PKCS#12 encryption profile.
type Profile string

const (
	// Modern2023: PBES2 (PBKDF2-SHA-256, AES-256-CBC), HMAC-SHA-256 MAC.
	// Java 12+ (8u301+), OpenSSL 1.1.1+.
	Modern2023 Profile = "modern2023"
	// Modern2026: as Modern2023 with a PBMAC1 MAC. Java 24+, OpenSSL 3.4+.
	Modern2026 Profile = "modern2026"
	// LegacyRC2: RC2-40 certificates, 3DES key, SHA-1 MAC. Old Java 8.
	LegacyRC2 Profile = "legacy-rc2"
	// LegacyDES: 3DES certificates and key, SHA-1 MAC. Old Java 8.
	LegacyDES Profile = "legacy-des"
)

// Profiles lists the valid PKCS#12 profiles, default first.
var Profiles = []Profile{Modern2023, Modern2026, LegacyRC2, LegacyDES}

// SourceKind is the kind of object a truststore source is read from.
type SourceKind string

const (
	SecretSource    SourceKind = "secret"
	ConfigMapSource SourceKind = "configmap"
)

// SourceRef points at a data key of a Secret or ConfigMap.
type SourceRef struct {
	Kind      SourceKind
	Namespace string
	Name      string
	Key       string
}

func (s SourceRef) String() string {
	return fmt.Sprintf("%s:%s/%s/%s", s.Kind, s.Namespace, s.Name, s.Key)
}

// Password says where the store password comes from. With neither a Secret
// nor a literal, the password is DefaultPassword.
type Password struct {
	SecretName string // same namespace as the annotated Secret
	SecretKey  string
	Literal    string
	HasLiteral bool
	// Default replaces DefaultPassword when neither is given: "changeme"
	// for stores asked for by cert-utils keys (--compat=cert-utils).
	Default string
}

// Or returns the password to use when neither a Secret nor a literal is
// given.
func (p Password) Or() string {
	if p.Default != "" {
		return p.Default
	}
	return DefaultPassword
}

// KeystoreSpec is what the section 1 annotations of a Secret ask for.
type KeystoreSpec struct {
	Formats           []Format // sorted, de-duplicated; empty means no keystores
	Password          Password
	Alias             string
	Profile           Profile
	TruststoreSources []SourceRef // sorted, de-duplicated
	Target            string      // Secret name, "" to write into the annotated Secret
	CertInfo          bool
	// TrustAliases names the truststore's certificates; only cert-utils
	// compatibility sets it (AliasIndexed).
	TrustAliases AliasScheme
}

// Enabled reports whether the spec asks certinel to write anything.
func (s KeystoreSpec) Enabled() bool { return len(s.Formats) > 0 || s.CertInfo }

// OutputKeys is the sorted set of data keys the spec produces. ca.crt.info
// is written only when the source has a ca.crt, so hasCA tells.
func (s KeystoreSpec) OutputKeys(hasCA bool) []string {
	var keys []string
	for _, f := range s.Formats {
		switch f {
		case JKS:
			keys = append(keys, KeystoreJKSKey, TruststoreJKSKey)
		case PKCS12:
			keys = append(keys, KeystorePKCS12Key, TruststorePKCS12Key)
		}
	}
	if s.CertInfo {
		keys = append(keys, TLSCertInfoKey)
		if hasCA {
			keys = append(keys, CACertInfoKey)
		}
	}
	slices.Sort(keys)
	return keys
}

// References lists the objects whose content the outputs depend on, besides
// the annotated Secret: the password Secret and the truststore sources.
func (s KeystoreSpec) References(namespace string) []SourceRef {
	var refs []SourceRef
	if s.Password.SecretName != "" {
		refs = append(refs, SourceRef{Kind: SecretSource, Namespace: namespace, Name: s.Password.SecretName, Key: s.Password.SecretKey})
	}
	return append(refs, s.TruststoreSources...)
}

// ParseKeystoreSpec reads the section 1 annotations of a Secret in namespace.
// An invalid value yields a *badinput.Error naming the key and what to fix.
func ParseKeystoreSpec(namespace string, ann map[string]string) (KeystoreSpec, error) {
	spec := KeystoreSpec{Alias: DefaultAlias, Profile: Modern2023}
	if _, both := ann[Truststores]; both {
		if _, ks := ann[Keystores]; ks {
			return KeystoreSpec{}, badinput.Errorf(badinput.InvalidAnnotation,
				"set only one of %s and %s: keystores already come with their truststores", Truststores, Keystores)
		}
	}
	var err error
	if spec.Formats, err = parseFormats(value(ann, Keystores)); err != nil {
		return KeystoreSpec{}, err
	}
	if spec.CertInfo, err = parseBool(CertInfo, value(ann, CertInfo)); err != nil {
		return KeystoreSpec{}, err
	}
	if spec.Password, err = parsePassword(ann); err != nil {
		return KeystoreSpec{}, err
	}
	if v, ok := ann[KeystoreAlias]; ok {
		if spec.Alias, err = parseAlias(strings.TrimSpace(v)); err != nil {
			return KeystoreSpec{}, err
		}
	}
	if v := value(ann, PKCS12Profile); v != "" {
		spec.Profile = Profile(strings.ToLower(v))
		if !slices.Contains(Profiles, spec.Profile) {
			return KeystoreSpec{}, badinput.Errorf(badinput.UnknownPKCS12Profile,
				"%s: unknown profile %s; use one of %s", PKCS12Profile, badinput.Quote(v), joinProfiles())
		}
	}
	if spec.TruststoreSources, err = ParseSourceList(TruststoreSources, namespace, value(ann, TruststoreSources)); err != nil {
		return KeystoreSpec{}, err
	}
	if v := value(ann, KeystoresTarget); v != "" {
		if errs := validation.IsDNS1123Subdomain(v); len(errs) > 0 {
			return KeystoreSpec{}, invalid(KeystoresTarget, v, "a Secret name: "+strings.Join(errs, "; "))
		}
		spec.Target = v
	}
	spec.Password.Default, spec.TrustAliases = compatDefaults(ann)
	return spec, nil
}

// compatDefaults are the default password and alias scheme of stores that
// cert-utils keys asked for (the cache marks them with CompatDefaults).
func compatDefaults(ann map[string]string) (string, AliasScheme) {
	if ann[CompatDefaults] == compatCertUtils {
		return certUtilsDefaultPassword, AliasIndexed
	}
	return "", AliasStable
}

func value(ann map[string]string, key string) string { return strings.TrimSpace(ann[key]) }

func invalid(key, v, want string) error {
	return badinput.Errorf(badinput.InvalidAnnotation, "%s: invalid value %s: want %s", key, badinput.Quote(v), want)
}

func parseFormats(v string) ([]Format, error) {
	var formats []Format
	for _, item := range splitList(v) {
		f := Format(strings.ToLower(item))
		if f != JKS && f != PKCS12 {
			return nil, badinput.Errorf(badinput.UnknownKeystoreFormat,
				"%s: unknown format %s; use jks, pkcs12 or jks,pkcs12", Keystores, badinput.Quote(item))
		}
		formats = append(formats, f)
	}
	slices.Sort(formats)
	return slices.Compact(formats), nil
}

func parseBool(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalid(key, v, `"true" or "false"`)
}

func parsePassword(ann map[string]string) (Password, error) {
	ref, hasRef := ann[KeystorePasswordSecret]
	literal, hasLiteral := ann[KeystorePassword]
	if hasRef && hasLiteral {
		return Password{}, badinput.Errorf(badinput.InvalidAnnotation,
			"set only one of %s and %s (prefer the Secret)", KeystorePasswordSecret, KeystorePassword)
	}
	if hasLiteral {
		// Values are trimmed, like every annotation value.
		if literal = strings.TrimSpace(literal); literal == "" {
			return Password{}, badinput.Errorf(badinput.InvalidPassword, "%s is empty or only white space; stores need a password", KeystorePassword)
		}
		return Password{Literal: literal, HasLiteral: true}, nil
	}
	if !hasRef {
		return Password{}, nil
	}
	ref = strings.TrimSpace(ref)
	name, key, _ := strings.Cut(ref, "/")
	if key == "" {
		key = DefaultPasswordSecretKey
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return Password{}, invalid(KeystorePasswordSecret, ref, `"name" or "name/key" of a Secret in the same namespace`)
	}
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return Password{}, invalid(KeystorePasswordSecret, ref, "a valid data key after the slash")
	}
	return Password{SecretName: name, SecretKey: key}, nil
}

func parseAlias(v string) (string, error) {
	// JKS and keytool compare aliases case-insensitively and store them in
	// lower case; use the same form in every format.
	alias := strings.ToLower(v)
	// Java reads JKS aliases as modified UTF-8, which has no 4-byte
	// sequences: characters beyond U+FFFF would make the whole store unreadable.
	bad := func(r rune) bool { return !unicode.IsPrint(r) || r > 0xFFFF }
	if alias == "" || utf8.RuneCountInString(alias) > 255 || strings.IndexFunc(alias, bad) >= 0 {
		return "", invalid(KeystoreAlias, v, "1 to 255 printable characters, none beyond U+FFFF (no emoji)")
	}
	return alias, nil
}

// ParseSourceList parses a list of "secret:[ns/]name[/key]" and
// "configmap:[ns/]name[/key]" items. The result is sorted and de-duplicated.
func ParseSourceList(key, namespace, v string) ([]SourceRef, error) {
	var refs []SourceRef
	for _, item := range splitList(v) {
		ref, err := parseSource(namespace, item)
		if err != nil {
			return nil, invalid(key, item, `"secret:[namespace/]name[/key]" or "configmap:[namespace/]name[/key]" (`+err.Error()+")")
		}
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b SourceRef) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(refs), nil
}

func parseSource(namespace, item string) (SourceRef, error) {
	kind, path, ok := strings.Cut(item, ":")
	if !ok {
		return SourceRef{}, fmt.Errorf("missing kind")
	}
	ref := SourceRef{Kind: SourceKind(strings.ToLower(strings.TrimSpace(kind))), Namespace: namespace, Key: DefaultSourceKey}
	if ref.Kind != SecretSource && ref.Kind != ConfigMapSource {
		return SourceRef{}, fmt.Errorf("unknown kind %s", badinput.Quote(kind))
	}
	parts := strings.Split(strings.TrimSpace(path), "/")
	switch len(parts) {
	case 1:
		ref.Name = parts[0]
	case 2:
		// "ns/name" or "name/key": a name followed by a data key is the same
		// namespace; keys usually contain a dot, namespaces never do.
		if strings.Contains(parts[1], ".") || validation.IsDNS1123Label(parts[0]) != nil {
			ref.Name, ref.Key = parts[0], parts[1]
		} else {
			ref.Namespace, ref.Name = parts[0], parts[1]
		}
	case 3:
		ref.Namespace, ref.Name, ref.Key = parts[0], parts[1], parts[2]
	default:
		return SourceRef{}, fmt.Errorf("too many slashes")
	}
	if errs := validation.IsDNS1123Label(ref.Namespace); len(errs) > 0 {
		return SourceRef{}, fmt.Errorf("bad namespace %s", badinput.Quote(ref.Namespace))
	}
	if errs := validation.IsDNS1123Subdomain(ref.Name); len(errs) > 0 {
		return SourceRef{}, fmt.Errorf("bad name %s", badinput.Quote(ref.Name))
	}
	if errs := validation.IsConfigMapKey(ref.Key); len(errs) > 0 {
		return SourceRef{}, fmt.Errorf("bad key %s", badinput.Quote(ref.Key))
	}
	return ref, nil
}

func splitList(v string) []string {
	var items []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

func joinProfiles() string {
	names := make([]string, len(Profiles))
	for i, p := range Profiles {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
