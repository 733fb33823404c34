package controllers

import (
	"context"
	"slices"
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

// expiryState is what is remembered of one Secret: which series it has,
// what was told, and which version was last looked at.
type expiryState struct {
	uid     types.UID
	version string
	keys    []string
	memory  expiry.Memory
}

// Reconcile exports one Secret's series and tells what is due.
func (r *ExpiryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s corev1.Secret
	if err := r.Client.Get(ctx, req.NamespacedName, &s); err != nil {
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
	r.export(req.NamespacedName, st, vs, changed)
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

// export sets the gauges of the keys present and deletes those of keys gone;
// unreadable keys are counted once per version of the Secret.
func (r *ExpiryReconciler) export(name types.NamespacedName, st *expiryState, vs []expiry.Validity, changed bool) {
	keys := make([]string, 0, len(vs))
	for _, v := range vs {
		labels := prometheus.Labels{"namespace": name.Namespace, "secret": name.Name, "key": v.Key}
		if v.Unreadable {
			notAfter.Delete(labels)
			notBefore.Delete(labels)
			if changed {
				certificateReadErrors.With(labels).Inc()
			}
			continue
		}
		keys = append(keys, v.Key)
		notAfter.With(labels).Set(float64(v.NotAfter.Unix()))
		notBefore.With(labels).Set(float64(v.NotBefore.Unix()))
	}
	for _, k := range st.keys {
		if !slices.Contains(keys, k) {
			labels := prometheus.Labels{"namespace": name.Namespace, "secret": name.Name, "key": k}
			notAfter.Delete(labels)
			notBefore.Delete(labels)
		}
	}
	st.keys = keys
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
		if old := r.secret[name]; old != nil {
			st.keys = old.keys // the recreated Secret's series replace these
		}
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
	labels := prometheus.Labels{"namespace": name.Namespace, "secret": name.Name}
	notAfter.DeletePartialMatch(labels)
	notBefore.DeletePartialMatch(labels)
	certificateReadErrors.DeletePartialMatch(labels)
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
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
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
