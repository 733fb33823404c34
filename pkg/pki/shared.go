package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// maxSharedCAs bounds sharedCAs: about 5 KB each, parsed, with its DER.
const maxSharedCAs = 64

// sharedCAs keeps parsed the CA certificates that many inputs hold: a
// thousand Secrets that one issuer signed all hold its intermediate in
// tls.crt and its root in ca.crt, which were two thirds of the certificates
// parsed at a cold start. A leaf is never kept. A parsed certificate is
// only read, never changed, so one serves every caller; and only a caller
// that holds the same bytes gets it.
var sharedCAs = caMemo{max: maxSharedCAs}

// caMemo maps the SHA-256 of a CA certificate's DER to the certificate, up
// to max entries; a full memo drops any one entry to make room, so that a
// tenant with many CAs costs a bounded amount of memory, and a parse each.
type caMemo struct {
	mu    sync.Mutex
	max   int
	certs map[[32]byte]*x509.Certificate
}

// parse is x509.ParseCertificate(der), from the memo when der is a CA
// certificate parsed before.
func (m *caMemo) parse(der []byte) (*x509.Certificate, error) {
	sum := sha256.Sum256(der)
	m.mu.Lock()
	c := m.certs[sum]
	m.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil || !c.IsCA {
		return c, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.certs == nil {
		m.certs = make(map[[32]byte]*x509.Certificate, m.max)
	}
	if len(m.certs) >= m.max {
		for k := range m.certs {
			delete(m.certs, k)
			break
		}
	}
	m.certs[sum] = c
	return c, nil
}

// len is how many certificates the memo holds.
func (m *caMemo) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.certs)
}
