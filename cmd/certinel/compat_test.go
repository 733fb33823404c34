package main

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/status"
)

// certinel status --compat lists the objects certinel manages through
// cert-utils and Reloader keys, and without --compat it does not.
func TestStatusCompat(t *testing.T) {
	secret := func() *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "app-tls", "namespace": "team",
				"annotations": map[string]any{annotations.CertUtilsKeystores: "true"}},
		}}
		return u
	}
	deployment := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "team"},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"annotations": map[string]any{annotations.ReloaderSecrets: "app-tls"}}}},
	}}
	compat := annotations.Compat{CertUtils: true, Reloader: true}

	off := secret()
	compatTranslate(annotations.Compat{}, off)
	if rows := status.Rows([]status.Object{status.FromUnstructured(off)}, nil); len(rows) != 0 {
		t.Fatalf("without --compat: rows %+v", rows)
	}
	on := secret()
	compatTranslate(compat, on)
	compatTranslate(compat, deployment)
	rows := status.Rows([]status.Object{status.FromUnstructured(on), status.FromUnstructured(deployment)}, nil)
	if len(rows) != 2 {
		t.Fatalf("with --compat: rows %+v, want the Secret and the Deployment", rows)
	}
}
