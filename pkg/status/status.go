// Package status computes what `certinel status` prints: for every object
// certinel manages, the features it asks for, whether certinel's outputs are
// up to date, pending or held back by bad input, the certificate's expiry and
// the time of certinel's last write. It has no client: the command lists the
// objects and the Events and passes them in with the time.
//
// The state of an object comes from what the cluster records, in this order:
//
//   - bad input: its annotations do not parse, or the newest Event certinel
//     recorded about it is a Warning newer than certinel's last write to it
//     (Warnings that accompany a write, such as CertificateHostMismatch, do
//     not count: they are shown beside "up to date");
//   - pending: it asks for something certinel has not written yet (no
//     keystores fingerprint, an output key missing, a Route without
//     certinel's managed fields, a workload without its baseline hash);
//   - up to date otherwise.
//
// "Last write" is the newest managedFields entry of the field manager
// certinel: merge patches and server-side applies both record one.
// Events expire (one hour by default on the API server), so a Warning older
// than that is no longer seen.
package status

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/expiry"
	"github.com/certinel/certinel/pkg/reload"
)

// FieldManager is the field manager of certinel's writes (its user agent
// "certinel/<version>" for merge patches, and the field owner of its
// server-side applies), and Controller the reporting controller of its Events.
const (
	FieldManager = "certinel"
	Controller   = "certinel"
)

// Kinds of the objects certinel manages.
const (
	KindSecret                         = "Secret"
	KindConfigMap                      = "ConfigMap"
	KindRoute                          = "Route"
	KindIngress                        = "Ingress"
	KindDeployment                     = "Deployment"
	KindStatefulSet                    = "StatefulSet"
	KindDaemonSet                      = "DaemonSet"
	KindValidatingWebhookConfiguration = "ValidatingWebhookConfiguration"
	KindMutatingWebhookConfiguration   = "MutatingWebhookConfiguration"
	KindCustomResourceDefinition       = "CustomResourceDefinition"
	KindAPIService                     = "APIService"
)

// Keys of Object.Data for the kinds that are not Secrets or ConfigMaps.
const (
	// RouteCertificateKey holds a Route's spec.tls.certificate.
	RouteCertificateKey = "spec.tls.certificate"
	// CABundleKey holds the first caBundle of a webhook configuration, a
	// CRD's conversion webhook or an APIService.
	CABundleKey = "caBundle"
)

// Features, as the FEATURE column names them.
const (
	FeatureKeystores       = "keystores"
	FeatureCertInfo        = "cert-info"
	FeatureKeystoresTarget = "keystores-target"
	FeatureInjectCA        = "inject-ca"
	FeatureTruststores     = "truststores"
	FeatureRoute           = "route"
	FeatureIngress         = "ingress"
	FeatureIngressMirror   = "ingress-mirror"
	FeatureReload          = "reload"
)

// State is the state of an object's outputs.
type State string

const (
	UpToDate State = "up to date"
	Pending  State = "pending"
	BadInput State = "bad input"
)

// advisory are the Warning reasons certinel gives together with a write
// (or about a certificate's dates): the outputs are written all the same,
// so they do not make the state "bad input".
var advisory = []string{
	badinput.CertificateHostMismatch,
	badinput.DataKeyReleased,
	badinput.PlaintextPassword,
	expiry.ReasonExpiringSoon,
	expiry.ReasonExpired,
	badinput.CompatKeyIgnored, // a certinel key won: the outputs are right
}

// Object is what status needs of one object in scope.
type Object struct {
	Kind      string
	Namespace string // "" for a cluster-scoped object
	Name      string
	UID       string
	// Annotations of the object.
	Annotations map[string]string
	// Controller is "Kind/name" of its controller owner reference, "" for none.
	Controller string
	// Data is the data and binaryData of a Secret or ConfigMap (a Secret's
	// decoded), a Route's certificate under RouteCertificateKey, or the
	// first caBundle of an injection target under CABundleKey. Only the
	// certificates are read from it.
	Data map[string][]byte
	// ManagedFields of the object.
	ManagedFields []metav1.ManagedFieldsEntry
}

// Event is what status needs of one Event.
type Event struct {
	// The object the Event is about.
	Kind, Namespace, Name, UID string
	Type                       string // Normal or Warning
	Reason                     string
	Note                       string
	Time                       time.Time
	// Controller is the reporting controller (or the source component of a
	// core/v1 Event).
	Controller string
}

