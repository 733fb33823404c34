package annotations

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Access is what a reader in another namespace wants from a source.
type Access int

const (
	// CertificatesOnly is enough for truststores, CA injection and bundles.
	CertificatesOnly Access = iota
	// Everything includes the private key (an Ingress mirror).
	Everything
)

// Shares reports whether a source Secret or ConfigMap in sourceNS with
// annotations ann lets a reader in readerNS have access. A reader in the
// source's own namespace needs no consent. Otherwise AllowExportTo grants
// everything and ShareCertificatesWith grants certificates only, each
// naming readerNS or "*". Items that are not namespace names are ignored:
// a malformed consent grants nothing.
func Shares(ann map[string]string, sourceNS, readerNS string, access Access) bool {
	if sourceNS == readerNS {
		return true
	}
	if names(ann[AllowExportTo], readerNS) {
		return true
	}
	return access == CertificatesOnly && names(ann[ShareCertificatesWith], readerNS)
}

func names(list, namespace string) bool {
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "*" || (item == namespace && len(validation.IsDNS1123Label(item)) == 0) {
			return true
		}
	}
	return false
}

// NotSharedMessage is the message of a refused cross-namespace read, for
// a reader in readerNS of a source (described by what, e.g. "a truststore
// source") in sourceNS. It names neither the source's name nor its key, and
// is the same whether the source exists or not, so Events reveal nothing of
// what another namespace holds.
func NotSharedMessage(what, sourceNS, readerNS string, access Access) string {
	consent := ShareCertificatesWith + " or " + AllowExportTo
	if access == Everything {
		consent = AllowExportTo
	}
	return fmt.Sprintf("%s in namespace %s is not shared with namespace %s: certinel reads a Secret or ConfigMap of another namespace only when it exists and carries %s naming %s or \"*\"",
		what, sourceNS, readerNS, consent, readerNS)
}
