package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// syncPoll is how often a cold start checks whether caches and event
// handlers have synced. client-go and controller-runtime check every
// 100 ms, and a controller waits for two such checks one after the other
// (the cache, then its handler's initial events): at a cold start with 1000
// Secrets that was most of the quarter second before the first write.
const syncPoll = 5 * time.Millisecond

// PromptSync makes a cache's WaitForCacheSync, on which the manager starts
// its controllers, notice within syncPoll that every informer has synced.
func PromptSync(c cache.Cache) cache.Cache { return promptCache{c} }

type promptCache struct{ cache.Cache }

// WaitForCacheSync asks the cache itself, so that "synced" means exactly
// what it means there, over and over with a short deadline: its own wait
// looks once at once and then only every 100 ms.
func (c promptCache) WaitForCacheSync(ctx context.Context) bool {
	for {
		probe, cancel := context.WithTimeout(ctx, syncPoll)
		synced := c.Cache.WaitForCacheSync(probe)
		cancel()
		if synced {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
}

// watch is the source of a controller's events about objects of obj's
// kind: source.Kind without its wait for every informer of the cache. A
// controller starts once the informers it watches have synced and its
// handlers have seen their initial lists, whatever another feature's
// informer is doing (the first watch of a custom resource on a freshly
// started API server waits a second for its storage).
func watch(mgr ctrl.Manager, obj client.Object, h handler.EventHandler, preds ...predicate.Predicate) source.SyncingSource {
	return &informerWatch{cache: mgr.GetCache(), obj: obj, handler: h, preds: preds}
}

// watchObjects is watch with the request of the object itself: what a
// builder's For gives.
func watchObjects(mgr ctrl.Manager, obj client.Object, preds ...predicate.Predicate) source.SyncingSource {
	return watch(mgr, obj, &handler.EnqueueRequestForObject{}, preds...)
}

type informerWatch struct {
	cache   cache.Cache
	obj     client.Object
	handler handler.EventHandler
	preds   []predicate.Predicate
	// registration is the handler's, set by Start: its HasSynced is true
	// once the informer has synced and the handler has seen every object
	// of the initial list.
	registration toolscache.ResourceEventHandlerRegistration
}

// Start adds the handler to the informer of obj's kind, creating that
// informer if need be, without waiting for it to sync.
func (w *informerWatch) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	inf, err := w.cache.GetInformer(ctx, w.obj, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("informer for %T: %w", w.obj, err)
	}
	// source.Informer adds the handler the way source.Kind does (the
	// predicates, and the priority queue's low priority for the initial
	// list); keeping the registration it gets tells when it has synced.
	kept := &registrationKeeper{Informer: inf}
	if err := (&source.Informer{Informer: kept, Handler: w.handler, Predicates: w.preds}).Start(ctx, queue); err != nil {
		return err
	}
	w.registration = kept.registration
	return nil
}

// WaitForSync returns once the handler has seen the informer's initial
// list; nil too when ctx is cancelled (the manager is stopping), and an
// error when ctx expires (the controller's CacheSyncTimeout).
func (w *informerWatch) WaitForSync(ctx context.Context) error {
	if w.registration == nil {
		return fmt.Errorf("%s was not started", w)
	}
	err := wait.PollUntilContextCancel(ctx, syncPoll, true, func(context.Context) (bool, error) {
		return w.registration.HasSynced(), nil
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("timed out waiting for the cache of %T to sync: %w", w.obj, err)
	}
	return nil
}

func (w *informerWatch) String() string {
	if gvk := w.obj.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
		return "watch of " + gvk.Kind // an unstructured object
	}
	return fmt.Sprintf("watch of %T", w.obj)
}

// registrationKeeper keeps the registration of the handler added through it.
type registrationKeeper struct {
	cache.Informer
	registration toolscache.ResourceEventHandlerRegistration
}

func (k *registrationKeeper) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, o toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	reg, err := k.Informer.AddEventHandlerWithOptions(h, o)
	k.registration = reg
	return reg, err
}
