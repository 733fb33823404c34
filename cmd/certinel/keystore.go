package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/keystore"
)

// runKeystore is `certinel keystore`: the operator's keystore code on files.
func runKeystore(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("certinel keystore", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	certFile := fs.String("cert", "", "PEM certificate chain, leaf first (tls.crt)")
	keyFile := fs.String("key", "", "PEM private key: PKCS#1, PKCS#8 or SEC1 (tls.key)")
	caFile := fs.String("ca", "", "PEM CA certificates for the truststore (ca.crt)")
	format := fs.String("format", "", "jks or pkcs12 (or jks,pkcs12)")
	passwordFile := fs.String("password-file", "", "file holding the store password (one trailing newline is ignored); default: changeit")
	alias := fs.String("alias", annotations.DefaultAlias, "alias of the private key entry")
	profile := fs.String("profile", string(annotations.Modern2023), "PKCS#12 profile: modern2023, modern2026, legacy-rc2 or legacy-des")
	outDir := fs.String("out-dir", "", "directory to write the stores into")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "certinel keystore: "+format+"\n", args...)
		return 1
	}
	// failInput reports an error of the operator's code in terms of flags.
	failInput := func(err error) int { return fail("%s", flagMessage(err)) }
	if *certFile == "" || *keyFile == "" || *format == "" || *outDir == "" {
		fmt.Fprintln(stderr, "certinel keystore: --cert, --key, --format and --out-dir are required")
		fs.PrintDefaults()
		return 2
	}
	// The flags go through the annotation parser, so they accept and refuse
	// exactly what the annotations do.
	spec, err := annotations.ParseKeystoreSpec("default", map[string]string{
		annotations.Keystores:     *format,
		annotations.KeystoreAlias: *alias,
		annotations.PKCS12Profile: *profile,
	})
	if err != nil {
		return failInput(err)
	}
	if len(spec.Formats) == 0 {
		return fail("--format: want jks or pkcs12")
	}
	in := keystore.Inputs{Spec: spec, Password: annotations.DefaultPassword}
	for _, f := range []struct {
		path string
		dst  *[]byte
	}{{*certFile, &in.TLSCert}, {*keyFile, &in.TLSKey}, {*caFile, &in.CACert}} {
		if f.path == "" {
			continue
		}
		if *f.dst, err = readFile(f.path); err != nil {
			return fail("%v", err)
		}
	}
	if *passwordFile != "" {
		if in.Password, err = readPasswordFile(*passwordFile); err != nil {
			return fail("%v", err)
		}
	}
	plan, err := keystore.NewPlan(in)
	if err != nil {
		return failInput(err)
	}
	stores, err := plan.Render()
	if err != nil {
		return failInput(err)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fail("%v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(stores)) {
		path := filepath.Join(*outDir, name)
		if err := os.WriteFile(path, stores[name], 0o600); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	return 0
}

// dataKeyFlags are the prefixes pkg/keystore puts on messages about a
// Secret's data keys, with the flags that name the same input here.
var dataKeyFlags = []struct{ prefix, flag string }{
	{"tls.crt/tls.key: ", "--cert/--key: "},
	{"tls.crt: ", "--cert: "},
	{"ca.crt: ", "--ca: "},
}

// annotationFlags names the annotations that the flags of `certinel
// keystore` stand for.
var annotationFlags = strings.NewReplacer(
	annotations.KeystoreAlias, "--alias",
	annotations.PKCS12Profile, "--profile",
	annotations.Keystores, "--format",
)

// flagMessage is the message of an error of pkg/annotations or
// pkg/keystore, which name annotations and Secret data keys, with the flags
// the user typed instead.
func flagMessage(err error) string {
	msg := err.Error()
	for _, m := range dataKeyFlags {
		if rest, ok := strings.CutPrefix(msg, m.prefix); ok {
			msg = m.flag + rest
			break
		}
	}
	return annotationFlags.Replace(msg)
}
