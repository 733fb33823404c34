package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/certinel/certinel/controllers"
	"github.com/certinel/certinel/e2e/framework"
)

// chartDir is the Helm chart, relative to the repository root.
const chartDir = "charts/certinel"

// helm runs bin/helm (built by `make tools` from e2e/tools/helm) in the
// repository root and returns its standard output.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	bin := filepath.Join(cluster.Bin, "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found: run `make tools`", bin)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = cluster.Root
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// helmTemplate renders the chart as release "certinel" in namespace ns.
func helmTemplate(t *testing.T, ns string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	return decodeObjects(t, helm(t, append([]string{"template", "certinel", chartDir, "--namespace", ns}, args...)...))
}

// kustomize builds a kustomization of config/ with bin/kubectl.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	out, err := cluster.Kubectl(t.Context(), "", "kustomize", filepath.Join(cluster.Root, dir))
	if err != nil {
		t.Fatal(err)
	}
	return decodeObjects(t, out)
}

func decodeObjects(t *testing.T, docs string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(docs), 4096)
	for {
		var m map[string]any
		if err := d.Decode(&m); err == io.EOF {
			return objs
		} else if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

func find(objs []*unstructured.Unstructured, kind, ns, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name {
			return o
		}
	}
	return nil
}

func kinds(objs []*unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
	}
	slices.Sort(ks)
	return ks
}

// managerContainer returns the manager container of the Deployment.
func managerContainer(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			if c := c.(map[string]any); c["name"] == "manager" {
				return c
			}
		}
	}
	t.Fatal("no Deployment with a manager container")
	return nil
}

// managerArgs returns the args of the manager container of the Deployment.
func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	args, _, _ := unstructured.NestedStringSlice(managerContainer(t, objs), "args")
	return args
}

// helm lint is clean (no warning, no error) with the defaults and with
// every optional part turned on.
func TestChartLint(t *testing.T) {
	for name, set := range map[string]string{
		"defaults":   "",
		"everything": "metrics.serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboard.enabled=true,compat={cert-utils,reloader},expiryWarning=720h",
		"namespaces": "watchNamespaces={team-a,team-b},routes.enabled=false,replicas=1",
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir}
			if set != "" {
				args = append(args, "--set", set)
			}
			out := helm(t, args...)
			mustContain(t, "helm lint", out, "1 chart(s) linted, 0 chart(s) failed")
			if strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
				t.Errorf("helm lint is not clean:\n%s", out)
			}
		})
	}
}

