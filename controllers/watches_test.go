package controllers

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// fakeInformer hands its one handler to the test, and says the handler has
// synced when the test says so.
type fakeInformer struct {
	cache.Informer
	handler toolscache.ResourceEventHandler
	synced  atomic.Bool
	added   atomic.Int32 // handlers added
}

func (f *fakeInformer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, _ toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	f.added.Add(1)
	f.handler = h
	return fakeRegistration{f}, nil
}

type fakeRegistration struct{ f *fakeInformer }

func (r fakeRegistration) HasSynced() bool { return r.f.synced.Load() }

func (r fakeRegistration) HasSyncedChecker() toolscache.DoneChecker { return nil }

// fakeCache gives out one informer, and is synced when the test says so,
// looking the way client-go does: at once, then every 100 ms.
type fakeCache struct {
	cache.Cache
	informer      *fakeInformer
	blockingAsked atomic.Bool
	synced        atomic.Bool
}

func (c *fakeCache) GetInformer(_ context.Context, _ client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	var o cache.InformerGetOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.BlockUntilSynced == nil || *o.BlockUntilSynced {
		c.blockingAsked.Store(true)
	}
	return c.informer, nil
}

func (c *fakeCache) WaitForCacheSync(ctx context.Context) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !c.synced.Load() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

func newWatchQueue() workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
}

func TestWatchEnqueuesThroughItsPredicates(t *testing.T) {
	c := &fakeCache{informer: &fakeInformer{}}
	only := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == "wanted" })
	w := &informerWatch{cache: c, obj: &corev1.Secret{}, handler: &handler.EnqueueRequestForObject{}, preds: []predicate.Predicate{only}}
	q := newWatchQueue()
	defer q.ShutDown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx, q); err != nil {
		t.Fatal(err)
	}
	if c.blockingAsked.Load() {
		t.Error("Start asked for the informer blocking until it syncs; a controller's other watches would wait on it")
	}
	for _, name := range []string{"other", "wanted"} {
		c.informer.handler.OnAdd(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}, false)
	}
	if got := q.Len(); got != 1 {
		t.Fatalf("queue holds %d requests, want 1 (the predicate passes only %q)", got, "wanted")
	}
	req, _ := q.Get()
	if want := (reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "wanted"}}); req != want {
		t.Errorf("request %v, want %v", req, want)
	}
}

func TestWatchWaitsForItsHandlerToSync(t *testing.T) {
	c := &fakeCache{informer: &fakeInformer{}}
	w := &informerWatch{cache: c, obj: &corev1.Secret{}, handler: &handler.EnqueueRequestForObject{}}
	ctx := context.Background()
	if err := w.WaitForSync(ctx); err == nil {
		t.Error("WaitForSync before Start returned no error")
	}
	if err := w.Start(ctx, newWatchQueue()); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		c.informer.synced.Store(true)
	}()
	if err := w.WaitForSync(ctx); err != nil {
		t.Fatalf("WaitForSync: %v", err)
	}
	if !c.informer.synced.Load() {
		t.Error("WaitForSync returned before the handler had synced")
	}
	if c.synced.Load() {
		t.Error("test broken: the cache as a whole was never synced")
	}
}

func TestWatchWaitEnds(t *testing.T) {
	c := &fakeCache{informer: &fakeInformer{}}
	w := &informerWatch{cache: c, obj: &corev1.Secret{}, handler: &handler.EnqueueRequestForObject{}}
	if err := w.Start(context.Background(), newWatchQueue()); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.WaitForSync(cancelled); err != nil {
		t.Errorf("WaitForSync when the manager stops: %v, want nil", err)
	}
	expired, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := w.WaitForSync(expired); err == nil {
		t.Error("WaitForSync past the controller's CacheSyncTimeout returned nil, want an error")
	}
}

func TestPromptSyncAsksTheCache(t *testing.T) {
	c := &fakeCache{informer: &fakeInformer{}}
	p := PromptSync(c)
	go func() {
		time.Sleep(20 * time.Millisecond)
		c.synced.Store(true)
	}()
	if !p.WaitForCacheSync(context.Background()) {
		t.Fatal("WaitForCacheSync returned false without a cancelled context")
	}
	if !c.synced.Load() {
		t.Error("WaitForCacheSync returned true before the cache had synced")
	}

	c.synced.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if p.WaitForCacheSync(ctx) {
		t.Error("WaitForCacheSync returned true for a cache that never synced")
	}
	if ctx.Err() == nil {
		t.Error("WaitForCacheSync gave up before its context ended")
	}
}

