package annotations

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certinel/certinel/pkg/badinput"
)

// Section 6: compatibility with cert-utils-operator and Reloader. With
// --compat, certinel reads their annotations as the certinel keys they
// stand for (Translate); everything else is certinel's own code.

// CertUtilsPrefix starts every cert-utils-operator annotation.
const CertUtilsPrefix = "cert-utils-operator.redhat-cop.io/"

// cert-utils-operator keys certinel honours with --compat=cert-utils.
const (
	// CertUtilsKeystores "true" on a Secret: keystore.jks (alias "alias")
	// and truststore.jks (aliases alias0, alias1, ...), password "changeme".
	CertUtilsKeystores = CertUtilsPrefix + "generate-java-keystores"
	// CertUtilsPassword is the store password in clear, of a Secret's
	// keystores or of a ConfigMap's truststore.
	CertUtilsPassword = CertUtilsPrefix + "java-keystore-password"
	// CertUtilsCertInfo "true" on a Secret: tls.crt.info and ca.crt.info.
	CertUtilsCertInfo = CertUtilsPrefix + "generate-cert-info"
	// CertUtilsTruststore "true" on a ConfigMap: truststore.jks (binaryData)
	// from the bundle under CertUtilsSourceKey.
	CertUtilsTruststore = CertUtilsPrefix + "generate-java-truststore"
	// CertUtilsSourceKey is the bundle key of a ConfigMap truststore,
	// default ca-bundle.crt.
	CertUtilsSourceKey = CertUtilsPrefix + "source-ca-key"
	// CertUtilsInjectCAFrom is "namespace/name" of a Secret whose ca.crt is
	// injected (webhooks, CRDs, APIServices, ConfigMaps, Secrets).
	CertUtilsInjectCAFrom = CertUtilsPrefix + "injectca-from-secret"
	// CertUtilsExpiryAlert "true" on a Secret: a Warning when its
	// certificate is within CertUtilsExpiryThreshold of expiring.
	CertUtilsExpiryAlert = CertUtilsPrefix + "generate-cert-expiry-alert"
	// CertUtilsExpiryThreshold is a Go duration, default 90 days.
	CertUtilsExpiryThreshold = CertUtilsPrefix + "cert-soon-to-expire-threshold"
	// Route keys.
	CertUtilsCertsFromSecret   = CertUtilsPrefix + "certs-from-secret"
	CertUtilsDestinationCAFrom = CertUtilsPrefix + "destinationCA-from-secret"
	CertUtilsInjectCA          = CertUtilsPrefix + "inject-CA"
)

// cert-utils-operator's defaults.
const (
	certUtilsDefaultThreshold     = "2160h" // 90 days
	certUtilsDefaultPassword      = "changeme"
	certUtilsDefaultKeyAlias      = "alias"
	certUtilsDefaultTruststoreKey = "ca-bundle.crt"
)

// Reloader keys certinel honours with --compat=reloader, on a workload (or,
// as Reloader does, on its pod template when the workload has none).
const (
	ReloaderSecrets    = "secret.reloader.stakater.com/reload"
	ReloaderConfigMaps = "configmap.reloader.stakater.com/reload"
	ReloaderAuto       = "reloader.stakater.com/auto"
)

// Cache-only keys: the cache transform sets them on its copy of an object,
// never on the API server (certinel's writes are merge patches of what
// changed and applies of its own fields). They are outside the
// certinel.io/ prefix so that they ask certinel for nothing by themselves.
const (
	// CompatDefaults "cert-utils" marks stores asked for by cert-utils
	// keys: password "changeme" when none is given, and truststore aliases
	// alias0, alias1, ... (AliasIndexed).
	CompatDefaults = "internal.certinel.io/compat-defaults"
	// CompatWarnings holds the Warnings of the translation, for the
	// controllers to emit (EncodeCompatWarnings).
	CompatWarnings = "internal.certinel.io/compat-warnings"
	// CompatAdopt lists the data keys cert-utils-operator writes for the
	// cert-utils keys of an object (keystore.jks, truststore.jks,
	// tls.crt.info, ca.crt.info of a Secret; truststore.jks of a ConfigMap;
	// ca.crt of an injection target): certinel takes them over from it
	// instead of refusing them as another writer's (CompatAdoptable).
	CompatAdopt = "internal.certinel.io/compat-adopt"
	// CompatAdded lists the keys the translation added, so that translating
	// a translation again gives the same (a cache transform must be
	// idempotent).
	CompatAdded     = "internal.certinel.io/compat-added"
	compatCertUtils = "cert-utils"
)

