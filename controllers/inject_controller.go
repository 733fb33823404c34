package controllers

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/bundle"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/pki"
)

// Event reasons of CA injection besides the badinput reasons.
const (
	ReasonCAInjected = "CAInjected"
	ReasonCARemoved  = "CARemoved"
)

// fieldOwner is the field manager of certinel's server-side applies.
const fieldOwner = "certinel"

// injectSourceIndex maps an injection target to the object it reads:
// "secret:ns/name" or "configmap:ns/name".
const injectSourceIndex = "certinel.io/inject-source"

// InjectReconciler injects CA bundles into one kind of target (section 2 of
// the contract): the same code for webhook configurations, CRDs,
// APIServices, ConfigMaps and Secrets. It reads the source through the
// shared SourceReader, computes the bundle with pkg/bundle (new CAs first,
// previous ones until they expire), and applies only the bundle fields
// under field manager certinel, so the API server removes exactly those
// when injection stops.
type InjectReconciler struct {
	Client   client.Client
	Sources  *SourceReader
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	target   injectTarget
	// readerIndex finds the objects that read a source (set with the manager).
	readerIndex *readerIndex
}

// NewInjectReconcilers returns one reconciler per target kind;
// namespacedOnly leaves out the cluster-scoped kinds (certinel limited to
// some namespaces has no cluster-wide rights).
func NewInjectReconcilers(c client.Client, sources *SourceReader, rec events.EventRecorder, clk clock.PassiveClock, namespacedOnly bool) []*InjectReconciler {
	var out []*InjectReconciler
	for _, t := range injectTargets {
		if namespacedOnly && !t.namespaced {
			continue
		}
		out = append(out, &InjectReconciler{Client: c, Sources: sources, Recorder: rec, Clock: clk, target: t})
	}
	return out
}

func (r *InjectReconciler) name() string { return "inject-" + strings.ToLower(r.target.gvk.Kind) }

