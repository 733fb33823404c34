package keystore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// JKS entry tags and the SHA-1 digest that ends a JKS file.
const (
	jksPrivateKeyTag  = 1
	jksTrustedCertTag = 2
	jksDigestLen      = 20
)

// CheckJKS walks the structure of a JKS file without decoding it and
// reports an error when a count or length it declares does not fit in the
// file. keystore-go allocates whatever a file declares before reading it, so
// a 40-byte file declaring a 4 GiB certificate would exhaust memory; after
// CheckJKS, what decoding allocates grows with the file's real size (up to
// about 11 times it, for a file of empty certificates), not with what a
// corrupt header claims. Bytes after the digest are ignored, as Java does.
func CheckJKS(data []byte) error {
	r := jksReader{data: data}
	if magic := r.uint32(); magic != 0xfeedfeed {
		return errors.New("not a JKS file (bad magic number)")
	}
	version := r.uint32()
	if r.err == nil && version != 1 && version != 2 {
		return fmt.Errorf("unknown JKS version %d", version)
	}
	count := r.uint32()
	for i := uint32(0); i < count && r.err == nil; i++ {
		tag := r.uint32()
		r.skip(uint32(r.uint16())) // alias
		r.skip(8)                  // creation time
		switch {
		case r.err != nil:
		case tag == jksPrivateKeyTag:
			r.skip(r.uint32()) // encrypted key
			certs := r.uint32()
			for j := uint32(0); j < certs && r.err == nil; j++ {
				r.certificate(version)
			}
		case tag == jksTrustedCertTag:
			r.certificate(version)
		default:
			return fmt.Errorf("JKS entry %d has unknown tag %d", i+1, tag)
		}
	}
	r.skip(jksDigestLen)
	if r.err != nil {
		return fmt.Errorf("truncated or corrupt JKS file: %w", r.err)
	}
	return nil
}

// jksReader reads big-endian fields, recording the first overrun instead
// of reading past the end.
type jksReader struct {
	data []byte
	off  int
	err  error
}

func (r *jksReader) take(n uint32) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.data)-r.off) {
		r.err = fmt.Errorf("a field of %d bytes at offset %d runs past the end (%d bytes)", n, r.off, len(r.data))
		return nil
	}
	b := r.data[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *jksReader) skip(n uint32) { r.take(n) }

func (r *jksReader) uint16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *jksReader) uint32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// certificate skips a certificate: its type (version 2 only) and content.
func (r *jksReader) certificate(version uint32) {
	if version == 2 {
		r.skip(uint32(r.uint16()))
	}
	r.skip(r.uint32())
}
