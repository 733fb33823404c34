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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/reload"
)

// Event reasons of reload.
const (
	ReasonRolloutTriggered = "RolloutTriggered"
	ReasonRolloutHeld      = "RolloutHeld"
	ReasonBaselineRecorded = "ReloadBaselineRecorded"
)

// reloadIndex maps a workload to the objects its pods read, in its own
// namespace: "namespace/secret:name", "namespace/configmap:name" (with the
// namespace, so that a change of a Secret named like many others, "tls",
// looks up only its own namespace's readers).
const reloadIndex = "certinel.io/reload-references"

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
	// readerIndex finds the objects that read a source (set with the manager).
	readerIndex *readerIndex
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
