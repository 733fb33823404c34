package controllers

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
// when one is referenced, liveData fetches it from the API server.
func TrimForCache(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		trimMetadata(o)
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

// trimMetadata drops managedFields and kubectl's last-applied copy.
func trimMetadata(o metav1.Object) {
	o.SetManagedFields(nil)
	if _, ok := o.GetAnnotations()[lastApplied]; ok {
		ann := o.GetAnnotations()
		delete(ann, lastApplied)
		o.SetAnnotations(ann)
	}
}

func cachesData(o client.Object) bool {
	if s, ok := o.(*corev1.Secret); ok && s.Type == corev1.SecretTypeTLS {
		return true
	}
	return annotations.HasAny(o.GetAnnotations())
}

// liveData reads Secrets and ConfigMaps with their data: from the cache when
// the cache keeps their data, otherwise from the API server. It keeps what
// it fetched per resourceVersion, so a password Secret shared by many
// keystore Secrets is fetched once, not once per Secret after a restart.
type liveData struct {
	mu      sync.Mutex
	fetched map[liveKey]client.Object
}

type liveKey struct {
	kind string
	types.NamespacedName
}

// get fills obj (a *corev1.Secret or *corev1.ConfigMap) with object key and
// its data.
func (d *liveData) get(ctx context.Context, cached, live client.Reader, key types.NamespacedName, obj client.Object) error {
	k := liveKey{fmt.Sprintf("%T", obj), key}
	if err := cached.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			d.forget(k)
		}
		return err
	}
	if cachesData(obj) || live == nil {
		return nil
	}
	d.mu.Lock()
	prev, ok := d.fetched[k]
	d.mu.Unlock()
	if ok && prev.GetResourceVersion() == obj.GetResourceVersion() {
		return copyInto(obj, prev)
	}
	err := live.Get(ctx, key, obj)
	switch {
	case err == nil:
		d.mu.Lock()
		if d.fetched == nil {
			d.fetched = map[liveKey]client.Object{}
		}
		kept := obj.DeepCopyObject().(client.Object)
		trimMetadata(kept)
		d.fetched[k] = kept
		d.mu.Unlock()
	case apierrors.IsNotFound(err):
		d.forget(k)
	}
	return err
}

// forget drops what was fetched of an object that no longer exists, so a
// deleted password Secret's data does not stay in memory.
func (d *liveData) forget(k liveKey) {
	d.mu.Lock()
	delete(d.fetched, k)
	d.mu.Unlock()
}

// forgetIfDeleted is called on every event of a Secret or ConfigMap: when
// obj has been fetched and is gone from the cache (a delete event), what
// was fetched of it is dropped, whether or not anything still names it.
func (d *liveData) forgetIfDeleted(ctx context.Context, cached client.Reader, obj client.Object) {
	k := liveKey{fmt.Sprintf("%T", obj), client.ObjectKeyFromObject(obj)}
	d.mu.Lock()
	_, ok := d.fetched[k]
	d.mu.Unlock()
	if !ok {
		return
	}
	probe := obj.DeepCopyObject().(client.Object)
	if err := cached.Get(ctx, k.NamespacedName, probe); apierrors.IsNotFound(err) {
		d.forget(k)
	}
}

func copyInto(dst, src client.Object) error {
	switch d := dst.(type) {
	case *corev1.Secret:
		src.(*corev1.Secret).DeepCopyInto(d)
	case *corev1.ConfigMap:
		src.(*corev1.ConfigMap).DeepCopyInto(d)
	default:
		return fmt.Errorf("liveData cannot read a %T", dst)
	}
	return nil
}
