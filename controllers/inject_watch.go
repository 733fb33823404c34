package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
)

// SetupWithManager registers the source index of the target kind and
// watches the targets and the Secrets and ConfigMaps they read.
func (r *InjectReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	var err error
	if r.target.few {
		concurrency = min(concurrency, fewWorkers)
	}
	if r.readerIndex, err = indexReaders(ctx, mgr, r.newObject(), injectSourceIndex, r.indexSource); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(r.name()).
		// Only objects that ask for injection or truststores, or still hold
		// what certinel wrote: every other Secret and ConfigMap change of the
		// cluster is no work at all.
		WatchesRawSource(watchObjects(mgr, r.newObject(), predicate.NewPredicateFuncs(concernsBundles))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.readers(annotations.SecretSource)))).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.readers(annotations.ConfigMapSource)))).
		Complete(r)
}

// concernsBundles reports an object with an annotation of CA injection or
// bundle truststores, asking or bookkeeping.
func concernsBundles(obj client.Object) bool {
	ann := obj.GetAnnotations()
	for _, k := range []string{annotations.InjectCAFrom, annotations.InjectCAFromConfigMap, annotations.Truststores,
		annotations.InjectedCAs, annotations.TruststoresFingerprint, annotations.CompatWarnings} {
		if _, ok := ann[k]; ok {
			return true
		}
	}
	return false
}

// indexSource lists the objects a target reads: its CA source and, for
// truststores, its password Secret.
func (r *InjectReconciler) indexSource(obj client.Object) []string {
	var out []string
	if spec, asks, err := annotations.ParseInjectSpec(r.namespaceOf(obj), obj.GetAnnotations()); err == nil && asks {
		out = append(out, referenceKey(string(spec.Source.Kind), spec.Source.Namespace, spec.Source.Name))
	}
	if r.target.namespaced {
		if spec, asks, err := annotations.ParseTruststoreSpec(obj.GetAnnotations()); err == nil && asks && spec.Password.SecretName != "" {
			out = append(out, referenceKey(string(annotations.SecretSource), obj.GetNamespace(), spec.Password.SecretName))
		}
	}
	return out
}

func (r *InjectReconciler) namespaceOf(obj client.Object) string {
	if !r.target.namespaced {
		return ""
	}
	return obj.GetNamespace()
}

// readers maps a Secret or ConfigMap to the targets of this kind that read it.
func (r *InjectReconciler) readers(kind annotations.SourceKind) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		found, err := r.readerIndex.find(ctx, r.Client, r.newList, injectSourceIndex, referenceKey(string(kind), obj.GetNamespace(), obj.GetName()))
		if err != nil {
			logf.FromContext(ctx).Error(err, "cannot list the injection targets that read an object", "object", client.ObjectKeyFromObject(obj))
			return nil
		}
		var reqs []reconcile.Request
		for _, t := range found {
			if !r.target.namespaced || wakes(obj, t.Namespace) {
				reqs = append(reqs, request(t.Namespace, t.Name))
			}
		}
		return reqs
	}
}
