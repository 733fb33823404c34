package badinput_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/certinel/certinel/pkg/expiry"
)

// warningReasons returns every reason constant of this package (each a
// Warning reason) and the expiry Warnings, read from the source so that a
// new reason cannot be left out of the list.
func warningReasons(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "badinput.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !name.IsExported() || !ok || lit.Kind != token.STRING {
					continue // NoteLimit and such
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				reasons = append(reasons, v)
			}
		}
	}
	if len(reasons) < 20 {
		t.Fatalf("read only %d reasons from badinput.go: %v", len(reasons), reasons)
	}
	return append(reasons, expiry.ReasonExpiringSoon, expiry.ReasonExpired)
}

// Every Warning reason certinel gives is in the README's Troubleshooting
// table, with what it means and what to do.
func TestREADMETroubleshootingNamesEveryWarningReason(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Troubleshooting\n")
	if !ok {
		t.Fatal("README has no Troubleshooting section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var table strings.Builder
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `") {
			first, _, _ := strings.Cut(line[1:], "|") // the reason column
			table.WriteString(first)
		}
	}
	for _, reason := range warningReasons(t) {
		if !strings.Contains(table.String(), "`"+reason+"`") {
			t.Errorf("README's Troubleshooting table has no row naming `%s`", reason)
		}
	}
}
