package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/certinel/certinel/pkg/badinput"
)

// reportInvalid tells the user about bad input on obj: a Warning Event with
// the reason, a log line and a count in certinel_invalid_input_total; the
// reconcile then stops until the input changes. Any other error (nil
// included) is returned for a retry.
func reportInvalid(ctx context.Context, rec events.EventRecorder, controller string, obj runtime.Object, err error) (ctrl.Result, error) {
	e, ok := badinput.As(err)
	if !ok {
		return ctrl.Result{}, err
	}
	invalidInputs.WithLabelValues(controller, e.Reason).Inc()
	logf.FromContext(ctx).Info("bad input", "reason", e.Reason, "message", e.Message)
	emit(rec, obj, corev1.EventTypeWarning, e.Reason, "Validate", e.Message)
	return ctrl.Result{}, nil
}

// emit records an Event on obj, cut to the note length the API server
// takes, and counts a Warning in certinel_warnings_total.
func emit(rec events.EventRecorder, obj runtime.Object, eventType, reason, action, note string) {
	if eventType == corev1.EventTypeWarning {
		warnings.WithLabelValues(reason).Inc()
	}
	if rec != nil {
		rec.Eventf(obj, nil, eventType, reason, action, "%s", badinput.Truncate(note))
	}
}
