// Command certinel is the certinel operator and its offline tools.
//
//	certinel [flags]            run the operator (the manager)
//	certinel keystore [flags]   build keystores from PEM files
//	certinel inspect FILE...    describe PEM files, JKS and PKCS#12 stores
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "keystore":
		return runKeystore(args[1:], stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "certinel", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if cmd != "" && cmd != "manager" && cmd[0] != '-' {
		fmt.Fprintf(stderr, "certinel: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if cmd == "manager" {
		args = args[1:]
	}
	return runManager(args, stderr)
}

const usage = `certinel: keystores, CA injection, certificate expiry and reloads from annotations.

Usage:
  certinel [manager] [flags]   run the operator (certinel manager --help for flags)
  certinel keystore --cert FILE --key FILE [--ca FILE] --format jks|pkcs12
                    [--password-file FILE] [--alias A] [--profile P] --out-dir DIR
  certinel inspect [--password-file FILE] FILE...
  certinel version
`
