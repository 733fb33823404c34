package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// The Helm chart grants exactly the permissions of config/rbac, which the
// e2e suite runs certinel with: a rule added to one and not the other would
// leave Helm users with a certinel that is refused, or over-privileged.
func TestChartRBACMatchesConfig(t *testing.T) {
	cases := map[string]struct {
		config string
		chart  func(t *testing.T) string
	}{
		"manager": {"config/rbac/role.yaml", func(t *testing.T) string {
			tpl := readRepoFile(t, "charts/certinel/templates/_helpers.tpl")
			_, body, ok := strings.Cut(tpl, `{{- define "certinel.rules" -}}`)
			body, _, ok2 := strings.Cut(body, "{{- end }}")
			if !ok || !ok2 {
				t.Fatal(`no "certinel.rules" template in _helpers.tpl`)
			}
			return body
		}},
		"leader election": {"config/rbac/leader_election_role.yaml", func(t *testing.T) string {
			tpl := readRepoFile(t, "charts/certinel/templates/leader-election-rbac.yaml")
			_, body, ok := strings.Cut(tpl, "\nrules:\n")
			body, _, _ = strings.Cut(body, "\n---")
			if !ok {
				t.Fatal("no rules in leader-election-rbac.yaml")
			}
			return body
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var role rbacv1.ClusterRole // a Role's rules read the same
			if err := yaml.Unmarshal([]byte(readRepoFile(t, tc.config)), &role); err != nil {
				t.Fatal(err)
			}
			var chart []rbacv1.PolicyRule
			if err := yaml.Unmarshal([]byte(tc.chart(t)), &chart); err != nil {
				t.Fatal(err)
			}
			if len(role.Rules) == 0 {
				t.Fatalf("%s has no rules", tc.config)
			}
			if !reflect.DeepEqual(role.Rules, chart) {
				t.Errorf("the chart's rules differ from %s:\nchart:  %+v\nconfig: %+v", tc.config, chart, role.Rules)
			}
		})
	}
}

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cluster.Root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
