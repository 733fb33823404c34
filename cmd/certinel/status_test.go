package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/status"
)

func TestPrintStatus(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	wrote, expiry := now.Add(-3*time.Minute), now.Add(89*24*time.Hour+time.Hour)
	rows := []status.Row{
		{Namespace: "a", Kind: "Secret", Name: "web-tls", Features: []string{"keystores"}, State: status.UpToDate, NotAfter: &expiry, LastWrite: &wrote},
		{Namespace: "a", Kind: "Secret", Name: "bad", Features: []string{"keystores"}, State: status.BadInput, Reason: "MalformedPEM", Message: "tls.crt:\n\x1b[31mno PEM"},
		{Kind: "APIService", Name: "v1.example.com", Features: []string{"inject-ca"}, State: status.Pending, Message: "no CA injected yet"},
	}
	var b bytes.Buffer
	if err := printStatus(&b, rows, "", false, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := [][]string{
		{"OBJECT", "FEATURE", "STATE", "EXPIRY", "LAST", "WRITE"},
		{"secret/web-tls", "keystores", "up", "to", "date", "2027-03-01", "(89d)", "3m", "ago"},
		{"secret/bad", "keystores", "bad", "input", "(MalformedPEM)", "-", "never"},
		{"apiservice/v1.example.com", "inject-ca", "pending", "-", "never"},
	}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("line %d: %q, want %q", i, got, w)
		}
	}

	b.Reset()
	if err := printStatus(&b, rows, "wide", true, now); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "wide table", b.String(), "NAMESPACE", "MESSAGE", "tls.crt: [31mno PEM", "\n-  ", "no CA injected yet")
	if strings.ContainsRune(b.String(), '\x1b') {
		t.Errorf("wide table carries a control character:\n%q", b.String())
	}

	b.Reset()
	if err := printStatus(&b, rows, "json", false, now); err != nil {
		t.Fatal(err)
	}
	var back []status.Row
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back) != 3 || back[1].Reason != "MalformedPEM" || !back[0].LastWrite.Equal(wrote) {
		t.Errorf("json: %v %+v\n%s", err, back, b.String())
	}
	b.Reset()
	if err := printStatus(&b, nil, "json", false, now); err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty json: %v %q", err, b.String())
	}
	b.Reset()
	if err := printStatus(&b, nil, "", false, now); err != nil || !strings.Contains(b.String(), "No objects") {
		t.Errorf("empty table: %v %q", err, b.String())
	}
}

func TestStatusUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"bad output":     {[]string{"status", "-o", "yaml"}, "want wide or json"},
		"arguments":      {[]string{"status", "extra"}, "unexpected arguments [extra]"},
		"unknown flag":   {[]string{"status", "--frobnicate"}, "unknown flag: --frobnicate"},
		"-n and -A":      {[]string{"status", "-n", "a", "-A"}, "set only one of --namespace and --all-namespaces"},
		"kubeconfig bad": {[]string{"status", "--kubeconfig", filepath.Join(t.TempDir(), "none")}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			code := 2
			if tc.want == "" {
				code = 1
			}
			r := runArgs(tc.args...).requireCode(t, code)
			mustContain(t, "stderr", r.stderr, tc.want)
		})
	}
}

// Run by kubectl as kubectl-certinel, certinel runs its commands but never
// the manager.
func TestRunPlugin(t *testing.T) {
	for _, args := range [][]string{nil, {"manager"}, {"--leader-elect"}} {
		var out, errOut bytes.Buffer
		if code := runPlugin(args, &out, &errOut); code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), "kubectl certinel status") {
			t.Errorf("%v: code %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := runPlugin([]string{"version"}, &out, &errOut); code != 0 || out.String() != "certinel "+version+"\n" {
		t.Errorf("version: code %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	mustContain(t, "usage", usage, "certinel status", "kubectl certinel status")
}
