package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/badinput"
	"github.com/certinel/certinel/pkg/fingerprint"
)

const ingressController = "ingresses"

// Event reasons of the Ingress controller.
const (
	ReasonIngressUpdated = "IngressUpdated"
	ReasonMirrorUpdated  = "SecretMirrored"
	ReasonMirrorRemoved  = "MirrorRemoved"
)

// ingressSourceIndex maps an Ingress to the Secret it reads ("ns/name").
const ingressSourceIndex = "certinel.io/ingress-secret"

// IngressReconciler gives Ingresses the TLS Secret that
// certinel.io/certs-from-secret names (section 3 of the contract): a
// spec.tls entry for every rule host, and for a Secret of another
// namespace that allows it, a mirror Secret in the Ingress's namespace,
// owned by the Ingress and kept in sync.
type IngressReconciler struct {
	Client   client.Client
	Sources  *SourceReader
	Recorder events.EventRecorder
	// readerIndex finds the objects that read a source (set with the manager).
	readerIndex *readerIndex
}

// Reconcile brings one Ingress, and its mirror, up to date.
func (r *IngressReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rd := r.Sources.begin(ingressController+":"+req.String(), req.Namespace, "the Secret of an Ingress")
	defer rd.done()
	var ing networkingv1.Ingress
	if err := r.Client.Get(ctx, req.NamespacedName, &ing); err != nil || ing.DeletionTimestamp != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err) // the garbage collector removes its mirror
	}
	ref, asks, err := annotations.ParseIngressSecret(ing.Namespace, ing.Annotations)
	if err != nil {
		return r.invalid(ctx, &ing, err)
	}
	if !asks {
		return ctrl.Result{}, r.release(ctx, &ing, "")
	}
	what := "Secret " + ref.Namespace + "/" + ref.Name + " (from " + annotations.CertsFromSecret + ")"
	pair, err := rd.keyPair(ctx, ref, what, badinput.MissingSecret, true)
	if err != nil {
		if e, ok := badinput.As(err); ok && e.Reason == badinput.SourceNotShared {
			// Consent withdrawn: no copy of the key stays in this namespace.
			if err := r.deleteMirrors(ctx, &ing, ""); err != nil {
				return ctrl.Result{}, err
			}
			err = &badinput.Error{Reason: badinput.SecretExportNotAllowed, Message: e.Message}
		}
		return r.invalid(ctx, &ing, err)
	}
	secretName := ref.Name
	if ref.Namespace != ing.Namespace {
		if secretName, err = r.mirror(ctx, &ing, ref, pair); err != nil {
			return r.invalid(ctx, &ing, err)
		}
	}
	if err := r.release(ctx, &ing, secretName); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.setTLS(ctx, &ing, secretName); err != nil {
		return r.invalid(ctx, &ing, err)
	}
	if hosts := pair.route.Uncovered(ingressHosts(&ing)...); len(hosts) > 0 {
		r.event(&ing, corev1.EventTypeWarning, badinput.CertificateHostMismatch, "Validate", fmt.Sprintf(
			"the certificate of %s does not cover host %s (it was applied all the same); issue it for that host", what, strings.Join(hosts, ", ")))
	}
	return ctrl.Result{}, nil
}

