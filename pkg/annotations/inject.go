package annotations

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certinel/certinel/pkg/badinput"
)

// Section 2 bookkeeping: what certinel injected into a target.
const (
	// InjectedCAs lists, sorted, the short SHA-256 fingerprints of the CA
	// certificates certinel injected into this object. During a rotation,
	// the ones the source no longer has stay until they expire; anything
	// else in the target's bundle is not certinel's to keep.
	InjectedCAs = Prefix + "injected-cas"
)

// InjectSpec is what the section 2 annotations of a CA injection target ask for.
type InjectSpec struct {
	// Source is the Secret or ConfigMap and data key the CA certificates
	// come from.
	Source SourceRef
	// TargetKey is the data key written in a ConfigMap or Secret target.
	TargetKey string
}

// ParseInjectSpec reads the injection annotations of a target in namespace
// targetNS ("" for a cluster-scoped target, whose sources must name their
// namespace). ok is false when the target asks for no injection.
func ParseInjectSpec(targetNS string, ann map[string]string) (spec InjectSpec, ok bool, err error) {
	fromSecret, hasSecret := ann[InjectCAFrom]
	fromConfigMap, hasConfigMap := ann[InjectCAFromConfigMap]
	switch {
	case hasSecret && hasConfigMap:
		return InjectSpec{}, true, badinput.Errorf(badinput.InvalidAnnotation, "set only one of %s and %s", InjectCAFrom, InjectCAFromConfigMap)
	case hasSecret:
		spec.Source, err = parseInjectSource(InjectCAFrom, SecretSource, targetNS, strings.TrimSpace(fromSecret))
	case hasConfigMap:
		spec.Source, err = parseInjectSource(InjectCAFromConfigMap, ConfigMapSource, targetNS, strings.TrimSpace(fromConfigMap))
	default:
		return InjectSpec{}, false, nil
	}
	if err != nil {
		return InjectSpec{}, true, err
	}
	if spec.TargetKey, err = dataKey(ann, InjectCAKey); err != nil {
		return InjectSpec{}, true, err
	}
	return spec, true, nil
}

// dataKey is the data key annotation key names, ca.crt when it is not set.
func dataKey(ann map[string]string, key string) (string, error) {
	v, set := ann[key]
	if !set {
		return CACertKey, nil
	}
	v = strings.TrimSpace(v)
	if errs := validation.IsConfigMapKey(v); len(errs) > 0 {
		return "", invalid(key, v, "a data key: "+strings.Join(errs, "; "))
	}
	return v, nil
}

// parseInjectSource reads "namespace/name" or "namespace/name/key", and for
// a namespaced target also "name" (its own namespace).
func parseInjectSource(key string, kind SourceKind, targetNS, v string) (SourceRef, error) {
	want := `"namespace/name" or "namespace/name/key"`
	if targetNS != "" {
		want = `"name", "namespace/name" or "namespace/name/key"`
	}
	ref := SourceRef{Kind: kind, Namespace: targetNS, Key: CACertKey}
	parts := strings.Split(v, "/")
	switch {
	case len(parts) == 1 && targetNS != "":
		ref.Name = parts[0]
	case len(parts) == 2:
		ref.Namespace, ref.Name = parts[0], parts[1]
	case len(parts) == 3:
		ref.Namespace, ref.Name, ref.Key = parts[0], parts[1], parts[2]
	default:
		return SourceRef{}, invalid(key, v, want)
	}
	if errs := validation.IsDNS1123Label(ref.Namespace); len(errs) > 0 {
		return SourceRef{}, invalid(key, v, fmt.Sprintf("%s with a valid namespace", want))
	}
	if errs := validation.IsDNS1123Subdomain(ref.Name); len(errs) > 0 {
		return SourceRef{}, invalid(key, v, fmt.Sprintf("%s with a valid name", want))
	}
	if errs := validation.IsConfigMapKey(ref.Key); len(errs) > 0 {
		return SourceRef{}, invalid(key, v, fmt.Sprintf("%s with a valid data key", want))
	}
	return ref, nil
}

// Section 2, truststores from a CA bundle.
const (
	// Truststores on a ConfigMap or Secret holding a CA bundle asks for
	// truststore.jks and/or truststore.p12 built from it.
	Truststores = Prefix + "truststores"
	// TruststoreKey is the bundle key to read, default ca.crt.
	TruststoreKey = Prefix + "truststore-key"
	// TruststoresFingerprint is an HMAC, keyed with the store password, of
	// every input of the bundle truststores.
	TruststoresFingerprint = Prefix + "truststores-fingerprint"
)

// TruststoreSpec is what the truststore annotations of a ConfigMap or
// Secret ask for.
type TruststoreSpec struct {
	Formats  []Format
	Password Password
	Profile  Profile
	// Key is the data key of the bundle.
	Key string
	// TrustAliases names the certificates; only cert-utils compatibility
	// sets it (AliasIndexed).
	TrustAliases AliasScheme
}

// ParseTruststoreSpec reads the truststore annotations of a ConfigMap or
// Secret. asks is false when it asks for no truststore.
func ParseTruststoreSpec(ann map[string]string) (spec TruststoreSpec, asks bool, err error) {
	v, asks := ann[Truststores]
	if !asks {
		return TruststoreSpec{}, false, nil
	}
	if _, both := ann[Keystores]; both {
		return TruststoreSpec{}, true, badinput.Errorf(badinput.InvalidAnnotation,
			"set only one of %s and %s: keystores already come with their truststores", Truststores, Keystores)
	}
	if spec.Formats, err = parseFormats(strings.TrimSpace(v)); err != nil {
		return TruststoreSpec{}, true, err
	}
	if len(spec.Formats) == 0 {
		return TruststoreSpec{}, true, invalid(Truststores, v, "jks, pkcs12 or jks,pkcs12")
	}
	if spec.Password, err = parsePassword(ann); err != nil {
		return TruststoreSpec{}, true, err
	}
	spec.Profile = Modern2023
	if p := value(ann, PKCS12Profile); p != "" {
		spec.Profile = Profile(strings.ToLower(p))
		if !slices.Contains(Profiles, spec.Profile) {
			return TruststoreSpec{}, true, badinput.Errorf(badinput.UnknownPKCS12Profile,
				"%s: unknown profile %s; use one of %s", PKCS12Profile, badinput.Quote(p), joinProfiles())
		}
	}
	if spec.Key, err = dataKey(ann, TruststoreKey); err != nil {
		return TruststoreSpec{}, true, err
	}
	spec.Password.Default, spec.TrustAliases = compatDefaults(ann)
	return spec, true, nil
}