// TestReaderWatchesShareOneHandler: the watches of watchReaders add one
// handler to the informer between them, and each gets every change after
// the initial list, until its controller stops.
func TestReaderWatchesShareOneHandler(t *testing.T) {
	c := &fakeCache{informer: &fakeInformer{}}
	readers := func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: "reader-of-" + o.GetName()}}}
	}
	sources := NewSourceReader(nil, nil, nil)
	start := func(ctx context.Context) (*informerWatch, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		w := &informerWatch{cache: c, obj: &corev1.Secret{}, handler: handler.EnqueueRequestsFromMapFunc(readers), preds: []predicate.Predicate{notInitialList}, shared: sources.readerEvents(&corev1.Secret{})}
		q := newWatchQueue()
		t.Cleanup(q.ShutDown)
		if err := w.Start(ctx, q); err != nil {
			t.Fatal(err)
		}
		return w, q
	}
	drain := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) []string {
		var out []string
		for q.Len() > 0 {
			r, _ := q.Get()
			q.Done(r)
			q.Forget(r)
			out = append(out, r.Name)
		}
		return out
	}
	secret := func(name string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	defer stop1()
	w1, q1 := start(ctx1)
	w2, q2 := start(context.Background())
	if n := c.informer.added.Load(); n != 1 {
		t.Fatalf("two reader watches added %d handlers to the informer, want 1", n)
	}
	h := c.informer.handler
	h.OnAdd(secret("listed"), true)
	h.OnAdd(secret("created"), false)
	h.OnUpdate(secret("changed"), secret("changed"))
	h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "ns/gone", Obj: secret("gone")})
	want := []string{"reader-of-created", "reader-of-changed", "reader-of-gone"}
	for i, q := range []workqueue.TypedRateLimitingInterface[reconcile.Request]{q1, q2} {
		if got := drain(q); !slices.Equal(got, want) {
			t.Errorf("watch %d enqueued %v, want %v (nothing of the initial list)", i+1, got, want)
		}
	}

	// Both wait on the shared handler's sync.
	c.informer.synced.Store(true)
	for i, w := range []*informerWatch{w1, w2} {
		if err := w.WaitForSync(context.Background()); err != nil {
			t.Errorf("watch %d: WaitForSync: %v", i+1, err)
		}
	}

	// A watch that joins late gets the changes from then on, and one whose
	// controller stopped gets none.
	_, q3 := start(context.Background())
	stop1()
	deadline := time.Now().Add(5 * time.Second)
	for hs := c.informer.handler.(*readerEvents).handlers.Load(); len(*hs) != 2; hs = c.informer.handler.(*readerEvents).handlers.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("%d handlers after a controller stopped, want 2", len(*hs))
		}
		time.Sleep(time.Millisecond)
	}
	h.OnAdd(secret("later"), false)
	for name, q := range map[string]workqueue.TypedRateLimitingInterface[reconcile.Request]{"stopped": q1, "running": q2, "late": q3} {
		got, wantLater := drain(q), []string{"reader-of-later"}
		if name == "stopped" {
			wantLater = nil
		}
		if !slices.Equal(got, wantLater) {
			t.Errorf("%s watch enqueued %v, want %v", name, got, wantLater)
		}
	}
	if n := c.informer.added.Load(); n != 1 {
		t.Errorf("%d handlers added to the informer, want 1", n)
	}
	if sources.readerEvents(&corev1.Secret{}) != sources.readerEvents(&corev1.Secret{}) {
		t.Error("two watches of Secrets through one SourceReader got different handlers")
	}
	if sources.readerEvents(&corev1.ConfigMap{}) == sources.readerEvents(&corev1.Secret{}) {
		t.Error("ConfigMaps and Secrets share a handler")
	}
	if NewSourceReader(nil, nil, nil).readerEvents(&corev1.Secret{}) == sources.readerEvents(&corev1.Secret{}) {
		t.Error("two SourceReaders (two managers) share a handler")
	}
	if (*SourceReader)(nil).readerEvents(&corev1.Secret{}) != nil {
		t.Error("a nil SourceReader gave a shared handler")
	}
}