// compatInternal are the cache-only keys; a user's copy of one is dropped.
var compatInternal = []string{CompatDefaults, CompatWarnings, CompatAdopt, CompatAdded}

// ReasonCompatKeyIgnored is the Warning reason of a compat key that a
// certinel key on the same object overrides.
const ReasonCompatKeyIgnored = badinput.CompatKeyIgnored

// AliasScheme names the certificates of a truststore.
type AliasScheme string

const (
	// AliasStable (the default): "<common name>-<8 bytes of the SHA-256>".
	AliasStable AliasScheme = ""
	// AliasIndexed: alias0, alias1, ... in the truststore's order, as
	// cert-utils-operator names them.
	AliasIndexed AliasScheme = "indexed"
)

// Compat is the set of compatibility modes turned on (--compat).
type Compat struct {
	CertUtils bool
	Reloader  bool
}

// ParseCompat reads the values of --compat: "cert-utils", "reloader"
// (comma-separated or repeated). An unknown value is an error.
func ParseCompat(values []string) (Compat, error) {
	var c Compat
	for _, v := range values {
		for _, item := range splitList(v) {
			switch strings.ToLower(item) {
			case "cert-utils":
				c.CertUtils = true
			case "reloader":
				c.Reloader = true
			default:
				return Compat{}, fmt.Errorf("--compat: unknown value %q; use cert-utils, reloader or both", item)
			}
		}
	}
	return c, nil
}

// Enabled reports whether any compatibility mode is on.
func (c Compat) Enabled() bool { return c.CertUtils || c.Reloader }

// CompatWarning is a Warning the translation asks for.
type CompatWarning struct {
	Reason  string
	Message string
}

// Translation is what Translate returns.
type Translation struct {
	// Annotations are the effective annotations: the object's own, minus
	// the cache-only keys a user may have copied, plus the certinel keys the
	// compat keys stand for, plus CompatDefaults and CompatWarnings when
	// they apply. It is the input map itself when nothing changed.
	Annotations map[string]string
	// Ignored lists the compat keys a certinel key on the object overrides.
	Ignored []string
	// Warnings are one per ignored or malformed compat key, sorted.
	Warnings []CompatWarning
}

// Translate maps the compat annotations of an object of kind (the
// Kubernetes kind: Secret, ConfigMap, Route, Deployment, StatefulSet,
// DaemonSet, ValidatingWebhookConfiguration, MutatingWebhookConfiguration,
// CustomResourceDefinition, APIService) onto certinel keys. A certinel key
// already set wins over the compat key that stands for it (a Warning
// CompatKeyIgnored says so); a malformed compat value is left out with a
// Warning InvalidAnnotation. It never fails and never changes ann.
func (c Compat) Translate(kind string, ann map[string]string) Translation {
	return c.TranslateObject(kind, ann, nil)
}

