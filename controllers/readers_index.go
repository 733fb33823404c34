package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// readerIndex finds, for a watch's map function, the objects of one kind
// whose index field holds a value: the readers of a changed source. Each
// change of a Secret is looked up this way by about fifteen watches, most
// of which find nothing, and client.List made each lookup cost an object
// from the scheme, a field selector and a list: a sixth of certinel's
// allocations at a cold start of 1000 keystores. readerIndex asks the
// informer's own index instead, when the cache has one informer for the
// kind. A cache limited to namespaces (--namespaces) has one per
// namespace; then, as for a reconciler made without a manager (unit
// tests), the lookup is a List through the field index of the same name.
type readerIndex struct {
	indexer toolscache.Indexer // nil: list through the client
	name    string
}

// directIndexPrefix names certinel's indexes in an informer, apart from
// the field indexes controller-runtime registers there.
const directIndexPrefix = "certinel-direct:"

// indexReaders registers fn as an index of obj's kind: in the informer
// itself when the cache has one informer for the kind, otherwise as the
// field index field, which find then lists through. One of the two, not
// both: every change of every object of the kind runs fn once.
func indexReaders(ctx context.Context, mgr ctrl.Manager, obj client.Object, field string, fn client.IndexerFunc) (*readerIndex, error) {
	inf, err := mgr.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, err
	}
	shared, ok := inf.(toolscache.SharedIndexInformer)
	if !ok {
		return &readerIndex{}, mgr.GetFieldIndexer().IndexField(ctx, obj, field, fn)
	}
	name := directIndexPrefix + field
	if err := shared.AddIndexers(toolscache.Indexers{name: func(o any) ([]string, error) {
		if obj, ok := o.(client.Object); ok {
			return fn(obj), nil
		}
		return nil, nil
	}}); err != nil {
		return nil, err
	}
	return &readerIndex{indexer: shared.GetIndexer(), name: name}, nil
}

// find returns the objects whose field holds value. Without the informer's
// index it lists a newList() through c. A value that names a namespace
// (every index of a same-namespace reference does) finds only that
// namespace's readers.
func (x *readerIndex) find(ctx context.Context, c client.Reader, newList func() client.ObjectList, field, value string) ([]types.NamespacedName, error) {
	var found []types.NamespacedName
	add := func(o metav1.Object) {
		found = append(found, types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	if x != nil && x.indexer != nil {
		items, err := x.indexer.ByIndex(x.name, value)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			if o, ok := item.(metav1.Object); ok {
				add(o)
			}
		}
		return found, nil
	}
	list := newList()
	if err := c.List(ctx, list, client.MatchingFields{field: value}); err != nil {
		return nil, err
	}
	err := forEachItem(list, func(o client.Object) { add(o) })
	return found, err
}

func newSecretList() client.ObjectList { return &corev1.SecretList{} }
