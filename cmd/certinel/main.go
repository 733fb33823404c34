// Command certinel is the certinel operator and its offline tools.
//
//	certinel [flags]            run the operator (the manager)
//	certinel keystore [flags]   build keystores from PEM files
//	certinel inspect FILE...    describe PEM files, JKS and PKCS#12 stores
//	certinel status [-n NS|-A]  what certinel manages in the cluster, and its state
//
// Named kubectl-certinel (a link on PATH), it is the kubectl plugin
// `kubectl certinel status`.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// pluginName is the name kubectl looks for on PATH to run
// `kubectl certinel ...`.
const pluginName = "kubectl-certinel"

func main() {
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == pluginName {
		os.Exit(runPlugin(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// runPlugin is certinel run by kubectl: the same commands, but never the
// manager, which `kubectl certinel` without a command would otherwise start.
func runPlugin(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	isManager := cmd == "" || cmd == "manager" || (cmd[0] == '-' && cmd != "-h" && cmd != "--help" && cmd != "--version")
	if isManager {
		fmt.Fprint(stderr, pluginUsage)
		return 2
	}
	return run(args, stdout, stderr)
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
	case "status":
		return runStatus(args[1:], stdout, stderr)
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
  certinel status [-n NAMESPACE | -A] [-o wide|json] [kubectl's --kubeconfig, --context, --as, ...]
  certinel version

As a kubectl plugin (certinel linked as kubectl-certinel on PATH):
  kubectl certinel status [-n NAMESPACE | -A] [-o wide|json]
`

const pluginUsage = `Usage: kubectl certinel status [-n NAMESPACE | -A] [-o wide|json] [--context ...]
       kubectl certinel keystore|inspect|version|help
`
