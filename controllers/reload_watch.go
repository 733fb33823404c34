package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/reload"
)

// workloadKind is one kind of workload that reload rolls.
type workloadKind struct {
	name     string
	newObj   func() client.Object
	newList  func() client.ObjectList
	template func(client.Object) *corev1.PodTemplateSpec
}

var workloadKinds = []workloadKind{
	{"deployment", func() client.Object { return &appsv1.Deployment{} }, func() client.ObjectList { return &appsv1.DeploymentList{} },
		func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.Deployment).Spec.Template }},
	{"statefulset", func() client.Object { return &appsv1.StatefulSet{} }, func() client.ObjectList { return &appsv1.StatefulSetList{} },
		func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.StatefulSet).Spec.Template }},
	{"daemonset", func() client.Object { return &appsv1.DaemonSet{} }, func() client.ObjectList { return &appsv1.DaemonSetList{} },
		func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.DaemonSet).Spec.Template }},
}

// SetupWithManager registers the reference index and the watches.
func (r *ReloadReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	var err error
	if r.readerIndex, err = indexReaders(ctx, mgr, r.kind.newObj(), reloadIndex, r.indexReferences); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(r.name()).
		WatchesRawSource(watchObjects(mgr, r.kind.newObj())).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.readers(annotations.SecretSource)))).
		WatchesRawSource(watchReaders(mgr, r.Sources, &corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.readers(annotations.ConfigMapSource)))).
		Complete(r)
}

func (r *ReloadReconciler) indexReferences(obj client.Object) []string {
	spec, asks, err := reload.ParseSpec(obj.GetAnnotations())
	if err != nil || !asks {
		return nil
	}
	var out []string
	for _, ref := range reload.References(spec, r.kind.template(obj).Spec) {
		out = append(out, reloadReference(obj.GetNamespace(), ref.Kind, ref.Name))
	}
	return out
}

// reloadReference is the reloadIndex value of a reference to the object
// name of kind in namespace.
func reloadReference(namespace string, kind annotations.SourceKind, name string) string {
	return namespace + "/" + string(kind) + ":" + name
}

// readers maps a Secret or ConfigMap to the workloads of this kind that
// read it (an object that opted out counts for nothing in their hash).
func (r *ReloadReconciler) readers(kind annotations.SourceKind) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		names := []string{obj.GetName()}
		if s, ok := obj.(*corev1.Secret); ok && isTarget(s) {
			// The keystores of a Secret that writes them elsewhere: its
			// readers wait for them.
			names = append(names, ownerName(s))
		}
		var reqs []reconcile.Request
		for _, name := range names {
			found, err := r.readerIndex.find(ctx, r.Client, r.kind.newList, reloadIndex, reloadReference(obj.GetNamespace(), kind, name))
			if err != nil {
				logf.FromContext(ctx).Error(err, "cannot list the workloads that read an object", "object", client.ObjectKeyFromObject(obj))
				return nil
			}
			for _, o := range found {
				reqs = append(reqs, request(o.Namespace, o.Name))
			}
		}
		return reqs
	}
}

// forEachItem calls fn with every item of list.
func forEachItem(list client.ObjectList, fn func(client.Object)) error {
	return meta.EachListItem(list, func(o runtime.Object) error {
		if c, ok := o.(client.Object); ok {
			fn(c)
		}
		return nil
	})
}