// Reconcile brings the CA bundles of one target up to date, and for a
// ConfigMap or Secret the truststores built from its bundle, in one apply:
// a truststore never holds another bundle than the one beside it.
func (r *InjectReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rd := r.Sources.begin(r.name()+":"+req.String(), req.Namespace, "a CA source")
	defer rd.done()
	u, err := r.get(ctx, req)
	if err != nil || u.GetDeletionTimestamp() != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	warnCompat(ctx, r.Recorder, r.name(), u)
	spec, injects, err := annotations.ParseInjectSpec(u.GetNamespace(), u.GetAnnotations())
	if err != nil {
		return r.invalid(ctx, u, err)
	}
	var stores annotations.TruststoreSpec
	var wantsStores bool
	if r.target.namespaced {
		if stores, wantsStores, err = annotations.ParseTruststoreSpec(u.GetAnnotations()); err != nil {
			return r.invalid(ctx, u, err)
		}
	}
	if !injects && !wantsStores {
		return ctrl.Result{}, r.remove(ctx, u)
	}
	a := r.applyObject(u)
	ann := map[string]string{}
	var result ctrl.Result
	var injected *bundle.Result
	var notes []string
	if injects {
		b, fresh, err := r.inject(ctx, rd, u, spec)
		if err != nil {
			return r.invalid(ctx, u, err)
		}
		if !b.NextExpiry.IsZero() {
			// A previous CA is kept until it expires: come back then, not before.
			// At least a second: a CA expiring this very moment still needs
			// a reconcile to drop it.
			result.RequeueAfter = max(b.NextExpiry.Sub(r.Clock.Now()), time.Second)
		}
		r.target.set(u, a, spec.TargetKey, b.PEM)
		ann[annotations.InjectedCAs] = b.History
		injected = &b
		if current, _ := r.target.current(u, spec.TargetKey); !upToDate(current, b) || u.GetAnnotations()[annotations.InjectedCAs] != b.History {
			note := fmt.Sprintf("injected %d CA certificate(s) from %s", len(b.Certs), spec.Source)
			if kept := len(b.Certs) - fresh; kept > 0 {
				note += fmt.Sprintf(", keeping %d previous one(s) until %s", kept, b.NextExpiry.UTC().Format("2006-01-02T15:04:05Z"))
			}
			notes = append(notes, note)
		}
	}
	if wantsStores {
		var certs []*x509.Certificate
		if injected != nil && stores.Key == spec.TargetKey {
			certs = injected.Certs // the bundle this apply writes
		} else if certs, err = pki.ParseCertificates(dataAt(u, stores.Key)); err != nil {
			return r.invalid(ctx, u, badinput.Prefix(err, "data key "+stores.Key+": "))
		}
		changed, err := r.truststores(ctx, rd, u, a, stores, certs, ann)
		if err != nil {
			return r.invalid(ctx, u, err)
		}
		if changed {
			notes = append(notes, fmt.Sprintf("wrote truststores of %d CA certificate(s) from data key %s", len(certs), stores.Key))
		}
	}
	// A feature asked for no more takes its fields back in this apply,
	// which holds only the other one's.
	if _, was := u.GetAnnotations()[annotations.InjectedCAs]; was && !injects {
		notes = append(notes, "removed the CA bundle certinel injected, as the annotations no longer ask for it")
	}
	if _, was := u.GetAnnotations()[annotations.TruststoresFingerprint]; was && !wantsStores {
		notes = append(notes, "removed the truststores certinel wrote, as the annotations no longer ask for them")
	}
	if len(notes) == 0 {
		return result, nil
	}
	a.SetAnnotations(ann)
	if err := checkApplySize(u, a); err != nil {
		return r.invalid(ctx, u, err)
	}
	if err := r.apply(ctx, a, annotations.CompatAdoptable(u.GetAnnotations())); err != nil {
		return r.invalid(ctx, u, err)
	}
	r.event(u, corev1.EventTypeNormal, ReasonCAInjected, "Inject", strings.Join(notes, "; "))
	logf.FromContext(ctx).Info("updated CA bundle target", "changes", notes)
	return result, nil
}

// inject reads the source and merges its CAs with the ones certinel
// injected before; it returns the bundle and how many came from the source.
func (r *InjectReconciler) inject(ctx context.Context, rd *sourceReads, u *unstructured.Unstructured, spec annotations.InjectSpec) (bundle.Result, int, error) {
	current, err := r.target.current(u, spec.TargetKey)
	if err != nil {
		return bundle.Result{}, 0, err
	}
	fresh, err := rd.certificates(ctx, spec.Source, fmt.Sprintf("CA source %s", spec.Source), badinput.MissingCASource)
	if err != nil {
		return bundle.Result{}, 0, err
	}
	b := bundle.Merge(fresh, bundle.Current(current...), u.GetAnnotations()[annotations.InjectedCAs], r.Clock.Now())
	return b, len(bundle.Unique(fresh)), nil
}

// truststores sets the truststores of certs into a, rebuilding them only
// when their fingerprint changed (PKCS#12 bytes differ at each build); it
// reports whether they changed.
func (r *InjectReconciler) truststores(ctx context.Context, rd *sourceReads, u, a *unstructured.Unstructured, spec annotations.TruststoreSpec, certs []*x509.Certificate, ann map[string]string) (bool, error) {
	password, err := storePassword(ctx, rd, u.GetNamespace(), spec.Password)
	if err != nil {
		return false, err
	}
	if err := keystore.CheckPassword(password); err != nil {
		return false, err
	}
	if len(certs) > pki.MaxBundle {
		return false, badinput.Errorf(badinput.BundleTooLarge, "the bundle has %d certificates; certinel writes at most %d per truststore", len(certs), pki.MaxBundle)
	}
	fp := keystore.TruststoresFingerprint(spec.Formats, certs, password, spec.Profile, spec.TrustAliases)
	ann[annotations.TruststoresFingerprint] = fp
	stores := map[string][]byte{}
	reuse := u.GetAnnotations()[annotations.TruststoresFingerprint] == fp
	for _, f := range spec.Formats {
		key := annotations.TruststoreJKSKey
		if f == annotations.PKCS12 {
			key = annotations.TruststorePKCS12Key
		}
		if v := storeAt(u, key); reuse && len(v) > 0 {
			stores[key] = v
		} else {
			reuse = false
		}
	}
	if !reuse {
		if stores, err = keystore.Truststores(spec.Formats, certs, password, spec.Profile, spec.TrustAliases); err != nil {
			return false, err
		}
	}
	for k, v := range stores {
		r.target.setStore(a, k, v)
	}
	return !reuse, nil
}