// Row is one line of the table.
type Row struct {
	Namespace string   `json:"namespace,omitempty"`
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Features  []string `json:"features"`
	State     State    `json:"state"`
	// Reason is the Warning reason of bad input, or of a Warning that came
	// with the last write.
	Reason string `json:"reason,omitempty"`
	// Message is the Warning's message, or what a pending object waits for.
	Message string `json:"message,omitempty"`
	// NotAfter is the certificate's expiry, nil when there is none.
	NotAfter *time.Time `json:"notAfter,omitempty"`
	// LastWrite is the time of certinel's last write, nil for never.
	LastWrite *time.Time `json:"lastWrite,omitempty"`
}

// Rows returns one row per object that asks certinel for something (or
// that certinel made: keystore targets and Ingress mirrors), sorted by
// namespace, kind and name. objs may contain other objects: Secrets that
// nothing asks for are only read for the certificate of an Ingress.
func Rows(objs []Object, events []Event) []Row {
	secrets := map[string]*Object{}
	for i := range objs {
		if objs[i].Kind == KindSecret {
			secrets[objs[i].Namespace+"/"+objs[i].Name] = &objs[i]
		}
	}
	newest := newestEvents(events, false)
	newestAdvisory := newestEvents(events, true)
	var rows []Row
	for i := range objs {
		o := &objs[i]
		r, ok := row(o, secrets)
		if !ok {
			continue
		}
		if r.State != BadInput {
			fresh := func(e Event, ok bool) bool {
				return ok && (e.UID == "" || o.UID == "" || e.UID == o.UID) && e.Type == "Warning" && (r.LastWrite == nil || e.Time.After(*r.LastWrite))
			}
			k := eventKey(o.Kind, o.Namespace, o.Name)
			if e, ok := newest[k]; fresh(e, ok) {
				r.State, r.Reason, r.Message = BadInput, e.Reason, e.Note
			} else if e, ok := newestAdvisory[k]; fresh(e, ok) && r.State == UpToDate {
				r.Reason, r.Message = e.Reason, e.Note
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return rows
}

func eventKey(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// newestEvents is, per object, the newest Event certinel recorded about it.
func newestEvents(events []Event, advisoryOnly bool) map[string]Event {
	m := map[string]Event{}
	for _, e := range events {
		if e.Controller != Controller || slices.Contains(advisory, e.Reason) != advisoryOnly {
			continue
		}
		k := eventKey(e.Kind, e.Namespace, e.Name)
		if cur, ok := m[k]; !ok || !e.Time.Before(cur.Time) {
			m[k] = e
		}
	}
	return m
}

// check is one feature's verdict on an object.
type check struct {
	feature string
	err     error  // bad input found in the annotations
	pending string // what certinel has not written yet, "" when written
}

// row computes the row of o, or false when o is not certinel's.
func row(o *Object, secrets map[string]*Object) (Row, bool) {
	checks := features(o, secrets)
	if len(checks) == 0 {
		return Row{}, false
	}
	r := Row{Namespace: o.Namespace, Kind: o.Kind, Name: o.Name, State: UpToDate}
	written := []*Object{o}
	for _, c := range checks {
		r.Features = append(r.Features, c.feature)
		switch {
		case c.err != nil && r.State != BadInput:
			r.State, r.Reason, r.Message = BadInput, badinput.InvalidAnnotation, c.err.Error()
			if e, ok := badinput.As(c.err); ok {
				r.Reason = e.Reason
			}
		case c.pending != "" && r.State == UpToDate:
			r.State, r.Message = Pending, c.pending
		}
	}
	// The outputs of a Secret with keystores-target are in the target.
	if spec, err := annotations.ParseKeystoreSpec(o.Namespace, o.Annotations); o.Kind == KindSecret && err == nil && spec.Target != "" {
		if t, ok := secrets[o.Namespace+"/"+spec.Target]; ok {
			written = append(written, t)
		}
	}
	for _, w := range written {
		if t, ok := LastWrite(w.ManagedFields); ok && (r.LastWrite == nil || t.After(*r.LastWrite)) {
			r.LastWrite = &t
		}
	}
	r.NotAfter = certificateExpiry(o, secrets)
	return r, true
}

// features checks every feature o asks for (or, for a keystore target or
// an Ingress mirror, that certinel made it for).
func features(o *Object, secrets map[string]*Object) []check {
	ann := o.Annotations
	var checks []check
	switch o.Kind {
	case KindSecret, KindConfigMap:
		if o.Kind == KindSecret {
			checks = append(checks, keystoreChecks(o, secrets)...)
		}
		if spec, asks, err := annotations.ParseInjectSpec(o.Namespace, ann); asks {
			c := check{feature: FeatureInjectCA, err: err}
			if err == nil {
				c.pending = injectPending(o, spec.TargetKey)
			}
			checks = append(checks, c)
		}
		if spec, asks, err := annotations.ParseTruststoreSpec(ann); asks {
			c := check{feature: FeatureTruststores, err: err}
			if err == nil {
				c.pending = truststoresPending(o, spec)
			}
			checks = append(checks, c)
		}
		if _, ok := ann[annotations.MirrorOf]; ok && o.Kind == KindSecret {
			c := check{feature: FeatureIngressMirror}
			if ann[annotations.MirrorFingerprint] == "" {
				c.pending = "no copy of " + ann[annotations.MirrorOf] + " yet"
			}
			checks = append(checks, c)
		}
	case KindValidatingWebhookConfiguration, KindMutatingWebhookConfiguration, KindCustomResourceDefinition, KindAPIService:
		if _, asks, err := annotations.ParseInjectSpec("", ann); asks {
			c := check{feature: FeatureInjectCA, err: err}
			if err == nil && (ann[annotations.InjectedCAs] == "" || len(o.Data[CABundleKey]) == 0) {
				c.pending = "no CA injected yet"
			}
			checks = append(checks, c)
		}
	case KindRoute:
		if _, asks, err := annotations.ParseRouteSpec(ann); asks {
			c := check{feature: FeatureRoute, err: err}
			if err == nil && ann[annotations.ManagedFields] == "" {
				c.pending = "no TLS fields set yet"
			}
			checks = append(checks, c)
		}
	case KindIngress:
		if _, asks, err := annotations.ParseIngressSecret(o.Namespace, ann); asks {
			c := check{feature: FeatureIngress, err: err}
			if err == nil && ann[annotations.ManagedFields] == "" {
				c.pending = "no TLS entry set yet"
			}
			checks = append(checks, c)
		}
	case KindDeployment, KindStatefulSet, KindDaemonSet:
		if _, asks, err := reload.ParseSpec(ann); asks {
			c := check{feature: FeatureReload, err: err}
			if err == nil && reload.Baseline(ann) == "" {
				c.pending = "no baseline hash recorded yet"
			}
			checks = append(checks, c)
		}
	}
	return checks
}

// keystoreChecks checks the keystores and cert-info of a Secret, or that a
// Secret is the keystores-target of another.
func keystoreChecks(o *Object, secrets map[string]*Object) []check {
	ann := o.Annotations
	spec, err := annotations.ParseKeystoreSpec(o.Namespace, ann)
	if err != nil {
		feature := FeatureKeystores
		if _, ok := ann[annotations.Keystores]; !ok {
			if _, ok := ann[annotations.CertInfo]; ok {
				feature = FeatureCertInfo
			}
		}
		return []check{{feature: feature, err: err}}
	}
	if !spec.Enabled() {
		// A Secret that holds another Secret's outputs.
		if strings.HasPrefix(o.Controller, KindSecret+"/") && ann[annotations.ManagedKeys] != "" {
			return []check{{feature: FeatureKeystoresTarget}}
		}
		return nil
	}
	feature := FeatureKeystores
	if len(spec.Formats) == 0 {
		feature = FeatureCertInfo
	}
	out, where := o, ""
	if spec.Target != "" {
		where = " in Secret " + spec.Target
		t, ok := secrets[o.Namespace+"/"+spec.Target]
		if !ok {
			return []check{{feature: feature, pending: "no Secret " + spec.Target + " yet"}}
		}
		out = t
	}
	c := check{feature: feature}
	// ca.crt.info is written only when ca.crt holds a certificate.
	hasCA := NotAfter(o.Data[annotations.CACertKey]) != nil
	managed := strings.Split(out.Annotations[annotations.ManagedKeys], ",")
	var missing []string
	for _, k := range spec.OutputKeys(hasCA) {
		if _, ok := out.Data[k]; !ok || !slices.Contains(managed, k) {
			missing = append(missing, k)
		}
	}
	switch {
	case len(missing) > 0:
		c.pending = "not written yet" + where + ": " + strings.Join(missing, ", ")
	case out.Annotations[annotations.KeystoresFingerprint] == "" && len(spec.Formats) > 0:
		c.pending = "no keystores fingerprint yet" + where
	}
	return []check{c}
}

func injectPending(o *Object, key string) string {
	if o.Annotations[annotations.InjectedCAs] == "" {
		return "no CA injected yet"
	}
	if _, ok := o.Data[key]; !ok {
		return "no data key " + key + " yet"
	}
	return ""
}

func truststoresPending(o *Object, spec annotations.TruststoreSpec) string {
	if o.Annotations[annotations.TruststoresFingerprint] == "" {
		return "no truststores written yet"
	}
	var missing []string
	for _, f := range spec.Formats {
		k := annotations.TruststoreJKSKey
		if f == annotations.PKCS12 {
			k = annotations.TruststorePKCS12Key
		}
		if _, ok := o.Data[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "not written yet: " + strings.Join(missing, ", ")
	}
	return ""
}

// LastWrite is the time of the newest managedFields entry of certinel.
func LastWrite(fields []metav1.ManagedFieldsEntry) (time.Time, bool) {
	var last time.Time
	found := false
	for _, f := range fields {
		if f.Manager != FieldManager || f.Time == nil {
			continue
		}
		if !found || f.Time.After(last) {
			last, found = f.Time.Time, true
		}
	}
	return last, found
}

// certificateExpiry is the notAfter of the certificate that matters for o: a Secret's
// tls.crt, a Route's certificate, the Secret an Ingress's TLS entry names,
// and for CA injection and truststores the first certificate of the bundle
// (the source's current CA comes first).
func certificateExpiry(o *Object, secrets map[string]*Object) *time.Time {
	switch o.Kind {
	case KindSecret, KindConfigMap:
		if t := NotAfter(o.Data[annotations.TLSCertKey]); t != nil {
			return t
		}
		if spec, asks, err := annotations.ParseInjectSpec(o.Namespace, o.Annotations); asks && err == nil {
			if t := NotAfter(o.Data[spec.TargetKey]); t != nil {
				return t
			}
		}
		if spec, asks, err := annotations.ParseTruststoreSpec(o.Annotations); asks && err == nil {
			return NotAfter(o.Data[spec.Key])
		}
	case KindRoute:
		return NotAfter(o.Data[RouteCertificateKey])
	case KindIngress:
		name, ok := strings.CutPrefix(o.Annotations[annotations.ManagedFields], "tls:")
		if !ok {
			ref, _, err := annotations.ParseIngressSecret(o.Namespace, o.Annotations)
			if err != nil || ref.Namespace != o.Namespace {
				return nil
			}
			name = ref.Name
		}
		if s, ok := secrets[o.Namespace+"/"+name]; ok {
			return NotAfter(s.Data[annotations.TLSCertKey])
		}
	case KindValidatingWebhookConfiguration, KindMutatingWebhookConfiguration, KindCustomResourceDefinition, KindAPIService:
		return NotAfter(o.Data[CABundleKey])
	}
	return nil
}

// NotAfter is the notAfter of the first certificate in PEM data, nil when
// there is none that parses (the same reading as the expiry gauges).
func NotAfter(data []byte) *time.Time {
	v := expiry.Read(map[string][]byte{"": data}, "")
	if len(v) == 0 || v[0].Unreadable {
		return nil
	}
	return &v[0].NotAfter
}

// FormatExpiry prints an expiry as the EXPIRY column does: "2027-03-01
// (89d)", "2026-12-02 (5h)", "expired" or "-".
func FormatExpiry(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	left := t.Sub(now)
	switch {
	case left <= 0:
		return "expired"
	case left < 24*time.Hour:
		return fmt.Sprintf("%s (%dh)", t.Format(time.DateOnly), int(left.Hours()))
	}
	return fmt.Sprintf("%s (%dd)", t.Format(time.DateOnly), int(left.Hours()/24))
}

// FormatState prints the STATE column: "up to date", "pending", or
// "bad input (Reason)"; a Warning that came with a write follows "up to date".
func FormatState(r Row) string {
	switch {
	case r.State == BadInput:
		return fmt.Sprintf("bad input (%s)", r.Reason)
	case r.State == UpToDate && r.Reason != "":
		return fmt.Sprintf("up to date (warning: %s)", r.Reason)
	}
	return string(r.State)
}

// FormatLastWrite prints the LAST WRITE column: the age of the last write
// ("3m ago") or "never".
func FormatLastWrite(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