// ingressHosts are the hosts of the Ingress's rules, sorted, once each.
func ingressHosts(ing *networkingv1.Ingress) []string {
	var hosts []string
	for _, rule := range ing.Spec.Rules {
		if rule.Host != "" {
			hosts = append(hosts, rule.Host)
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// managedTLS is the secretName of the spec.tls entry certinel added, from
// certinel.io/managed-fields ("tls:NAME").
func managedTLS(ing *networkingv1.Ingress) string {
	name, _ := strings.CutPrefix(ing.Annotations[annotations.ManagedFields], "tls:")
	return name
}

// setTLS makes spec.tls hold one entry for secretName with every rule host,
// keeping every other entry, with a merge patch under an optimistic lock
// (spec.tls is an atomic list: an apply would take all of it).
func (r *IngressReconciler) setTLS(ctx context.Context, ing *networkingv1.Ingress, secretName string) error {
	want := networkingv1.IngressTLS{Hosts: ingressHosts(ing), SecretName: secretName}
	if managedTLS(ing) != secretName && slices.ContainsFunc(ing.Spec.TLS, func(t networkingv1.IngressTLS) bool { return t.SecretName == secretName }) {
		return nil // the user's own entry for this Secret stays theirs
	}
	var tls []networkingv1.IngressTLS
	for _, t := range ing.Spec.TLS {
		if t.SecretName != secretName && t.SecretName != managedTLS(ing) {
			tls = append(tls, t)
		}
	}
	tls = append(tls, want)
	if managedTLS(ing) == secretName && slices.EqualFunc(tls, ing.Spec.TLS, func(a, b networkingv1.IngressTLS) bool {
		return a.SecretName == b.SecretName && slices.Equal(a.Hosts, b.Hosts)
	}) {
		return nil
	}
	base := ing.DeepCopy()
	ing.Spec.TLS = tls
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ing.Annotations[annotations.ManagedFields] = "tls:" + secretName
	if err := r.patch(ctx, ing, base); err != nil {
		return err
	}
	r.event(ing, corev1.EventTypeNormal, ReasonIngressUpdated, "Write", fmt.Sprintf("spec.tls uses Secret %s for %s", secretName, strings.Join(want.Hosts, ", ")))
	return nil
}

// release takes back the spec.tls entry certinel added unless it is for
// keep, and the mirrors that are not keep.
func (r *IngressReconciler) release(ctx context.Context, ing *networkingv1.Ingress, keep string) error {
	if err := r.deleteMirrors(ctx, ing, keep); err != nil {
		return err
	}
	old := managedTLS(ing)
	if old == "" || old == keep {
		return nil
	}
	base := ing.DeepCopy()
	ing.Spec.TLS = slices.DeleteFunc(slices.Clone(ing.Spec.TLS), func(t networkingv1.IngressTLS) bool { return t.SecretName == old })
	delete(ing.Annotations, annotations.ManagedFields)
	if err := r.patch(ctx, ing, base); err != nil {
		return err
	}
	r.event(ing, corev1.EventTypeNormal, ReasonIngressUpdated, "Remove", "removed the spec.tls entry certinel added for Secret "+old)
	return nil
}

func (r *IngressReconciler) patch(ctx context.Context, ing, base *networkingv1.Ingress) error {
	err := r.Client.Patch(ctx, ing, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	return recordWrite(ingressController, "patch", "Ingress "+ing.Name, err)
}

// mirrorName is the name of the mirror of Secret ns/name that Ingress
// ingress uses: one mirror per Ingress, so that Ingresses sharing a source
// each own theirs. Readable, and unique thanks to a short hash when it has
// to be cut.
func mirrorName(ingress, ns, name string) string {
	n := ingress + "-certinel-" + ns + "-" + name
	if len(n) <= 253 {
		return n
	}
	sum := sha256.Sum256([]byte(ingress + "/" + ns + "/" + name))
	return n[:236] + "-" + hex.EncodeToString(sum[:8])
}

// mirror creates or updates the copy of the source Secret in the Ingress's
// namespace and returns its name. Its data is compared through a
// fingerprint, so the cache needs no copy of the private key.
func (r *IngressReconciler) mirror(ctx context.Context, ing *networkingv1.Ingress, ref annotations.SourceRef, pair *tlsPair) (string, error) {
	name := mirrorName(ing.Name, ref.Namespace, ref.Name)
	data := maps.Clone(pair.mirror) // the reader keeps its own
	fp := fingerprint.Of([]byte("mirror"), data[corev1.TLSCertKey], data[corev1.TLSPrivateKeyKey], data[annotations.CACertKey])
	var cur corev1.Secret
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: ing.Namespace, Name: name}, &cur)
	switch {
	case apierrors.IsNotFound(err):
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ing.Namespace,
				Labels:      map[string]string{managedByLabel: managedBy},
				Annotations: map[string]string{annotations.MirrorOf: ref.Namespace + "/" + ref.Name, annotations.MirrorFingerprint: fp},
				// No blockOwnerDeletion: it would need update on
				// ingresses/finalizers where OwnerReferencesPermissionEnforcement runs.
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: ing.Name, UID: ing.UID,
					Controller: ptr.To(true)}}},
			Type: corev1.SecretTypeTLS, Data: data,
		}
		if err := recordWrite(ingressController, "create", "Secret "+name, r.Client.Create(ctx, s)); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case !controlledBy(&cur, ing) || cur.Labels[managedByLabel] != managedBy:
		return "", badinput.Errorf(badinput.TargetConflict, "Secret %s already exists and is not certinel's mirror for this Ingress; delete or rename it", name)
	case cur.Annotations[annotations.MirrorFingerprint] == fp:
		return name, nil
	default:
		base := patchBase(&cur)
		if isTrimmed(&cur) {
			// The cache holds the mirror without its data: the patch sets
			// every key and removes a ca.crt the source no longer has.
			base.Data = map[string][]byte{corev1.TLSCertKey: nil, corev1.TLSPrivateKeyKey: nil, annotations.CACertKey: {0}}
		}
		cur.Data = data
		cur.Annotations[annotations.MirrorFingerprint] = fp
		err := patchSecret(ctx, r.Client, &cur, base)
		if err := recordWrite(ingressController, "patch", "Secret "+name, err); err != nil {
			return "", err
		}
	}
	r.event(ing, corev1.EventTypeNormal, ReasonMirrorUpdated, "Write", fmt.Sprintf("Secret %s holds a copy of Secret %s/%s", name, ref.Namespace, ref.Name))
	return name, nil
}