// upToDate reports whether every place already holds the bundle.
func upToDate(current [][]byte, b bundle.Result) bool {
	for _, c := range current {
		if !bytes.Equal(c, b.PEM) {
			return false
		}
	}
	return true
}

// remove takes back what certinel injected into a target that no longer
// asks for it: an apply of nothing makes the API server drop every field
// certinel owns, and only those.
func (r *InjectReconciler) remove(ctx context.Context, u *unstructured.Unstructured) error {
	_, injected := u.GetAnnotations()[annotations.InjectedCAs]
	_, stores := u.GetAnnotations()[annotations.TruststoresFingerprint]
	if !injected && !stores {
		return nil
	}
	if err := r.apply(ctx, r.applyObject(u), nil); err != nil {
		_, err := r.invalid(ctx, u, err)
		return err
	}
	r.event(u, corev1.EventTypeNormal, ReasonCARemoved, "Remove", "removed the CA bundle and truststores certinel wrote, as the annotations no longer ask for them")
	return nil
}

// applyObject is an apply configuration of u's kind and name holding nothing yet.
func (r *InjectReconciler) applyObject(u *unstructured.Unstructured) *unstructured.Unstructured {
	a := &unstructured.Unstructured{}
	a.SetGroupVersionKind(r.target.gvk)
	a.SetNamespace(u.GetNamespace())
	a.SetName(u.GetName())
	return a
}

// apply applies a under field manager certinel. The bundle fields of
// cluster-scoped targets are certinel's to set (as cainjector's are);
// a data key of a ConfigMap or Secret that another manager owns is not
// taken over (the conflict is bad input), except the keys cert-utils-operator
// wrote for the cert-utils annotations of the target (adopt, under
// --compat=cert-utils).
func (r *InjectReconciler) apply(ctx context.Context, a *unstructured.Unstructured, adopt []string) error {
	err := applyFields(ctx, r.Client, a, !r.target.namespaced)
	if apierrors.IsConflict(err) && r.target.namespaced && onlyDataKeys(err, adopt) {
		err = applyFields(ctx, r.Client, a, true)
	}
	if apierrors.IsConflict(err) {
		writeFailures.WithLabelValues(r.name(), "apply").Inc()
		return badinput.Errorf(badinput.DataKeyConflict,
			"%s %s: a data key certinel would write belongs to another field manager; pick another %s or remove the key (%s)",
			a.GetKind(), a.GetName(), annotations.InjectCAKey, apiMessage(err))
	}
	return recordWrite(r.name(), "apply", a.GetKind()+" "+a.GetName(), err)
}

// invalid reports bad input on the target; any other error is returned for a retry.
func (r *InjectReconciler) invalid(ctx context.Context, u *unstructured.Unstructured, err error) (ctrl.Result, error) {
	return reportInvalid(ctx, r.Recorder, r.name(), u, err)
}

func (r *InjectReconciler) event(u *unstructured.Unstructured, eventType, reason, action, note string) {
	emit(r.Recorder, u, eventType, reason, action, note)
}