// TranslateObject is Translate for an object whose pod template carries
// template (a workload; nil otherwise): Reloader keys there count when the
// workload has none. It is idempotent: ann may already be a translation
// (a cache transform may see an object again), whose added keys, listed in
// CompatAdded, are taken out before translating again; so are cache-only
// keys a user copied.
func (c Compat) TranslateObject(kind string, ann, template map[string]string) Translation {
	orig := compatOriginal(ann)
	in := orig
	if c.Reloader && isWorkload(kind) {
		in = WorkloadReloaderAnnotations(orig, template)
	}
	t := &translator{in: in}
	if len(in) != len(orig) {
		t.out() // the pod template's Reloader keys count
	}
	if c.CertUtils {
		switch kind {
		case "Secret":
			t.certUtilsSecret()
			t.certUtilsInject()
		case "ConfigMap":
			t.certUtilsConfigMap()
			t.certUtilsInject()
		case "Route":
			t.certUtilsRoute()
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "CustomResourceDefinition", "APIService":
			t.certUtilsInject()
		}
	}
	if c.Reloader && isWorkload(kind) {
		t.reloader()
	}
	if t.res != nil {
		var added []string
		for k := range t.res {
			if _, ok := orig[k]; !ok && !slices.Contains(compatInternal, k) {
				added = append(added, k)
			}
		}
		if len(added) > 0 {
			slices.Sort(added)
			t.res[CompatAdded] = strings.Join(added, ",")
		}
	}
	if len(t.adopt) > 0 {
		t.out()[CompatAdopt] = strings.Join(t.adopt, ",")
	}
	if len(t.warnings) > 0 {
		slices.SortFunc(t.warnings, func(a, b CompatWarning) int {
			return strings.Compare(a.Reason+a.Message, b.Reason+b.Message)
		})
		t.out()[CompatWarnings] = EncodeCompatWarnings(t.warnings)
	}
	slices.Sort(t.ignored)
	res := t.res
	if res == nil {
		res = orig
	}
	return Translation{Annotations: res, Ignored: t.ignored, Warnings: t.warnings}
}

func isWorkload(kind string) bool {
	return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet"
}

// compatOriginal is ann without the cache-only keys and the keys an earlier
// translation added (CompatAdded): the object's own annotations. It is ann
// itself when there are none.
func compatOriginal(ann map[string]string) map[string]string {
	found := false
	for _, k := range compatInternal {
		if _, ok := ann[k]; ok {
			found = true
		}
	}
	if !found {
		return ann
	}
	out := make(map[string]string, len(ann))
	for k, v := range ann {
		out[k] = v
	}
	for _, k := range splitList(ann[CompatAdded]) {
		delete(out, k)
	}
	for _, k := range compatInternal {
		delete(out, k)
	}
	return out
}

// WorkloadReloaderAnnotations returns the annotations whose Reloader keys
// count for a workload: its own when it has any Reloader key, otherwise
// its pod template's Reloader keys added to its own (Reloader reads the
// pod template's when the workload has none). ann is not changed.
func WorkloadReloaderAnnotations(ann, template map[string]string) map[string]string {
	for _, k := range []string{ReloaderSecrets, ReloaderConfigMaps, ReloaderAuto} {
		if _, ok := ann[k]; ok {
			return ann
		}
	}
	var out map[string]string
	for _, k := range []string{ReloaderSecrets, ReloaderConfigMaps, ReloaderAuto} {
		if v, ok := template[k]; ok {
			if out == nil {
				out = make(map[string]string, len(ann)+3)
				for k2, v2 := range ann {
					out[k2] = v2
				}
			}
			out[k] = v
		}
	}
	if out == nil {
		return ann
	}
	return out
}

type translator struct {
	in       map[string]string
	res      map[string]string // copy of in, made on the first change
	ignored  []string
	warnings []CompatWarning
	adopt    []string // data keys cert-utils wrote for what was translated
}

func (t *translator) out() map[string]string {
	if t.res == nil {
		t.res = make(map[string]string, len(t.in)+4)
		for k, v := range t.in {
			t.res[k] = v
		}
	}
	return t.res
}

func (t *translator) has(key string) bool {
	_, ok := t.in[key]
	return ok
}

// set gives key the value v, unless one of the certinel keys wins is set
// on the object: then compat key is ignored with a Warning. It reports
// whether the value was set.
func (t *translator) set(compat, key, v string, wins ...string) bool {
	for _, w := range append([]string{key}, wins...) {
		if t.has(w) {
			t.ignored = append(t.ignored, compat)
			t.warnings = append(t.warnings, CompatWarning{Reason: ReasonCompatKeyIgnored,
				Message: fmt.Sprintf("%s is ignored: %s is set on the same object and wins; remove one of them", compat, w)})
			return false
		}
	}
	t.out()[key] = v
	return true
}

