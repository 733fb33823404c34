package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/pkg/annotations"
)

// lastApplied is kubectl's copy of the whole object; for a Secret it holds
// the data a second time.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// TrimForCache is the cache transform: it drops what certinel never reads
// (managedFields, kubectl's last-applied copy) and the data of Secrets and
// ConfigMaps that certinel is unlikely to need, such as Helm release
// Secrets. Data is kept for kubernetes.io/tls Secrets and for objects with a
// certinel annotation. Objects whose data was dropped are still watched;
// when one is referenced, readData fetches it from the API server.
func TrimForCache(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
		if _, ok := o.GetAnnotations()[lastApplied]; ok {
			ann := o.GetAnnotations()
			delete(ann, lastApplied)
			o.SetAnnotations(ann)
		}
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		if !cachesData(o) {
			o.Data, o.StringData = nil, nil
		}
	case *corev1.ConfigMap:
		if !cachesData(o) {
			o.Data, o.BinaryData = nil, nil
		}
	}
	return obj, nil
}

func cachesData(o client.Object) bool {
	if s, ok := o.(*corev1.Secret); ok && s.Type == corev1.SecretTypeTLS {
		return true
	}
	return annotations.HasAny(o.GetAnnotations())
}

// readData gets a Secret or ConfigMap with its data: from the cache when the
// cache keeps its data, otherwise with one GET from the API server.
func readData(ctx context.Context, cached client.Reader, live client.Reader, key types.NamespacedName, obj client.Object) error {
	if err := cached.Get(ctx, key, obj); err != nil {
		return err
	}
	if cachesData(obj) || live == nil {
		return nil
	}
	return live.Get(ctx, key, obj)
}
