package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"golang.org/x/time/rate"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/ownership"
	"github.com/certinel/certinel/pkg/reload"
)

// Event reasons of reload.
const (
	ReasonRolloutTriggered = "RolloutTriggered"
	ReasonRolloutHeld      = "RolloutHeld"
	ReasonBaselineRecorded = "ReloadBaselineRecorded"
)

// reloadIndex maps a workload to the objects its pods read: "secret:name",
// "configmap:name" (same namespace).
const reloadIndex = "certinel.io/reload-references"

// workloadKind is one kind of workload that reload rolls.
type workloadKind struct {
	name     string
	newObj   func() client.Object
	newList  func() client.ObjectList
	template func(client.Object) *corev1.PodTemplateSpec
}

var workloadKinds = []workloadKind{
	{"deployment", func() client.Object { return &appsv1.Deployment{} }, func() client.ObjectList { return &appsv1.DeploymentList{} },
		func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.Deployment).Spec.Template }},
	{"statefulset", func() client.Object { return &appsv1.StatefulSet{} }, func() client.ObjectList { return &appsv1.StatefulSetList{} },
		func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.StatefulSet).Spec.Template }},
	{"daemonset", func() client.Object { return &appsv1.DaemonSet{} }, func() client.ObjectList { return &appsv1.DaemonSetList{} },
		func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.DaemonSet).Spec.Template }},
}

// Reloads is what the reload controllers of every kind share: the rollout
// rate limit and the coalescing window.
type Reloads struct {
	Window  time.Duration
	Limiter *rate.Limiter

	mu       sync.Mutex
	reserved map[workloadKey]time.Time // workload → when its turn comes
}

// release gives up the place a workload held in the queue (it rolls no
// more, or is gone).
func (s *Reloads) release(key workloadKey) {
	s.mu.Lock()
	delete(s.reserved, key)
	s.mu.Unlock()
}

// turn returns how long the workload must still wait for its rollout under
// the rate limit (0: roll now), and whether it was already waiting. A
// workload takes one place in the queue, however often it is reconciled.
func (s *Reloads) turn(key workloadKey, now time.Time) (wait time.Duration, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.reserved[key]; ok {
		if !now.Before(at) {
			delete(s.reserved, key)
			return 0, true
		}
		return at.Sub(now), true
	}
	res := s.Limiter.ReserveN(now, 1)
	if !res.OK() {
		return time.Second, false
	}
	if d := res.DelayFrom(now); d > 0 {
		if s.reserved == nil {
			s.reserved = map[workloadKey]time.Time{}
		}
		s.reserved[key] = now.Add(d)
		return d, false
	}
	return 0, false
}

// ReloadReconciler rolls the workloads of one kind whose referenced Secrets
// or ConfigMaps changed (section 4 of the contract), by setting the
// pod-template annotation certinel.io/config-hash. The baseline hash is
// kept on the workload's own metadata, so opting in, a restart or a leader
// change rolls nothing, and a change made while certinel was down is caught
// up once.
type ReloadReconciler struct {
	Client   client.Client
	Sources  *SourceReader
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	Shared   *Reloads
	kind     workloadKind

	mu   sync.Mutex
	seen map[workloadKey]*workloadSeen
}

// workloadSeen is what this process saw of one workload: when the data and
// the pod template last changed, to coalesce and to recognise Helm-style
// upgrades. After a restart it is unknown, and a pending change rolls at once.
type workloadSeen struct {
	current           string
	changedAt         time.Time
	template          string
	templateChangedAt time.Time
	pendingSince      time.Time         // since when keystores are pending
	differingSince    time.Time         // since when the data differs from the baseline
	atBaseline        map[string]string // per-reference digests at the last baseline
}

// workloadKey names a workload of a kind.
type workloadKey struct {
	kind string
	types.NamespacedName
}

// keystoreGrace bounds how long keystores that do not come hold a rollout.
const keystoreGrace = 30 * time.Second

// NewReloadReconcilers returns one reconciler per workload kind.
func NewReloadReconcilers(c client.Client, sources *SourceReader, rec events.EventRecorder, clk clock.PassiveClock, shared *Reloads) []*ReloadReconciler {
	var out []*ReloadReconciler
	for _, k := range workloadKinds {
		out = append(out, &ReloadReconciler{Client: c, Sources: sources, Recorder: rec, Clock: clk, Shared: shared, kind: k})
	}
	return out
}