// The chart's defaults: two replicas with leader election, a
// PodDisruptionBudget, limits, and the restricted security context.
func TestChartDefaults(t *testing.T) {
	objs := helmTemplate(t, "certinel-system")
	d := find(objs, "Deployment", "certinel-system", "certinel")
	if d == nil {
		t.Fatalf("no Deployment: %v", kinds(objs))
	}
	if r, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); fmt.Sprint(r) != "2" {
		t.Errorf("replicas %v, want 2", r)
	}
	args := managerArgs(t, objs)
	if !slices.Contains(args, "--leader-elect=true") {
		t.Errorf("no --leader-elect=true in %v", args)
	}
	if find(objs, "PodDisruptionBudget", "certinel-system", "certinel") == nil {
		t.Error("no PodDisruptionBudget")
	}
	if find(objs, "Role", "certinel-system", "certinel-leader-election") == nil {
		t.Error("no leader-election Role")
	}
	manager := managerContainer(t, objs)
	for _, l := range []string{"cpu", "memory"} {
		if v, _, _ := unstructured.NestedString(manager, "resources", "limits", l); v == "" {
			t.Errorf("no %s limit", l)
		}
	}
	want := map[string]any{
		"runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
		"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
	if sc, _, _ := unstructured.NestedMap(manager, "securityContext"); !reflect.DeepEqual(sc, want) {
		t.Errorf("container securityContext %v, want %v", sc, want)
	}
	if psc, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec", "securityContext"); psc["runAsNonRoot"] != true {
		t.Errorf("pod securityContext %v is not runAsNonRoot", psc)
	}
	if find(objs, "Service", "certinel-system", "certinel-metrics") == nil {
		t.Error("no metrics Service")
	}
	for _, k := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		for _, o := range objs {
			if o.GetKind() == k {
				t.Errorf("%s %s rendered by default", k, o.GetName())
			}
		}
	}
	t.Run("the API server accepts every object", func(t *testing.T) {
		ns := namespace(t)
		objs := helmTemplate(t, ns, "--set", "dashboard.enabled=true,watchNamespaces={"+ns+"}")
		var items []any
		for _, o := range objs {
			items = append(items, o.Object)
		}
		list, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
		out := kubectl(t, string(list), "apply", "--dry-run=server", "-f", "-")
		for _, k := range []string{"deployment.apps", "poddisruptionbudget.policy", "configmap", "role.rbac.authorization.k8s.io"} {
			mustContain(t, "kubectl apply", out, k)
		}
	})
	t.Run("extraEnv reaches the manager beside POD_NAMESPACE", func(t *testing.T) {
		objs := helmTemplate(t, "certinel-system", "--set", "extraEnv[0].name=GOGC", "--set-string", "extraEnv[0].value=100")
		env, _, _ := unstructured.NestedSlice(managerContainer(t, objs), "env")
		var names []string
		for _, e := range env {
			e := e.(map[string]any)
			names = append(names, fmt.Sprint(e["name"], "=", e["value"]))
		}
		if len(names) != 2 || !strings.HasPrefix(names[0], "POD_NAMESPACE=") || names[1] != "GOGC=100" {
			t.Errorf("manager env %v, want POD_NAMESPACE then GOGC=100", names)
		}
	})
	t.Run("one replica has no PodDisruptionBudget", func(t *testing.T) {
		if find(helmTemplate(t, "certinel-system", "--set", "replicas=1"), "PodDisruptionBudget", "certinel-system", "certinel") != nil {
			t.Error("a PodDisruptionBudget with one replica blocks every node drain")
		}
	})
}

// rulesOf returns the rules of a Role or ClusterRole as JSON, one per line.
func rulesOf(o *unstructured.Unstructured) []string {
	rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
	var out []string
	for _, r := range rules {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}

func grantsGroup(o *unstructured.Unstructured, group string) bool {
	rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
	for _, r := range rules {
		groups, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "apiGroups")
		if slices.Contains(groups, group) {
			return true
		}
	}
	return false
}

// Route rules only with routes.enabled (and then --routes=true); with
// watchNamespaces a Role per namespace and no ClusterRole at all.
func TestChartRBACVariants(t *testing.T) {
	t.Run("routes disabled", func(t *testing.T) {
		objs := helmTemplate(t, "certinel-system", "--set", "routes.enabled=false")
		cr := find(objs, "ClusterRole", "", "certinel")
		if cr == nil {
			t.Fatalf("no ClusterRole: %v", kinds(objs))
		}
		if grantsGroup(cr, "route.openshift.io") {
			t.Error("Route rules with routes.enabled=false")
		}
		if !slices.Contains(managerArgs(t, objs), "--routes=false") {
			t.Errorf("no --routes=false in %v", managerArgs(t, objs))
		}
		if !grantsGroup(find(helmTemplate(t, "certinel-system"), "ClusterRole", "", "certinel"), "route.openshift.io") {
			t.Error("no Route rules by default")
		}
	})
	t.Run("a shard's own Lease", func(t *testing.T) {
		objs := helmTemplate(t, "certinel-system", "--set", "leaderElection.id=certinel-shard-a")
		role := find(objs, "Role", "certinel-system", "certinel-leader-election")
		if role == nil {
			t.Fatalf("no leader-election Role: %v", kinds(objs))
		}
		var names []string
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		for _, r := range rules {
			n, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resourceNames")
			names = append(names, n...)
		}
		if !slices.Equal(names, []string{"certinel-shard-a"}) {
			t.Errorf("the leader-election Role names %q, want the Lease certinel-shard-a", names)
		}
		if !slices.Contains(managerArgs(t, objs), "--leader-election-id=certinel-shard-a") {
			t.Errorf("no --leader-election-id in %v", managerArgs(t, objs))
		}
	})
	t.Run("namespaces", func(t *testing.T) {
		objs := helmTemplate(t, "certinel-system", "--set", "watchNamespaces={team-a,team-b}")
		for _, o := range objs {
			if o.GetKind() == "ClusterRole" || o.GetKind() == "ClusterRoleBinding" {
				t.Errorf("%s %s with watchNamespaces", o.GetKind(), o.GetName())
			}
		}
		for _, ns := range []string{"team-a", "team-b"} {
			role := find(objs, "Role", ns, "certinel")
			if role == nil || find(objs, "RoleBinding", ns, "certinel") == nil {
				t.Fatalf("no Role and RoleBinding in %s: %v", ns, kinds(objs))
			}
			for _, g := range []string{"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io"} {
				if grantsGroup(role, g) {
					t.Errorf("the Role in %s grants %s: cluster-scoped kinds are not used with --namespaces", ns, g)
				}
			}
			if !grantsGroup(role, "route.openshift.io") {
				t.Errorf("the Role in %s has no Route rules", ns)
			}
		}
		if !slices.Contains(managerArgs(t, objs), "--namespaces=team-a,team-b") {
			t.Errorf("no --namespaces in %v", managerArgs(t, objs))
		}
	})
}

