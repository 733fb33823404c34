package controllers

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/expiry"
)

const expiryController = "expiry"

// ExpiryReconciler exports the validity of the certificates of every
// monitored Secret (section 5) and warns before and when they expire. It
// reads only the validity the cache transform kept (validityMark), and
// wakes at the next moment something must be told: no polling.
type ExpiryReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	Clock    clock.Clock
	// Warning is the --expiry-warning threshold.
	Warning time.Duration

	mu     sync.Mutex
	secret map[types.NamespacedName]*expiryState
}

// expiryState is what is remembered of one Secret: what was told, and
// which version was last looked at.
type expiryState struct {
	uid     types.UID
	version string
	memory  expiry.Memory
}

// Reconcile exports one Secret's series and tells what is due.
func (r *ExpiryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// A shallow copy of the cached Secret, whose maps are the cache's:
	// expiry only reads it, and a deep copy of every monitored Secret,
	// data and all, was 5% of what a cold start with 1000 Secrets
	// allocated.
	var s corev1.Secret
	if err := r.Client.Get(ctx, req.NamespacedName, &s, client.UnsafeDisableDeepCopy); err != nil {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	encoded, monitored := s.Annotations[validityMark]
	if !monitored || s.DeletionTimestamp != nil {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	vs, err := expiry.Decode(encoded)
	if err != nil { // the cache writes it, and drops any a user wrote: never here
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	st := r.state(req.NamespacedName, s.UID)
	changed := st.version != s.ResourceVersion
	st.version = s.ResourceVersion
	spec, err := annotations.ParseExpirySpec(s.Annotations, r.Warning)
	if err != nil && changed {
		_, _ = reportInvalid(ctx, r.Recorder, expiryController, &s, err)
	}
	r.export(req.NamespacedName, vs, changed)
	now := r.Clock.Now()
	notices, memory, wake := expiry.Decide(vs, spec.Warning, now, st.memory)
	st.memory = memory
	for _, n := range notices {
		emit(r.Recorder, &s, corev1.EventTypeWarning, n.Reason, "Check", n.Message)
	}
	if wake.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: wake.Sub(now)}, nil // after now: Decide's promise
}

// export sets the series of the keys present, which replace all the
// Secret's former ones; unreadable keys are counted once per version of the
// Secret.
func (r *ExpiryReconciler) export(name types.NamespacedName, vs []expiry.Validity, changed bool) {
	series := make([]validitySeries, 0, len(vs))
	for _, v := range vs {
		if v.Unreadable {
			if changed {
				certificateReadErrors.With(prometheus.Labels{"namespace": name.Namespace, "secret": name.Name, "key": v.Key}).Inc()
			}
			continue
		}
		series = append(series, validitySeries{key: v.Key, notAfter: v.NotAfter.Unix(), notBefore: v.NotBefore.Unix()})
	}
	certificateValidity.set(name, series)
}

// state is the remembered state of a Secret, new when it was recreated.
func (r *ExpiryReconciler) state(name types.NamespacedName, uid types.UID) *expiryState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secret == nil {
		r.secret = map[types.NamespacedName]*expiryState{}
	}
	st := r.secret[name]
	if st == nil || st.uid != uid {
		st = &expiryState{uid: uid}
		r.secret[name] = st
	}
	return st
}

// forget drops a Secret that is gone or no longer monitored: its series
// disappear with it.
func (r *ExpiryReconciler) forget(name types.NamespacedName) {
	r.mu.Lock()
	delete(r.secret, name)
	r.mu.Unlock()
	certificateValidity.set(name, nil)
	certificateReadErrors.DeletePartialMatch(prometheus.Labels{"namespace": name.Namespace, "secret": name.Name})
}

// SetupWithManager watches the Secrets the cache summarised, and among
// their updates only those that change what expiry reads.
func (r *ExpiryReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(expiryController).
		WatchesRawSource(watchObjects(mgr, &corev1.Secret{}, expiryRelevant())).
		WithOptions(controller.Options{MaxConcurrentReconciles: min(concurrency, fewWorkers)}).
		Complete(r)
}

// expiryRelevant passes Secrets the cache summarised, and updates that
// change their certificates or their section 5 annotations.
func expiryRelevant() predicate.Funcs {
	summarised := func(o client.Object) bool {
		_, ok := o.GetAnnotations()[validityMark]
		return ok
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return summarised(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return summarised(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return summarised(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()
			if !summarised(e.ObjectOld) && !summarised(e.ObjectNew) {
				return false
			}
			return e.ObjectOld.GetUID() != e.ObjectNew.GetUID() ||
				o[validityMark] != n[validityMark] || o[annotations.ExpiryWarning] != n[annotations.ExpiryWarning] ||
				o[annotations.Monitor] != n[annotations.Monitor]
		},
	}
}