func (r *ReloadReconciler) name() string { return "reload-" + r.kind.name }

// Reconcile decides whether one workload rolls.
func (r *ReloadReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rd := r.Sources.begin(r.name()+":"+req.String(), req.Namespace, "a referenced object")
	defer rd.done()
	obj := r.kind.newObj()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil || obj.GetDeletionTimestamp() != nil {
		r.forget(workloadKey{r.kind.name, req.NamespacedName})
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	warnCompat(ctx, r.Recorder, r.name(), obj)
	spec, asks, err := reload.ParseSpec(obj.GetAnnotations())
	if err != nil {
		return r.invalid(ctx, obj, err)
	}
	if !asks {
		r.forget(workloadKey{r.kind.name, req.NamespacedName})
		return ctrl.Result{}, nil
	}
	refs := reload.References(spec, r.kind.template(obj).Spec)
	digests, ignored := map[string]string{}, map[string]bool{}
	pending := ""
	for _, ref := range refs {
		v, err := rd.read(ctx, annotations.SourceRef{Kind: ref.Kind, Namespace: obj.GetNamespace(), Name: ref.Name, Key: ref.Key},
			annotations.Everything, ref.String(), digestParser(ref))
		if err != nil {
			var missing *sourceMissing
			if errors.As(err, &missing) {
				continue // absent: the pods see it absent too
			}
			return r.invalid(ctx, obj, err)
		}
		digests[ref.String()], ignored[ref.String()] = v.digest, v.ignored
		if ref.Kind == annotations.SecretSource && !v.ignored && pending == "" && r.keystoresPending(ctx, rd, obj.GetNamespace(), ref.Name) {
			pending = ref.Name
		}
	}
	current := reload.Hash(refs, func(ref reload.Ref) (map[string][]byte, bool) {
		d, ok := digests[ref.String()]
		if !ok {
			return nil, false
		}
		key := ref.Key
		if key == "" {
			key = "*"
		}
		return map[string][]byte{key: []byte(d)}, true
	})
	now := r.Clock.Now()
	key := workloadKey{r.kind.name, req.NamespacedName}
	baseline := reload.Baseline(obj.GetAnnotations())
	seen := r.observe(key, current, baseline, templateHash(r.kind.template(obj)), pending != "", now)
	// Keystores that do not come within keystoreGrace (the keystore
	// controller refused them, or is down) hold nothing any more.
	keystoresPending := pending != "" && now.Sub(seen.pendingSince) < keystoreGrace
	action := reload.Decide(reload.Decision{
		Now: now, Current: current, Baseline: baseline,
		ChangedAt: seen.changedAt, TemplateChangedAt: seen.templateChangedAt,
		Window: r.Shared.Window, KeystoresPending: keystoresPending, DifferingSince: seen.differingSince,
	})
	// Changes of objects with reload-ignore alone never roll: the data the
	// pods were started with differs only there.
	if action.Verb == reload.Roll && seen.atBaseline != nil && onlyIgnored(seen.atBaseline, digests, ignored) {
		action = reload.Action{Verb: reload.RecordBaseline}
	}
	if action.Verb != reload.Roll {
		r.Shared.release(key)
	}
	switch action.Verb {
	case reload.Nothing:
		return ctrl.Result{}, nil
	case reload.RecordBaseline:
		if err := r.patch(ctx, obj, current, false); err != nil {
			return r.invalid(ctx, obj, err)
		}
		r.atBaseline(key, digests)
		r.event(obj, corev1.EventTypeNormal, ReasonBaselineRecorded, "Record", "recorded the hash of the referenced data; its next change rolls the pods")
		return ctrl.Result{}, nil
	case reload.Wait:
		if keystoresPending {
			if baseline != "" && seen.pendingSince.Equal(now) { // a rollout is held, said once
				rollouts.WithLabelValues(r.kind.name, "held-keystores").Inc()
				r.event(obj, corev1.EventTypeNormal, ReasonRolloutHeld, "Hold", "waiting for the keystores of Secret "+pending+" to match its certificate before rolling")
			}
			// The keystore write wakes this workload; the requeue bounds the wait.
			return ctrl.Result{RequeueAfter: keystoreGrace}, nil
		}
		return ctrl.Result{RequeueAfter: action.Until.Sub(now)}, nil
	}
	if wait, held := r.Shared.turn(key, now); wait > 0 {
		if !held {
			rollouts.WithLabelValues(r.kind.name, "held-rate-limit").Inc()
			r.event(obj, corev1.EventTypeNormal, ReasonRolloutHeld, "Hold", fmt.Sprintf("rollouts are rate-limited (--reload-rate); rolling in %s", wait.Round(time.Millisecond)))
		}
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if err := r.patch(ctx, obj, current, true); err != nil {
		rollouts.WithLabelValues(r.kind.name, "failed").Inc()
		return r.invalid(ctx, obj, err)
	}
	rollouts.WithLabelValues(r.kind.name, "rolled").Inc()
	r.atBaseline(key, digests)
	var names []string
	for _, ref := range refs {
		names = append(names, ref.String())
	}
	r.event(obj, corev1.EventTypeNormal, ReasonRolloutTriggered, "Roll", "the data of "+strings.Join(names, ", ")+" changed")
	logf.FromContext(ctx).Info("rolled workload", "references", names)
	return ctrl.Result{}, nil
}

// digestParser keeps, of a referenced object, only the reload digest of
// what ref counts (one key or all), and whether it opted out of reloads.
func digestParser(ref reload.Ref) parser {
	return parser{id: "reload:" + ref.Key, parse: func(obj client.Object) sourceValue {
		ignored, _ := reload.Ignored(obj.GetAnnotations())
		var data map[string][]byte
		switch o := obj.(type) {
		case *corev1.Secret:
			data = o.Data
		case *corev1.ConfigMap:
			data = reload.ConfigMapData(o)
		}
		return sourceValue{ignored: ignored, digest: reload.Hash([]reload.Ref{ref}, func(reload.Ref) (map[string][]byte, bool) { return data, true })}
	}}
}

// keystoresPending reports a Secret that asks for keystores whose stores
// do not yet match its certificate, password and sources: certinel is
// about to rewrite them, and pods started now would read the old ones.
func (r *ReloadReconciler) keystoresPending(ctx context.Context, rd *sourceReads, ns, name string) bool {
	var s corev1.Secret
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil || isTrimmed(&s) {
		return false
	}
	spec, err := annotations.ParseKeystoreSpec(ns, s.Annotations)
	if err != nil || !spec.Enabled() {
		return false
	}
	in, err := keystoreInputs(ctx, rd, &s, spec)
	if err != nil {
		return false // bad input: no keystore is coming
	}
	plan, err := keystore.NewPlan(in)
	if err != nil {
		return false
	}
	out := &s
	if spec.Target != "" {
		var t corev1.Secret
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: spec.Target}, &t); err != nil {
			return true // the target is about to be created
		}
		if !controlledBy(&t, &s) {
			return false // TargetConflict: no keystore is coming
		}
		out = &t
	}
	if len(keystoreConflicts(&s, out, plan.Keys)) > 0 {
		return false // DataKeyConflict: no keystore is coming
	}
	return !ownership.Keystores.UpToDate(out, plan.Fingerprint, plan.Keys)
}

