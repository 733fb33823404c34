package controllers

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// TestReaderIndexFindsTheSameBothWays holds the informer's own index to
// what a List through the field index of the same name finds, for values
// that name a namespace, as every same-namespace reference index's do, and
// values that do not.
func TestReaderIndexFindsTheSameBothWays(t *testing.T) {
	const field = "test/reads"
	reads := func(o client.Object) []string {
		if v := o.GetAnnotations()["reads"]; v != "" {
			return strings.Split(v, ",")
		}
		return nil
	}
	secret := func(ns, name, reads string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if reads != "" {
			s.Annotations = map[string]string{"reads": reads}
		}
		return s
	}
	objs := []client.Object{
		secret("a", "one", "ca,a/ca"), secret("a", "two", "ca,other,a/ca,a/other"), secret("b", "three", "ca,b/ca"),
		secret("b", "four", "other,b/other"), secret("a", "none", ""),
	}

	indexer := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{
		directIndexPrefix + field: func(o any) ([]string, error) { return reads(o.(client.Object)), nil },
	})
	for _, o := range objs {
		if err := indexer.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	direct := &readerIndex{indexer: indexer, name: directIndexPrefix + field}
	c := fake.NewClientBuilder().WithObjects(objs...).WithIndex(&corev1.Secret{}, field, reads).Build()

	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"ca", []string{"a/one", "a/two", "b/three"}},
		{"a/ca", []string{"a/one", "a/two"}},
		{"b/other", []string{"b/four"}},
		{"nobody", nil},
	} {
		for name, x := range map[string]*readerIndex{"informer index": direct, "List": {}, "no index set up": nil} {
			found, err := x.find(context.Background(), c, newSecretList, field, tc.value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []string
			for _, n := range found {
				got = append(got, n.String())
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: find(%q) = %v, want %v", name, tc.value, got, tc.want)
			}
		}
	}
}