func (t *translator) invalid(compat, v, want string) {
	t.warnings = append(t.warnings, CompatWarning{Reason: badinput.InvalidAnnotation,
		Message: fmt.Sprintf("%s: invalid value %s: want %s; certinel ignores it until it is fixed", compat, badinput.Quote(v), want)})
}

// flag reads a cert-utils "true"/"false" key: set is true for "true".
func (t *translator) flag(compat string) (set bool) {
	v, ok := t.in[compat]
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true
	case "false", "":
		return false
	}
	t.invalid(compat, v, `"true" or "false"`)
	return false
}

func (t *translator) certUtilsSecret() {
	stores := false
	if t.flag(CertUtilsKeystores) && t.set(CertUtilsKeystores, Keystores, string(JKS)) {
		stores = true
		t.out()[CompatDefaults] = compatCertUtils
		if !t.has(KeystoreAlias) {
			t.out()[KeystoreAlias] = certUtilsDefaultKeyAlias
		}
		t.adopt = append(t.adopt, KeystoreJKSKey, TruststoreJKSKey)
	}
	if stores || t.has(Keystores) {
		t.password()
	}
	if t.flag(CertUtilsCertInfo) && t.set(CertUtilsCertInfo, CertInfo, "true") {
		t.adopt = append(t.adopt, TLSCertInfoKey, CACertInfoKey)
	}
	t.expiry()
}

// expiry maps cert-utils' expiry alert onto certinel.io/expiry-warning
// (certinel monitors every TLS Secret anyway): its threshold, by default
// cert-utils' 90 days. Its check frequencies have no equivalent: certinel
// wakes at the thresholds themselves.
func (t *translator) expiry() {
	if !t.flag(CertUtilsExpiryAlert) {
		return
	}
	threshold := certUtilsDefaultThreshold
	if v, ok := t.in[CertUtilsExpiryThreshold]; ok && strings.TrimSpace(v) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			t.invalid(CertUtilsExpiryThreshold, v, `a positive Go duration, e.g. "2160h"`)
			return
		}
		threshold = strings.TrimSpace(v)
	}
	compat := CertUtilsExpiryAlert
	if _, ok := t.in[CertUtilsExpiryThreshold]; ok {
		compat = CertUtilsExpiryThreshold
	}
	t.set(compat, ExpiryWarning, threshold)
}

// PasswordKey is the annotation the literal store password of ann comes
// from: certinel.io/keystore-password, or cert-utils' java-keystore-password
// when the translation set it from that.
func PasswordKey(ann map[string]string) string {
	if slices.Contains(splitList(ann[CompatAdded]), KeystorePassword) {
		return CertUtilsPassword
	}
	return KeystorePassword
}

// CompatAdoptable lists the data keys of a Secret that cert-utils-operator
// wrote for its cert-utils keys, which certinel takes over (see CompatAdopt).
func CompatAdoptable(ann map[string]string) []string {
	return splitList(ann[CompatAdopt])
}

func (t *translator) certUtilsConfigMap() {
	stores := false
	if t.flag(CertUtilsTruststore) && t.set(CertUtilsTruststore, Truststores, string(JKS)) {
		stores = true
		t.out()[CompatDefaults] = compatCertUtils
		t.adopt = append(t.adopt, TruststoreJKSKey)
	}
	if !stores && !t.has(Truststores) {
		return
	}
	t.password()
	key, set := t.in[CertUtilsSourceKey]
	if key = strings.TrimSpace(key); key == "" {
		// cert-utils' default, for its own truststore only.
		if stores && !t.has(TruststoreKey) {
			t.out()[TruststoreKey] = certUtilsDefaultTruststoreKey
		}
		return
	}
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		t.invalid(CertUtilsSourceKey, key, "a data key: "+strings.Join(errs, "; "))
		return
	}
	if set {
		t.set(CertUtilsSourceKey, TruststoreKey, key)
	}
}