// observe records what this reconcile saw and returns what is known. The
// pod template is compared through its hash without certinel's own
// annotation, so scaling or certinel's rollout is no template change.
func (r *ReloadReconciler) observe(key workloadKey, current, baseline, template string, pending bool, now time.Time) workloadSeen {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[workloadKey]*workloadSeen{}
	}
	s, ok := r.seen[key]
	if !ok {
		s = &workloadSeen{current: current, template: template}
		r.seen[key] = s
	}
	if s.current != current {
		s.current, s.changedAt = current, now
	}
	switch {
	case current == baseline:
		s.differingSince = time.Time{}
	case s.differingSince.IsZero() && !s.changedAt.IsZero():
		s.differingSince = s.changedAt
	}
	if s.template != template {
		s.template, s.templateChangedAt = template, now
	}
	switch {
	case !pending:
		s.pendingSince = time.Time{}
	case s.pendingSince.IsZero():
		s.pendingSince = now
	}
	return *s
}

// atBaseline records the per-reference digests the baseline stands for.
func (r *ReloadReconciler) atBaseline(key workloadKey, digests map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.seen[key]; ok {
		s.atBaseline = digests
	}
}

// onlyIgnored reports whether every reference whose digest differs from
// the baseline's is of an object with reload-ignore.
func onlyIgnored(base, digests map[string]string, ignored map[string]bool) bool {
	for ref, d := range digests {
		if base[ref] != d && !ignored[ref] {
			return false
		}
	}
	for ref := range base {
		if _, ok := digests[ref]; !ok && !ignored[ref] {
			return false
		}
	}
	return true
}