// managerFlags returns the flags `certinel manager --help` lists.
func managerFlags(t *testing.T) []string {
	t.Helper()
	out, _ := exec.Command(certinelBin, "manager", "--help").CombinedOutput()
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 10 {
		t.Fatalf("only %d flags in `certinel manager --help`:\n%s", len(flags), out)
	}
	return flags
}

// Every manager flag has a chart value: rendered with every value set, the
// manager gets every flag, and nothing else.
func TestChartHasEveryManagerFlag(t *testing.T) {
	known := managerFlags(t)
	args := managerArgs(t, helmTemplate(t, "certinel-system", "--set", strings.Join([]string{
		"kubeconfig=/etc/certinel/kubeconfig", "watchNamespaces={a,b}", "pprof.bindAddress=127.0.0.1:6060",
		"compat={cert-utils,reloader}", "expiryWarning=720h", "leaderElection.namespace=leases", "leaderElection.id=certinel-shard-a",
		"leaderElection.leaseDuration=15s", "leaderElection.renewDeadline=10s", "leaderElection.retryPeriod=2s",
	}, ",")))
	given := map[string]bool{}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		given[name] = true
		if !slices.Contains(known, name) {
			t.Errorf("the chart passes %s, which certinel does not know", a)
		}
	}
	for _, f := range known {
		if !given[f] {
			t.Errorf("no chart value sets --%s (args: %v)", f, args)
		}
	}
}

// stripLabels removes what differs by design between the chart and
// kustomize: labels and label selectors (Helm's carry the release), the
// ServiceMonitor's namespaceSelector (kustomize sets the namespace on
// objects only), the image tag, and Helm's trailing newline of the
// dashboard.
func stripLabels(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if k == "labels" || k == "matchLabels" || k == "namespaceSelector" {
				continue
			}
			if k == "selector" {
				if m, ok := x.(map[string]any); ok && m["matchLabels"] == nil {
					continue // a Service's selector is a plain label map
				}
			}
			out[k] = stripLabels(x)
			if img, ok := x.(string); ok && k == "image" {
				out[k], _, _ = strings.Cut(img, ":") // config/ deploys latest, the chart its appVersion
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = stripLabels(x)
		}
		return out
	case string:
		return strings.TrimRight(v, "\n")
	}
	return v
}