// password maps java-keystore-password; cert-utils takes an empty value
// for its default.
func (t *translator) password() {
	v, ok := t.in[CertUtilsPassword]
	if !ok || strings.TrimSpace(v) == "" {
		return
	}
	t.set(CertUtilsPassword, KeystorePassword, strings.TrimSpace(v), KeystorePasswordSecret)
}

func (t *translator) certUtilsInject() {
	v, ok := t.in[CertUtilsInjectCAFrom]
	if !ok {
		return
	}
	v = strings.TrimSpace(v)
	ns, name, found := strings.Cut(v, "/")
	if !found || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		t.invalid(CertUtilsInjectCAFrom, v, `"namespace/name" of a Secret`)
		return
	}
	if t.set(CertUtilsInjectCAFrom, InjectCAFrom, ns+"/"+name, InjectCAFromConfigMap) {
		t.adopt = append(t.adopt, CACertKey) // cert-utils writes ca.crt of ConfigMaps and Secrets
	}
}

func (t *translator) certUtilsRoute() {
	for _, m := range []struct{ compat, key string }{
		{CertUtilsCertsFromSecret, CertsFromSecret},
		{CertUtilsDestinationCAFrom, DestinationCAFromSecret},
	} {
		v, ok := t.in[m.compat]
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if errs := validation.IsDNS1123Subdomain(v); len(errs) > 0 {
			t.invalid(m.compat, v, "the name of a Secret in the Route's namespace")
			continue
		}
		t.set(m.compat, m.key, v)
	}
	// cert-utils injects ca.crt into caCertificate unless inject-CA is
	// "false". Without inject-CA it sets no caCertificate but puts the
	// whole tls.crt chain into certificate; certinel puts the leaf into
	// certificate and the intermediates with ca.crt into caCertificate, so
	// the router serves the chain either way: certinel's default stays.
	if v, ok := t.in[CertUtilsInjectCA]; ok {
		inject := "true"
		if strings.TrimSpace(v) == "false" {
			inject = "false"
		}
		t.set(CertUtilsInjectCA, InjectCA, inject)
	}
}

func (t *translator) reloader() {
	for _, m := range []struct{ compat, key, noun string }{
		{ReloaderSecrets, ReloadSecrets, "Secret"},
		{ReloaderConfigMaps, ReloadConfigMaps, "ConfigMap"},
	} {
		v, ok := t.in[m.compat]
		if !ok {
			continue
		}
		items := splitList(v)
		bad := slices.IndexFunc(items, func(s string) bool { return len(validation.IsDNS1123Subdomain(s)) > 0 })
		if bad >= 0 {
			t.invalid(m.compat, items[bad], "a comma-separated list of "+m.noun+
				" names in the workload's namespace (certinel matches names exactly, not regular expressions)")
			continue
		}
		if len(items) == 0 {
			continue // Reloader ignores an empty list
		}
		t.set(m.compat, m.key, strings.Join(items, ","))
	}
	if v, ok := t.in[ReloaderAuto]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			t.set(ReloaderAuto, Reload, "auto")
		case "false", "":
		default:
			t.invalid(ReloaderAuto, v, `"true" or "false"`)
		}
	}
}

// EncodeCompatWarnings encodes warnings for CompatWarnings, one per line.
func EncodeCompatWarnings(ws []CompatWarning) string {
	lines := make([]string, len(ws))
	for i, w := range ws {
		lines[i] = w.Reason + " " + strings.ReplaceAll(w.Message, "\n", " ")
	}
	return strings.Join(lines, "\n")
}

// DecodeCompatWarnings reads the value of CompatWarnings.
func DecodeCompatWarnings(v string) []CompatWarning {
	var ws []CompatWarning
	for _, line := range strings.Split(v, "\n") {
		reason, msg, ok := strings.Cut(line, " ")
		if ok {
			ws = append(ws, CompatWarning{Reason: reason, Message: msg})
		}
	}
	return ws
}
