package controllers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
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

// fewWorkers caps the workers of the controllers that never have many
// objects to write at once: expiry, which writes nothing to the API server
// (its Events are paced apart), and CA injection into the cluster-scoped
// kinds (webhook configurations, CRDs, APIServices), of which a cluster has
// tens. Every worker is a goroutine from the start, idle or not, and idle
// stacks still count towards the garbage collector's goal.
const fewWorkers = 4

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

// watchReaders is the source of a controller's events about the Secrets or
// ConfigMaps (obj's kind) that its objects read, mapped by h to those
// objects: watch with notInitialList, through one handler on the informer
// that every such watch of the manager shares (readerEvents).
func watchReaders(mgr ctrl.Manager, obj client.Object, h handler.EventHandler) source.SyncingSource {
	return &informerWatch{cache: mgr.GetCache(), obj: obj, handler: h, preds: []predicate.Predicate{notInitialList}, shared: true}
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
	// shared: the handler joins the informer's readerEvents instead of
	// being added to the informer on its own (watchReaders).
	shared bool
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
	if w.shared {
		kept.shared = readerEventsOf(inf)
	}
	if err := (&source.Informer{Informer: kept, Handler: w.handler, Predicates: w.preds}).Start(ctx, queue); err != nil {
		return err
	}
	w.registration = kept.registration
	if kept.shared != nil {
		context.AfterFunc(ctx, func() { kept.shared.remove(kept.handler) })
	}
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

// registrationKeeper keeps the registration of the handler added through
// it, and adds that handler to shared instead of the informer when set.
type registrationKeeper struct {
	cache.Informer
	shared       *readerEvents
	handler      toolscache.ResourceEventHandler
	registration toolscache.ResourceEventHandlerRegistration
}

func (k *registrationKeeper) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, o toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	var reg toolscache.ResourceEventHandlerRegistration
	var err error
	if k.shared != nil {
		reg, err = k.shared.add(k.Informer, h, o)
	} else {
		reg, err = k.Informer.AddEventHandlerWithOptions(h, o)
	}
	k.handler, k.registration = h, reg
	return reg, err
}

// readerEvents is one handler on the informer of Secrets or of ConfigMaps
// that passes each change on to every watch of watchReaders: about twenty
// of them (each injection kind, each reload kind, keystores, Ingresses and
// Routes map a source to its readers). Each handler of its own would be a
// listener of the informer with two goroutines and a buffer of 1024 events
// (16 KB at least) that lives as long as the process, and every change
// would be handed to each through a channel. The initial list reaches none
// of them: those watches drop it (notInitialList), so a watch that joins
// late misses nothing it would have kept.
type readerEvents struct {
	mu           sync.Mutex
	registration toolscache.ResourceEventHandlerRegistration
	handlers     atomic.Pointer[[]toolscache.ResourceEventHandler]
}

// readerEventsByInformer holds the readerEvents of each informer.
var readerEventsByInformer sync.Map

// readerEventsOf is the readerEvents of inf; nil (a handler of its own for
// each watch) if inf cannot be told apart from another informer.
func readerEventsOf(inf cache.Informer) *readerEvents {
	if !reflect.TypeOf(inf).Comparable() {
		return nil
	}
	r, _ := readerEventsByInformer.LoadOrStore(inf, &readerEvents{})
	return r.(*readerEvents)
}

// add joins h to the handlers, adding r to inf with o the first time. The
// registration returned is r's: it has synced once r has seen the initial
// list.
func (r *readerEvents) add(inf cache.Informer, h toolscache.ResourceEventHandler, o toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registration == nil {
		reg, err := inf.AddEventHandlerWithOptions(r, o)
		if err != nil {
			return nil, err
		}
		r.registration = reg
	}
	var hs []toolscache.ResourceEventHandler
	if cur := r.handlers.Load(); cur != nil {
		hs = slices.Clone(*cur)
	}
	hs = append(hs, h)
	r.handlers.Store(&hs)
	return r.registration, nil
}

// remove takes h out of the handlers (its controller has stopped).
func (r *readerEvents) remove(h toolscache.ResourceEventHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.handlers.Load(); cur != nil {
		hs := slices.DeleteFunc(slices.Clone(*cur), func(x toolscache.ResourceEventHandler) bool { return x == h })
		r.handlers.Store(&hs)
	}
}

func (r *readerEvents) each(f func(toolscache.ResourceEventHandler)) {
	if hs := r.handlers.Load(); hs != nil {
		for _, h := range *hs {
			f(h)
		}
	}
}

func (r *readerEvents) OnAdd(obj any, isInInitialList bool) {
	if !isInInitialList {
		r.each(func(h toolscache.ResourceEventHandler) { h.OnAdd(obj, false) })
	}
}

func (r *readerEvents) OnUpdate(oldObj, newObj any) {
	r.each(func(h toolscache.ResourceEventHandler) { h.OnUpdate(oldObj, newObj) })
}

func (r *readerEvents) OnDelete(obj any) {
	r.each(func(h toolscache.ResourceEventHandler) { h.OnDelete(obj) })
}
