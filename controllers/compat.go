package controllers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/ownership"
)

// onlyDataKeys reports whether every field of an apply conflict err is a
// data key (data or binaryData) listed in keys.
func onlyDataKeys(err error, keys []string) bool {
	var status apierrors.APIStatus
	if len(keys) == 0 || !errors.As(err, &status) || status.Status().Details == nil || len(status.Status().Details.Causes) == 0 {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		key, ok := strings.CutPrefix(c.Field, ".data.")
		if !ok {
			key, ok = strings.CutPrefix(c.Field, ".binaryData.")
		}
		if !ok || !slices.Contains(keys, key) {
			return false
		}
	}
	return true
}

// keystoreConflicts is ownership.Keystores.Conflicts without the data keys
// that cert-utils-operator wrote on src for its own annotations (under
// --compat=cert-utils): certinel takes those over on its first write, so a
// Secret moves from cert-utils to certinel without a manual step. A key
// certinel once wrote and somebody replaced since stays a conflict.
func keystoreConflicts(src, out *corev1.Secret, keys []string) []string {
	c := ownership.Keystores.Conflicts(out, keys)
	adopt := annotations.CompatAdoptable(src.Annotations)
	if len(c) == 0 || len(adopt) == 0 || out.Name != src.Name || hasOutputs(out) {
		return c // once certinel has written, a key it released stays released
	}
	owned := ownership.Keystores.Owned(out)
	return slices.DeleteFunc(c, func(k string) bool { return slices.Contains(adopt, k) && !slices.Contains(owned, k) })
}

// compatWarned holds, per object UID, the compat Warnings last emitted for
// it (the value of annotations.CompatWarnings), shared by every controller:
// an object several controllers reconcile is warned once per change of its
// compat annotations, not once per controller or per event.
// It holds at most compatWarnedMax entries (objects are not forgotten when
// deleted): past that it starts again, and an object may be warned once more.
var compatWarned struct {
	sync.Mutex
	m map[types.UID]string
}

const compatWarnedMax = 10000

// warnCompat emits the Warnings of the compat translation of obj (a cert-utils
// or Reloader key overridden by a certinel key, or malformed) when they
// differ from the ones last emitted for it.
func warnCompat(ctx context.Context, rec events.EventRecorder, controller string, obj client.Object) {
	v, uid := obj.GetAnnotations()[annotations.CompatWarnings], obj.GetUID()
	compatWarned.Lock()
	prev, seen := compatWarned.m[uid]
	switch {
	case v == "":
		delete(compatWarned.m, uid)
	case compatWarned.m == nil || len(compatWarned.m) >= compatWarnedMax:
		compatWarned.m = map[types.UID]string{uid: v}
	default:
		compatWarned.m[uid] = v
	}
	compatWarned.Unlock()
	if v == "" || (seen && prev == v) {
		return
	}
	for _, w := range annotations.DecodeCompatWarnings(v) {
		invalidInputs.WithLabelValues(controller, w.Reason).Inc()
		logf.FromContext(ctx).Info("compat annotation not honoured", "reason", w.Reason, "message", w.Message)
		emit(rec, obj, corev1.EventTypeWarning, w.Reason, "Validate", w.Message)
	}
}
