package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/spf13/pflag"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certinel/certinel/pkg/annotations"
	"github.com/certinel/certinel/pkg/certinfo"
	"github.com/certinel/certinel/pkg/keystore"
	"github.com/certinel/certinel/pkg/pki"
)

// runInspect is `certinel inspect`: what a PEM file or a store holds.
func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("certinel inspect", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	passwordFile := fs.String("password-file", "", "file holding the store password; default: changeit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "certinel inspect: name at least one file")
		return 2
	}
	password := annotations.DefaultPassword
	if *passwordFile != "" {
		var err error
		if password, err = readPasswordFile(*passwordFile); err != nil {
			fmt.Fprintln(stderr, "certinel inspect:", err)
			return 1
		}
	}
	status := 0
	for _, path := range fs.Args() {
		data, err := readFile(path)
		if err == nil {
			fmt.Fprintf(stdout, "== %s\n", path)
			err = inspect(stdout, data, password)
		}
		if err != nil {
			fmt.Fprintf(stderr, "certinel inspect: %s: %v\n", path, err)
			status = 1
		}
	}
	return status
}

var jksMagic = []byte{0xfe, 0xed, 0xfe, 0xed}

func inspect(w io.Writer, data []byte, password string) error {
	switch {
	case bytes.Contains(data, []byte("-----BEGIN")):
		return inspectPEM(w, data)
	case bytes.HasPrefix(data, jksMagic):
		return inspectJKS(w, data, password)
	case len(data) > 0 && data[0] == 0x30: // DER SEQUENCE: PKCS#12
		return inspectPKCS12(w, data, password)
	}
	return errors.New("not PEM, JKS or PKCS#12")
}

func inspectPEM(w io.Writer, data []byte) error {
	var blocks []string
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b.Type)
	}
	fmt.Fprintf(w, "PEM file with %d block(s)\n", len(blocks))
	if bytes.Contains(data, []byte("PRIVATE KEY")) {
		if key, err := pki.ParsePrivateKey(data); err != nil {
			fmt.Fprintf(w, "Private key: %v\n", err)
		} else {
			fmt.Fprintf(w, "Private key: %T\n", key)
		}
	}
	certs, err := pki.ParseCertificates(data)
	if err != nil {
		if bytes.Contains(data, []byte("CERTIFICATE")) {
			return err
		}
		return nil
	}
	fmt.Fprint(w, certinfo.Describe(certs))
	return nil
}

func inspectJKS(w io.Writer, data []byte, password string) error {
	if err := keystore.CheckJKS(data); err != nil {
		return err
	}
	ks := jks.New()
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		return fmt.Errorf("JKS: %w (wrong password? use --password-file)", err)
	}
	aliases := ks.Aliases()
	fmt.Fprintf(w, "JKS keystore with %d entr%s\n", len(aliases), plural(len(aliases), "y", "ies"))
	for _, alias := range aliases {
		var chain []jks.Certificate
		if ks.IsPrivateKeyEntry(alias) {
			fmt.Fprintf(w, "\nAlias %q: PrivateKeyEntry\n", alias)
			chain, _ = ks.GetPrivateKeyEntryCertificateChain(alias)
		} else if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
			fmt.Fprintf(w, "\nAlias %q: trustedCertEntry\n", alias)
			chain = []jks.Certificate{e.Certificate}
		}
		certs, err := parseDER(chain)
		if err != nil {
			return err
		}
		fmt.Fprint(w, certinfo.Describe(certs))
	}
	return nil
}

func inspectPKCS12(w io.Writer, data []byte, password string) error {
	if err := keystore.CheckPKCS12(data); err != nil {
		return err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err == nil {
		fmt.Fprintf(w, "PKCS#12 keystore\n\nAlias %q: PrivateKeyEntry (%T)\n", keystore.KeyAlias(data), key)
		fmt.Fprint(w, certinfo.Describe(append([]*x509.Certificate{leaf}, cas...)))
		return nil
	}
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return fmt.Errorf("PKCS#12: %w (use --password-file)", err)
	}
	certs, tsErr := pkcs12.DecodeTrustStore(data, password)
	if tsErr != nil {
		return fmt.Errorf("PKCS#12: %w", err)
	}
	fmt.Fprintf(w, "PKCS#12 truststore with %d certificate(s)\n", len(certs))
	for _, c := range certs {
		fmt.Fprintf(w, "\nTrusted certificate (alias as certinel names it: %q)\n", keystore.TrustAlias(c))
		fmt.Fprint(w, certinfo.Describe([]*x509.Certificate{c}))
	}
	return nil
}

func parseDER(chain []jks.Certificate) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(chain))
	for _, c := range chain {
		cert, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