// deleteMirrors deletes the mirrors certinel made for ing, but keep.
func (r *IngressReconciler) deleteMirrors(ctx context.Context, ing *networkingv1.Ingress, keep string) error {
	var list corev1.SecretList
	if err := r.Client.List(ctx, &list, client.InNamespace(ing.Namespace), client.MatchingLabels{managedByLabel: managedBy}); err != nil {
		return err
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name == keep || !controlledBy(s, ing) || s.Annotations[annotations.MirrorOf] == "" {
			continue
		}
		err := client.IgnoreNotFound(r.Client.Delete(ctx, s, client.Preconditions{UID: &s.UID}))
		if err := recordWrite(ingressController, "delete", "Secret "+s.Name, err); err != nil {
			return err
		}
		r.event(ing, corev1.EventTypeNormal, ReasonMirrorRemoved, "Remove", "deleted Secret "+s.Name+", the copy certinel made for this Ingress")
	}
	return nil
}

func (r *IngressReconciler) invalid(ctx context.Context, ing *networkingv1.Ingress, err error) (ctrl.Result, error) {
	return reportInvalid(ctx, r.Recorder, ingressController, ing, err)
}

func (r *IngressReconciler) event(ing *networkingv1.Ingress, eventType, reason, action, note string) {
	emit(r.Recorder, ing, eventType, reason, action, note)
}

// SetupWithManager registers the source index and the watches: the
// Ingress, the Secret it names (in any namespace) and its mirrors.
func (r *IngressReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	if err := followPairs(ctx, mgr, r.Sources, &networkingv1.Ingress{}, "Ingress"); err != nil {
		return err
	}
	var err error
	if r.readerIndex, err = indexReaders(ctx, mgr, &networkingv1.Ingress{}, ingressSourceIndex, func(obj client.Object) []string {
		ref, asks, err := annotations.ParseIngressSecret(obj.GetNamespace(), obj.GetAnnotations())
		if err != nil || !asks {
			return nil
		}
		return []string{ref.Namespace + "/" + ref.Name}
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ingressController).
		WatchesRawSource(watchObjects(mgr, &networkingv1.Ingress{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.readers))).
		Complete(r)
}

// readers maps a Secret to the Ingresses that read it (a source in another
// namespace wakes only those it allows) and a mirror to its Ingress.
func (r *IngressReconciler) readers(ctx context.Context, obj client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "Ingress" && obj.GetAnnotations()[annotations.MirrorOf] != "" {
		reqs = append(reqs, request(obj.GetNamespace(), ref.Name))
	}
	found, err := r.readerIndex.find(ctx, r.Client, func() client.ObjectList { return &networkingv1.IngressList{} }, ingressSourceIndex, obj.GetNamespace()+"/"+obj.GetName())
	if err != nil {
		logf.FromContext(ctx).Error(err, "cannot list the Ingresses that read a Secret", "secret", client.ObjectKeyFromObject(obj))
		return reqs
	}
	for _, ing := range found {
		if ing.Namespace == obj.GetNamespace() || annotations.Shares(obj.GetAnnotations(), obj.GetNamespace(), ing.Namespace, annotations.Everything) {
			reqs = append(reqs, request(ing.Namespace, ing.Name))
		}
	}
	return reqs
}
