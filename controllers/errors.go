package controllers

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/certinel/certinel/pkg/badinput"
)

// recordWrite counts one write of controller: certinel_writes_total when it
// succeeded, certinel_write_failures_total when not; an error that
// retrying cannot fix becomes bad input (refusedWrite). what names the
// object in messages ("Secret app-tls").
func recordWrite(controller, verb, what string, err error) error {
	if err != nil {
		writeFailures.WithLabelValues(controller, verb).Inc()
		return refusedWrite(err, what)
	}
	writes.WithLabelValues(controller, verb).Inc()
	noteWrite()
	return nil
}

// refusedWrite turns an API error that retrying cannot fix into bad input,
// so that it becomes a Warning Event and a count instead of an endless
// retry: the object is invalid (422), too large (413), or malformed (400).
// Other errors (conflicts, timeouts, an unavailable server) are returned as
// they are, for a retry.
func refusedWrite(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsRequestEntityTooLargeError(err):
		return badinput.Errorf(badinput.OutputTooLarge, "the API server refused to write %s as too large: %s", what, apiMessage(err))
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return badinput.Errorf(badinput.WriteRejected, "the API server refused to write %s: %s", what, apiMessage(err))
	}
	return err
}

// apiMessage is the API server's message of err, cut to a length an Event takes.
func apiMessage(err error) string {
	msg := err.Error()
	if s, ok := err.(apierrors.APIStatus); ok && s.Status().Message != "" {
		msg = s.Status().Message
	}
	if len(msg) > 512 {
		msg = msg[:512] + "..."
	}
	return msg
}
