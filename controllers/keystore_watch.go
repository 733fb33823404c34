package controllers

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
)

// Cache indexes of the keystore controller.
const (
	// referenceIndex maps a Secret to the objects its outputs read:
	// "secret:ns/name" and "configmap:ns/name".
	referenceIndex = "certinel.io/keystore-references"
	// ownerIndex maps a target Secret to the name of the Secret it was created for.
	ownerIndex = "certinel.io/keystore-owner"
)

// SetupWithManager registers the indexes and watches: an annotated Secret is
// reconciled when it changes, when its target changes, and when a Secret or
// ConfigMap it reads (password, truststore source) changes.
func (r *KeystoreReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	var err error
	if r.readerIndex, err = indexReaders(ctx, mgr, &corev1.Secret{}, referenceIndex, indexReferences); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Secret{}, ownerIndex, indexOwner); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(keystoreController).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		WatchesRawSource(watch(mgr, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretRequests))).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.referrers))).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.referrers))).
		Complete(r)
}

func indexReferences(obj client.Object) []string {
	spec, err := annotations.ParseKeystoreSpec(obj.GetNamespace(), obj.GetAnnotations())
	if err != nil || !spec.Enabled() {
		return nil
	}
	var out []string
	for _, ref := range spec.References(obj.GetNamespace()) {
		out = append(out, referenceKey(string(ref.Kind), ref.Namespace, ref.Name))
	}
	return out
}

func indexOwner(obj client.Object) []string {
	s := obj.(*corev1.Secret)
	if !isTarget(s) {
		return nil
	}
	return []string{ownerName(s)}
}

// ownerName is the name of the Secret a target was created for.
func ownerName(s *corev1.Secret) string { return metav1.GetControllerOf(s).Name }

func referenceKey(kind, namespace, name string) string {
	return strings.ToLower(kind) + ":" + namespace + "/" + name
}

// secretRequests maps a Secret event to the Secrets to reconcile: its source
// when it is a target, and itself when it asks for outputs or holds some (a
// target does; its reconcile then leaves it to the source). The Secrets that
// read it come from a watch of their own (referrers).
func (r *KeystoreReconciler) secretRequests(_ context.Context, obj client.Object) []reconcile.Request {
	s := obj.(*corev1.Secret)
	var reqs []reconcile.Request
	if isTarget(s) {
		reqs = append(reqs, request(s.Namespace, ownerName(s)))
	}
	if wantsOrHasOutputs(s) {
		reqs = append(reqs, request(s.Namespace, s.Name))
	}
	return reqs
}

func wantsOrHasOutputs(s *corev1.Secret) bool {
	return asksForOutputs(s) || hasOutputs(s)
}

// referrers maps a Secret or ConfigMap to the Secrets whose outputs read it.
func (r *KeystoreReconciler) referrers(ctx context.Context, obj client.Object) []reconcile.Request {
	kind := string(annotations.SecretSource)
	if _, ok := obj.(*corev1.ConfigMap); ok {
		kind = string(annotations.ConfigMapSource)
	}
	found, err := r.readerIndex.find(ctx, r.Client, newSecretList, referenceIndex, referenceKey(kind, obj.GetNamespace(), obj.GetName()))
	if err != nil {
		logf.FromContext(ctx).Error(err, "cannot list the Secrets that read an object", "object", client.ObjectKeyFromObject(obj))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(found))
	for _, s := range found {
		if wakes(obj, s.Namespace) {
			reqs = append(reqs, request(s.Namespace, s.Name))
		}
	}
	return reqs
}

// wakes reports whether a change of source should reconcile a reader in
// namespace readerNS: always in the source's namespace, and in another
// only when the source consents to it. Otherwise a reader would be
// reconciled, and warned again, each time a source it may not read
// changes, and could tell from its own Events whether that source exists
// and when it changes. A withdrawal still wakes the reader: the old
// object of the update consents.
func wakes(source client.Object, readerNS string) bool {
	return annotations.Shares(source.GetAnnotations(), source.GetNamespace(), readerNS, annotations.CertificatesOnly)
}

func request(namespace, name string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}}
}