// templateHash summarises a pod template without certinel's config-hash.
func templateHash(t *corev1.PodTemplateSpec) string {
	c := t.DeepCopy()
	delete(c.Annotations, annotations.ConfigHash)
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (r *ReloadReconciler) forget(key workloadKey) {
	r.mu.Lock()
	delete(r.seen, key)
	r.mu.Unlock()
	r.Shared.release(key)
}

// patch records hash as the workload's baseline, and with roll sets it on
// the pod template too, which rolls the pods: one merge patch under an
// optimistic lock, touching nothing else.
func (r *ReloadReconciler) patch(ctx context.Context, obj client.Object, hash string, roll bool) error {
	base := obj.DeepCopyObject().(client.Object)
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[annotations.ConfigHash] = hash
	obj.SetAnnotations(ann)
	if roll {
		t := r.kind.template(obj)
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[annotations.ConfigHash] = hash
	}
	err := r.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	return recordWrite(r.name(), "patch", r.kind.name+" "+obj.GetName(), err)
}

func (r *ReloadReconciler) invalid(ctx context.Context, obj client.Object, err error) (ctrl.Result, error) {
	return reportInvalid(ctx, r.Recorder, r.name(), obj, err)
}

func (r *ReloadReconciler) event(obj client.Object, eventType, reason, action, note string) {
	emit(r.Recorder, obj, eventType, reason, action, note)
}

// SetupWithManager registers the reference index and the watches.
func (r *ReloadReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, r.kind.newObj(), reloadIndex, r.indexReferences); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(r.name()).
		For(r.kind.newObj()).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.readers(annotations.SecretSource))).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.readers(annotations.ConfigMapSource))).
		Complete(r)
}

func (r *ReloadReconciler) indexReferences(obj client.Object) []string {
	spec, asks, err := reload.ParseSpec(obj.GetAnnotations())
	if err != nil || !asks {
		return nil
	}
	var out []string
	for _, ref := range reload.References(spec, r.kind.template(obj).Spec) {
		out = append(out, string(ref.Kind)+":"+ref.Name)
	}
	return out
}

// readers maps a Secret or ConfigMap to the workloads of this kind that
// read it (an object that opted out counts for nothing in their hash).
func (r *ReloadReconciler) readers(kind annotations.SourceKind) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		names := []string{obj.GetName()}
		if s, ok := obj.(*corev1.Secret); ok && isTarget(s) {
			// The keystores of a Secret that writes them elsewhere: its
			// readers wait for them.
			names = append(names, ownerName(s))
		}
		var reqs []reconcile.Request
		for _, name := range names {
			list := r.kind.newList()
			if err := r.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{reloadIndex: string(kind) + ":" + name}); err != nil {
				logf.FromContext(ctx).Error(err, "cannot list the workloads that read an object", "object", client.ObjectKeyFromObject(obj))
				return nil
			}
			_ = forEachItem(list, func(o client.Object) { reqs = append(reqs, request(o.GetNamespace(), o.GetName())) })
		}
		return reqs
	}
}

// forEachItem calls fn with every item of list.
func forEachItem(list client.ObjectList, fn func(client.Object)) error {
	return meta.EachListItem(list, func(o runtime.Object) error {
		if c, ok := o.(client.Object); ok {
			fn(c)
		}
		return nil
	})
}