// config/ (kustomize) installs what the chart does with its defaults:
// every object of config/default, config/prometheus and config/grafana is
// rendered by the chart with the same content, apart from labels.
func TestChartMatchesConfig(t *testing.T) {
	const ns = "certinel-system"
	chart := helmTemplate(t, ns, "--set", "metrics.serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboard.enabled=true")
	var config []*unstructured.Unstructured
	for _, dir := range []string{"config/default", "config/prometheus", "config/grafana"} {
		config = append(config, kustomize(t, dir)...)
	}
	matched := 0
	for _, c := range config {
		if c.GetKind() == "Namespace" {
			continue
		}
		cns := c.GetNamespace()
		if c.GetKind() == "ConfigMap" && cns == "" {
			cns = ns // config/grafana goes where it is applied
		}
		h := find(chart, c.GetKind(), cns, c.GetName())
		if h == nil {
			t.Errorf("%s %s/%s of config/ is not in the chart: %v", c.GetKind(), cns, c.GetName(), kinds(chart))
			continue
		}
		matched++
		for _, field := range []string{"spec", "rules", "roleRef", "subjects", "data"} {
			cv, hv := stripLabels(c.Object[field]), stripLabels(h.Object[field])
			if !reflect.DeepEqual(cv, hv) {
				cb, _ := json.MarshalIndent(cv, "", " ")
				hb, _ := json.MarshalIndent(hv, "", " ")
				t.Errorf("%s %s: %s differs\nconfig: %s\nchart:  %s", c.GetKind(), c.GetName(), field, cb, hb)
			}
		}
	}
	if matched < 10 {
		t.Errorf("only %d objects compared", matched)
	}
	if a, b := readRepoFile(t, "config/grafana/certinel.json"), readRepoFile(t, chartDir+"/dashboards/certinel.json"); a != b {
		t.Error("config/grafana/certinel.json differs from the chart's dashboard")
	}
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promBraces   = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promVars     = regexp.MustCompile(`\$\w+|\b\d[\w.]*`) // Grafana variables, numbers and durations (5m)
	promKeywords = []string{"and", "or", "unless", "bool", "offset", "inf", "nan"}
)

// promMetricNames returns the metric names a PromQL expression reads.
func promMetricNames(expr string) []string {
	expr = promStrings.ReplaceAllString(expr, "")
	expr = promBraces.ReplaceAllString(expr, "")
	expr = promGrouping.ReplaceAllString(expr, "")
	expr = promVars.ReplaceAllString(expr, "")
	var names []string
	for _, m := range promIdent.FindAllStringSubmatch(expr, -1) {
		if m[1] != "" || slices.Contains(promKeywords, strings.ToLower(m[0])) {
			continue // a function, or a keyword
		}
		names = append(names, m[0])
	}
	return names
}

