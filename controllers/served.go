package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// WhenServed runs Setup once the API server serves Kind: at start when it
// does, otherwise as soon as a CustomResourceDefinition or an APIService
// that serves it appears (OpenShift serves Routes through an APIService;
// clusters with the Route CRD through a CRD), without a restart.
type WhenServed struct {
	Manager   ctrl.Manager
	Discovery discovery.DiscoveryInterface
	Kind      schema.GroupVersionKind
	Setup     func() error
	// Watch is false when certinel may not watch cluster-scoped objects
	// (--namespaces): then it checks again every Recheck.
	Watch   bool
	Recheck time.Duration
}

// Start implements manager.Runnable.
func (w *WhenServed) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("kind", w.Kind.String())
	if w.served() {
		return w.Setup()
	}
	log.Info("not served by the API server; waiting for it before starting its controller")
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	var tick <-chan time.Time
	if w.Watch {
		for _, gvk := range []schema.GroupVersionKind{crdConversion.gvk, apiService.gvk} {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			inf, err := w.Manager.GetCache().GetInformer(ctx, u)
			if err != nil {
				return err
			}
			if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
				AddFunc:    func(any) { notify() },
				UpdateFunc: func(any, any) { notify() },
			}); err != nil {
				return err
			}
		}
	} else {
		t := time.NewTicker(w.Recheck)
		defer t.Stop()
		tick = t.C
	}
	var once sync.Once
	// Discovery serves a new kind a moment after the last CRD or
	// APIService event that announces it: after an event, look again
	// every second for a while.
	var again <-chan time.Time
	var until time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			until = time.Now().Add(servedGrace)
		case <-tick:
		case <-again:
		}
		again = nil
		if !w.served() {
			if time.Now().Before(until) {
				again = time.After(time.Second)
			}
			continue
		}
		var err error
		once.Do(func() {
			log.Info("now served by the API server; starting its controller")
			err = w.Setup()
		})
		return err
	}
}

// servedGrace is how long after a CRD or APIService event WhenServed keeps
// asking discovery.
const servedGrace = 30 * time.Second

// served asks the API server's discovery whether it serves the kind now.
func (w *WhenServed) served() bool {
	list, err := w.Discovery.ServerResourcesForGroupVersion(w.Kind.GroupVersion().String())
	if err != nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Kind == w.Kind.Kind {
			return true
		}
	}
	return false
}
