package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	routev1 "github.com/openshift/api/route/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/certinel/certinel/e2e/framework"
)

// openshiftAPI is the module the Route types and CRD come from; go.mod pins
// it to an exact pseudo-version (its @latest is an ancient v3.9.0 tag).
const openshiftAPI = "github.com/openshift/api"

// The test cluster serves OpenShift's Route as a user's cluster would:
// kubectl applies one and the typed client reads it back.
func TestRouteCRDIsServed(t *testing.T) {
	ns := namespace(t)
	kubectl(t, `apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: app
  namespace: `+ns+`
spec:
  host: app.example.com
  to:
    kind: Service
    name: app
  tls:
    termination: edge
`, "apply", "-f", "-")
	var route routev1.Route
	if err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, &route); err != nil {
		t.Fatal(err)
	}
	if route.Spec.Host != "app.example.com" || route.Spec.TLS == nil || route.Spec.TLS.Termination != routev1.TLSTerminationEdge {
		t.Errorf("Route read back as %+v", route.Spec)
	}
}

// The Route CRD in config/crd/external is the one shipped by the pinned
// openshift/api module, so the tests exercise the schema certinel's Route
// types were generated with. After bumping the module, run `make crds`.
func TestRouteCRDMatchesModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", openshiftAPI).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", openshiftAPI, err)
	}
	dir := strings.TrimSpace(string(out))
	want, err := os.ReadFile(filepath.Join(dir, "route", "v1", "zz_generated.crd-manifests", "routes.crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got := readRepoFile(t, filepath.Join(framework.ExternalCRDs, "route.openshift.io_routes.yaml"))
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s/route.openshift.io_routes.yaml differs from %s's routes.crd.yaml: run `make crds`", framework.ExternalCRDs, openshiftAPI)
	}
}
