package annotations

import (
	"strings"
	"testing"
)

func TestShares(t *testing.T) {
	tests := map[string]struct {
		ann      map[string]string
		sourceNS string
		access   Access
		want     bool
	}{
		"same namespace needs nothing":                 {nil, "team-a", Everything, true},
		"no consent":                                   {nil, "team-b", CertificatesOnly, false},
		"share-certificates-with names the reader":     {map[string]string{ShareCertificatesWith: "team-c, team-a"}, "team-b", CertificatesOnly, true},
		"share-certificates-with star":                 {map[string]string{ShareCertificatesWith: " * "}, "team-b", CertificatesOnly, true},
		"share-certificates-with gives no private key": {map[string]string{ShareCertificatesWith: "*"}, "team-b", Everything, false},
		"allow-export-to gives everything":             {map[string]string{AllowExportTo: "team-a"}, "team-b", Everything, true},
		"allow-export-to gives certificates too":       {map[string]string{AllowExportTo: "*"}, "team-b", CertificatesOnly, true},
		"another namespace named":                      {map[string]string{ShareCertificatesWith: "team-c"}, "team-b", CertificatesOnly, false},
		"a prefix is not a match":                      {map[string]string{ShareCertificatesWith: "team"}, "team-b", CertificatesOnly, false},
		"a glob is not a match":                        {map[string]string{ShareCertificatesWith: "team-*"}, "team-b", CertificatesOnly, false},
		"empty value":                                  {map[string]string{ShareCertificatesWith: ""}, "team-b", CertificatesOnly, false},
		"case matters (namespaces are lower case)":     {map[string]string{ShareCertificatesWith: "TEAM-A"}, "team-b", CertificatesOnly, false},
		"another prefix's key":                         {map[string]string{"example.com/share-certificates-with": "*"}, "team-b", CertificatesOnly, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Shares(tc.ann, tc.sourceNS, "team-a", tc.access); got != tc.want {
				t.Errorf("Shares = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestNotSharedMessage(t *testing.T) {
	certs := NotSharedMessage("a truststore source", "b", "a", CertificatesOnly)
	if !strings.Contains(certs, ShareCertificatesWith) || !strings.Contains(certs, "namespace a") || !strings.Contains(certs, "namespace b") {
		t.Errorf("message %q does not say which consent would do", certs)
	}
	key := NotSharedMessage("the Secret of an Ingress", "b", "a", Everything)
	if strings.Contains(key, ShareCertificatesWith) || !strings.Contains(key, AllowExportTo) {
		t.Errorf("message %q must ask for allow-export-to only", key)
	}
}

func TestNeedsData(t *testing.T) {
	tests := map[string]struct {
		ann  map[string]string
		want bool
	}{
		"none":             {nil, false},
		"unrelated":        {map[string]string{"app": "x"}, false},
		"keystores":        {map[string]string{Keystores: "jks"}, true},
		"bookkeeping":      {map[string]string{ManagedKeys: "keystore.jks"}, true},
		"injection target": {map[string]string{InjectCAFrom: "ns/ca"}, true},
		"consent only":     {map[string]string{ShareCertificatesWith: "*", AllowExportTo: "a"}, false},
		"opt-outs only":    {map[string]string{ReloadIgnore: "true", Monitor: "false", ExpiryWarning: "10d"}, false},
		"consent and work": {map[string]string{ShareCertificatesWith: "*", CertInfo: "true"}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NeedsData(tc.ann); got != tc.want {
				t.Errorf("NeedsData = %t, want %t", got, tc.want)
			}
		})
	}
}

// Consent never grants more than it says: the reader's own namespace always
// reads, everything implies certificates, and a value that names neither
// the reader's namespace nor "*" grants nothing.
func FuzzShares(f *testing.F) {
	for _, seed := range []string{"", "*", "team-a", "team-b, team-a", " * ,x", "team-*", "TEAM-A", ",,,", "team-a\x00", "team-a,*"} {
		f.Add(seed, seed, "team-b")
	}
	f.Fuzz(func(t *testing.T, share, export, sourceNS string) {
		ann := map[string]string{ShareCertificatesWith: share, AllowExportTo: export}
		certs := Shares(ann, sourceNS, "team-a", CertificatesOnly)
		all := Shares(ann, sourceNS, "team-a", Everything)
		if all && !certs {
			t.Fatalf("grants the private key but not the certificates: %q %q", share, export)
		}
		if !Shares(ann, "team-a", "team-a", Everything) {
			t.Fatal("the reader's own namespace needs no consent")
		}
		if sourceNS == "team-a" {
			return
		}
		names := func(v string) bool {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item == "*" || item == "team-a" {
					return true
				}
			}
			return false
		}
		if certs != (names(share) || names(export)) || all != names(export) {
			t.Fatalf("Shares(%q, %q) = certificates %t, everything %t", share, export, certs, all)
		}
	})
}
