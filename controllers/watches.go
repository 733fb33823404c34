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
// (its Events are paced apart), and CA injection into webhook
// configurations and APIServices, of which a cluster has tens (CRDs can be
// thousands, all converted by webhooks that share one CA). Every worker is
// a goroutine from the start, idle or not, and idle stacks still count
// towards the garbage collector's goal.
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
// objects: watch with notInitialList, through the one handler on the
// informer that every such watch sharing sources shares (readerEvents).
// With sources nil, the watch has a handler of its own.
func watchReaders(mgr ctrl.Manager, sources *SourceReader, obj client.Object, h handler.EventHandler) source.SyncingSource {
	return &informerWatch{cache: mgr.GetCache(), obj: obj, handler: h, preds: []predicate.Predicate{notInitialList}, shared: sources.readerEvents(obj)}
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
	// shared, when set, takes the handler instead of the informer
	// (watchReaders).
	shared *readerEvents
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
	kept := &registrationKeeper{Informer: inf, shared: w.shared}
	if err := (&source.Informer{Informer: kept, Handler: w.handler, Predicates: w.preds}).Start(ctx, queue); err != nil {
		return err
	}
	w.registration = kept.registration
	if kept.joined != nil {
		context.AfterFunc(ctx, func() { w.shared.leave(kept.joined) })
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
	joined       *readerHandler // the handler's place in shared
	registration toolscache.ResourceEventHandlerRegistration
}

func (k *registrationKeeper) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, o toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	if k.shared == nil {
		reg, err := k.Informer.AddEventHandlerWithOptions(h, o)
		k.registration = reg
		return reg, err
	}
	reg, joined, err := k.shared.join(k.Informer, h, o)
	k.registration, k.joined = reg, joined
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
// late misses nothing it would have kept. The watches' handlers run one
// after the other on the informer's one goroutine: each only looks up the
// readers of the object (an index, or a List of the cache) and enqueues
// them.
type readerEvents struct {
	mu           sync.Mutex
	registration toolscache.ResourceEventHandlerRegistration
	handlers     atomic.Pointer[[]*readerHandler]
}

// readerHandler is one watch's handler in a readerEvents.
type readerHandler struct {
	toolscache.ResourceEventHandler
}

// readerEventsByKind is the readerEvents of each kind of source, of one
// manager (held by its SourceReader).
type readerEventsByKind struct {
	mu     sync.Mutex
	byKind map[reflect.Type]*readerEvents
}

// of is the readerEvents of obj's kind.
func (k *readerEventsByKind) of(obj client.Object) *readerEvents {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := reflect.TypeOf(obj)
	if k.byKind[t] == nil {
		if k.byKind == nil {
			k.byKind = map[reflect.Type]*readerEvents{}
		}
		k.byKind[t] = &readerEvents{}
	}
	return k.byKind[t]
}

// join adds h to the handlers, adding r to inf with o the first time. The
// registration returned is r's: it has synced once r has seen the initial
// list.
func (r *readerEvents) join(inf cache.Informer, h toolscache.ResourceEventHandler, o toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, *readerHandler, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registration == nil {
		reg, err := inf.AddEventHandlerWithOptions(r, o)
		if err != nil {
			return nil, nil, err
		}
		r.registration = reg
	}
	joined := &readerHandler{h}
	var hs []*readerHandler
	if cur := r.handlers.Load(); cur != nil {
		hs = slices.Clone(*cur)
	}
	hs = append(hs, joined)
	r.handlers.Store(&hs)
	return r.registration, joined, nil
}

// leave takes a handler out (its controller has stopped).
func (r *readerEvents) leave(h *readerHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.handlers.Load(); cur != nil {
		hs := slices.DeleteFunc(slices.Clone(*cur), func(x *readerHandler) bool { return x == h })
		r.handlers.Store(&hs)
	}
}

func (r *readerEvents) each(f func(*readerHandler)) {
	if hs := r.handlers.Load(); hs != nil {
		for _, h := range *hs {
			f(h)
		}
	}
}

func (r *readerEvents) OnAdd(obj any, isInInitialList bool) {
	if !isInInitialList {
		r.each(func(h *readerHandler) { h.OnAdd(obj, false) })
	}
}

func (r *readerEvents) OnUpdate(oldObj, newObj any) {
	r.each(func(h *readerHandler) { h.OnUpdate(oldObj, newObj) })
}

func (r *readerEvents) OnDelete(obj any) {
	r.each(func(h *readerHandler) { h.OnDelete(obj) })
}
