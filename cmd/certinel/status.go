package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/pflag"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/pager"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/status"
)

// statusKind is a kind `certinel status` lists.
type statusKind struct {
	kind string
	gvr  schema.GroupVersionResource
}

var namespacedKinds = []statusKind{
	{status.KindSecret, schema.GroupVersionResource{Version: "v1", Resource: "secrets"}},
	{status.KindConfigMap, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
	{status.KindIngress, schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}},
	{status.KindRoute, schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}},
	{status.KindDeployment, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}},
	{status.KindStatefulSet, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}},
	{status.KindDaemonSet, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}},
}

// clusterKinds are read only with --all-namespaces.
var clusterKinds = []statusKind{
	{status.KindValidatingWebhookConfiguration, schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}},
	{status.KindMutatingWebhookConfiguration, schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}},
	{status.KindCustomResourceDefinition, schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}},
	{status.KindAPIService, schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}},
}

// runStatus is `certinel status`: one table of every object certinel
// manages in scope, read with the user's kubeconfig.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("certinel status", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	fs.StringVar(&rules.ExplicitPath, "kubeconfig", "", "path to the kubeconfig file")
	overrides := &clientcmd.ConfigOverrides{}
	clientcmd.BindOverrideFlags(overrides, fs, clientcmd.RecommendedConfigOverrideFlags(""))
	all := fs.BoolP("all-namespaces", "A", false, "every namespace, and the cluster-scoped injection targets (webhook configurations, CRDs, APIServices)")
	output := fs.StringP("output", "o", "", "output format: wide (with the Warning or what is pending) or json")
	compatFlag := fs.StringSlice("compat", nil, "read cert-utils-operator and/or Reloader annotations as certinel does with the same --compat (cert-utils, reloader)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "certinel status:", err)
		return 2
	}
	if *all && fs.Changed("namespace") {
		fmt.Fprintln(stderr, "certinel status: set only one of --namespace and --all-namespaces")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "certinel status: unexpected arguments %v\n", fs.Args())
		return 2
	}
	compat, err := annotations.ParseCompat(*compatFlag)
	if err != nil {
		fmt.Fprintln(stderr, "certinel status:", err)
		return 2
	}
	if *output != "" && *output != "wide" && *output != "json" {
		fmt.Fprintf(stderr, "certinel status: --output: want wide or json, not %q\n", *output)
		return 2
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		fmt.Fprintln(stderr, "certinel status:", err)
		return 1
	}
	cfg.UserAgent = "certinel-status/" + version
	namespace := ""
	if !*all {
		if namespace, _, err = cc.Namespace(); err != nil {
			fmt.Fprintln(stderr, "certinel status:", err)
			return 1
		}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "certinel status:", err)
		return 1
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "certinel status:", err)
		return 1
	}
	ctx := context.Background()
	kinds := namespacedKinds
	if *all {
		kinds = append(append([]statusKind{}, namespacedKinds...), clusterKinds...)
	}
	var objs []status.Object
	var unread []string
	for _, k := range kinds {
		ri := dyn.Resource(k.gvr)
		list := func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			if k.namespaced() {
				return ri.Namespace(namespace).List(ctx, opts)
			}
			return ri.List(ctx, opts)
		}
		err := pager.New(list).EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
			u := obj.(*unstructured.Unstructured)
			u.SetKind(k.kind)
			compatTranslate(compat, u)
			if o := status.FromUnstructured(u); o.Kind == status.KindSecret || o.Annotations != nil {
				objs = append(objs, o)
			}
			return nil
		})
		switch {
		case err == nil:
		case apierrors.IsNotFound(err) && k.kind == status.KindRoute:
			// The API server serves no Routes (not OpenShift).
		case apierrors.IsForbidden(err) || apierrors.IsNotFound(err):
			unread = append(unread, k.gvr.GroupResource().String())
		default:
			fmt.Fprintf(stderr, "certinel status: list %s: %v\n", k.gvr.GroupResource(), err)
			return 1
		}
	}
	// Events: one list per scope, not one per object.
	var events []status.Event
	err = pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return cs.EventsV1().Events(namespace).List(ctx, opts)
	}).EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		events = append(events, status.FromEvent(obj.(*eventsv1.Event)))
		return nil
	})
	switch {
	case err == nil:
	case apierrors.IsForbidden(err) || apierrors.IsNotFound(err):
		unread = append(unread, "events.events.k8s.io (bad input is then only what the annotations show)")
	default:
		fmt.Fprintln(stderr, "certinel status: list events:", err)
		return 1
	}
	if len(unread) > 0 {
		fmt.Fprintf(stderr, "certinel status: could not read %s\n", strings.Join(unread, ", "))
	}
	rows := status.Rows(objs, events)
	if err := printStatus(stdout, rows, *output, *all, time.Now()); err != nil {
		fmt.Fprintln(stderr, "certinel status:", err)
		return 1
	}
	return 0
}

func (k statusKind) namespaced() bool {
	for _, c := range clusterKinds {
		if c.kind == k.kind {
			return false
		}
	}
	return true
}

// printStatus prints the rows as a table (with the namespace when there
// are several, with the message when wide) or as JSON.
func printStatus(w io.Writer, rows []status.Row, output string, allNamespaces bool, now time.Time) error {
	if output == "json" {
		if rows == nil {
			rows = []status.Row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No objects managed by certinel found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := []string{"OBJECT", "FEATURE", "STATE", "EXPIRY", "LAST WRITE"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if output == "wide" {
		header = append(header, "MESSAGE")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cols := []string{strings.ToLower(r.Kind) + "/" + r.Name, strings.Join(r.Features, ","), status.FormatState(r),
			status.FormatExpiry(r.NotAfter, now), status.FormatLastWrite(r.LastWrite, now)}
		if allNamespaces {
			ns := r.Namespace
			if ns == "" {
				ns = "-"
			}
			cols = append([]string{ns}, cols...)
		}
		if output == "wide" {
			cols = append(cols, oneLine(r.Message))
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	return tw.Flush()
}

// oneLine keeps a message on its row, without control characters that a
// terminal would interpret.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}

// compatTranslate gives u the annotations certinel reads under compat: the
// certinel keys its cert-utils or Reloader keys stand for.
func compatTranslate(c annotations.Compat, u *unstructured.Unstructured) {
	if !c.Enabled() {
		return
	}
	template, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "annotations")
	if ann := c.TranslateObject(u.GetKind(), u.GetAnnotations(), template).Annotations; len(ann) > 0 {
		u.SetAnnotations(ann)
	}
}