func TestPromMetricNames(t *testing.T) {
	got := promMetricNames(`histogram_quantile(0.99, sum by (controller, le) (rate(a_bucket{job=~"$job",x="y(z)"}[$__rate_interval]))) / on (c) b > 3 and bool c_total offset 5m`)
	if want := []string{"a_bucket", "b", "c_total"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// exportedMetrics returns every metric family certinel exports: its own
// (controllers.MetricNames) and those the running certinel serves on
// /metrics (controller-runtime's, client-go's, Go's), histograms with their
// _bucket, _sum and _count series.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	// a reconcile, so that the reconcile histograms have samples
	ns := namespace(t)
	applyTLSSecret(t, ns, "metrics-tls", newTLS(t, framework.SEC1), map[string]string{annKeystores: "jks"})
	waitForKeys(t, ns, "metrics-tls", "keystore.jks")
	resp, err := http.Get(certinel.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\w+)`).FindAllStringSubmatch(string(body), -1) {
		names[m[1]] = true
		if m[2] == "histogram" || m[2] == "summary" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	for _, n := range controllers.MetricNames() {
		names[n] = true
	}
	for _, n := range []string{"certinel_writes_total", "controller_runtime_reconcile_errors_total", "controller_runtime_reconcile_time_seconds_bucket", "workqueue_depth"} {
		if !names[n] {
			t.Fatalf("%s is not among the exported metrics %v", n, names)
		}
	}
	return names
}

// checkExprs fails for every metric an expression names that certinel
// does not export, and returns the names used.
func checkExprs(t *testing.T, exported map[string]bool, where string, exprs []string) map[string]bool {
	t.Helper()
	used := map[string]bool{}
	for _, e := range exprs {
		names := promMetricNames(e)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", where, e)
		}
		for _, n := range names {
			used[n] = true
			if !exported[n] {
				t.Errorf("%s: %q reads %s, which certinel does not export", where, e, n)
			}
		}
	}
	return used
}

// The PrometheusRule (chart and config/prometheus) and the Grafana
// dashboard read only metrics certinel exports; the alerts have their
// `for:` and thresholds from values; the dashboard parses and has the
// panels it promises.
func TestMonitoringUsesExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)

	t.Run("PrometheusRule", func(t *testing.T) {
		objs := helmTemplate(t, "certinel-system", "--set", "prometheusRule.enabled=true,prometheusRule.alerts.certificateExpiringSoon.days=7,prometheusRule.alerts.certificateExpiringSoon.for=2h,prometheusRule.alerts.reconcileErrors.threshold=9")
		rule := find(objs, "PrometheusRule", "certinel-system", "certinel")
		if rule == nil {
			t.Fatalf("no PrometheusRule: %v", kinds(objs))
		}
		groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
		var exprs []string
		alerts := map[string]map[string]any{}
		for _, g := range groups {
			rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
			for _, r := range rules {
				r := r.(map[string]any)
				exprs = append(exprs, r["expr"].(string))
				alerts[r["alert"].(string)] = r
				if r["for"] == nil {
					t.Errorf("alert %s has no for:", r["alert"])
				}
			}
		}
		used := checkExprs(t, exported, "PrometheusRule", exprs)
		for _, n := range []string{"certinel_certificate_not_after_timestamp_seconds", "certinel_write_failures_total", "controller_runtime_reconcile_errors_total"} {
			if !used[n] {
				t.Errorf("no alert reads %s", n)
			}
		}
		soon := alerts["CertinelCertificateExpiringSoon"]
		if soon == nil || soon["for"] != "2h" || !strings.Contains(soon["expr"].(string), fmt.Sprint(7*86400)) {
			t.Errorf("CertinelCertificateExpiringSoon does not follow its values: %v", soon)
		}
		if r := alerts["CertinelReconcileErrors"]; r == nil || !strings.HasSuffix(strings.TrimSpace(r["expr"].(string)), "> 9") {
			t.Errorf("CertinelReconcileErrors does not follow its threshold: %v", r)
		}
		t.Run("disabled alerts are left out", func(t *testing.T) {
			objs := helmTemplate(t, "certinel-system", "--set", "prometheusRule.enabled=true,prometheusRule.alerts.invalidInput.enabled=false")
			out, _ := json.Marshal(find(objs, "PrometheusRule", "certinel-system", "certinel").Object)
			if strings.Contains(string(out), "CertinelInvalidInput") {
				t.Error("CertinelInvalidInput is still there")
			}
		})
	})

	t.Run("dashboard", func(t *testing.T) {
		var dash struct {
			Title  string `json:"title"`
			Panels []struct {
				Title   string `json:"title"`
				Type    string `json:"type"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal([]byte(readRepoFile(t, chartDir+"/dashboards/certinel.json")), &dash); err != nil {
			t.Fatalf("the dashboard does not parse: %v", err)
		}
		var exprs, titles []string
		for _, p := range dash.Panels {
			titles = append(titles, p.Title)
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
		}
		used := checkExprs(t, exported, "dashboard", exprs)
		for _, n := range []string{
			"certinel_certificate_not_after_timestamp_seconds", // expiry timeline
			"certinel_writes_total", "certinel_rollouts_total", // writes and rollouts
			"certinel_warnings_total",                          // Warnings by reason
			"certinel_invalid_input_total",                     // bad input by controller
			"controller_runtime_reconcile_errors_total",        // reconcile errors
			"controller_runtime_reconcile_time_seconds_bucket", // latency
		} {
			if !used[n] {
				t.Errorf("no panel reads %s (panels: %q)", n, titles)
			}
		}
		cm := find(helmTemplate(t, "certinel-system", "--set", "dashboard.enabled=true"), "ConfigMap", "certinel-system", "certinel-dashboard")
		if cm == nil || cm.GetLabels()["grafana_dashboard"] != "1" {
			t.Fatalf("no dashboard ConfigMap with grafana_dashboard: \"1\": %v", cm)
		}
		if data, _, _ := unstructured.NestedString(cm.Object, "data", "certinel.json"); !json.Valid([]byte(data)) {
			t.Error("the dashboard in the ConfigMap is not valid JSON")
		}
	})
}

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cluster.Root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
