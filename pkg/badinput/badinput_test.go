package badinput

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorf(t *testing.T) {
	err := Errorf(MalformedPEM, "certificate %d is %s", 2, "bad")
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("Errorf returned %T, want *Error", err)
	}
	if e.Reason != MalformedPEM || e.Message != "certificate 2 is bad" || err.Error() != e.Message {
		t.Errorf("got %+v, Error() %q", e, err.Error())
	}
}

func TestAs(t *testing.T) {
	base := Errorf(NoCertificate, "no certificate")
	tests := map[string]struct {
		err    error
		reason string // "" means As reports false
	}{
		"nil":                {nil, ""},
		"plain error":        {errors.New("boom"), ""},
		"direct":             {base, NoCertificate},
		"wrapped once":       {fmt.Errorf("tls.crt: %w", base), NoCertificate},
		"wrapped twice":      {fmt.Errorf("a: %w", fmt.Errorf("b: %w", base)), NoCertificate},
		"joined":             {errors.Join(errors.New("other"), base), NoCertificate},
		"formatted, not %w":  {fmt.Errorf("tls.crt: %v", base), ""},
		"typed nil pointer":  {(*Error)(nil), ""},
		"first of two wraps": {fmt.Errorf("%w; %w", Errorf(InvalidAnnotation, "x"), base), InvalidAnnotation},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, ok := As(tc.err)
			if tc.reason == "" {
				if ok && e != nil {
					t.Errorf("As = %+v, true; want false", e)
				}
				return
			}
			if !ok || e == nil || e.Reason != tc.reason {
				t.Errorf("As = %+v, %v; want reason %s", e, ok, tc.reason)
			}
		})
	}
}

func TestReasonsAreCamelCaseAndUnique(t *testing.T) {
	reasons := []string{
		MalformedPEM, NoCertificate, NoPrivateKey, EncryptedPrivateKey, UnsupportedKeyType,
		KeyCertificateMismatch, ChainTooLong, BundleTooLarge, InvalidAnnotation, UnknownKeystoreFormat, UnknownPKCS12Profile,
		MissingPasswordSecret, InvalidPassword, MissingTruststoreSource, MissingSourceKey,
		DataKeyConflict, TargetConflict,
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if r == "" || r[0] < 'A' || r[0] > 'Z' {
			t.Errorf("reason %q is not CamelCase", r)
		}
		for _, c := range r {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Errorf("reason %q has %q", r, c)
			}
		}
		if seen[r] {
			t.Errorf("reason %q defined twice", r)
		}
		seen[r] = true
	}
}

func TestQuote(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"short":            {"jks", `"jks"`},
		"control bytes":    {"a\nb", `"a\nb"`},
		"exactly at limit": {strings.Repeat("x", quoteLimit), strconv.Quote(strings.Repeat("x", quoteLimit))},
		"long ASCII":       {strings.Repeat("x", 2000), strconv.Quote(strings.Repeat("x", quoteLimit)) + "... (2000 characters)"},
		"long multi-byte":  {strings.Repeat("é", 100), strconv.Quote(strings.Repeat("é", quoteLimit)) + "... (100 characters)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	cases := map[string]struct {
		in      string
		wantLen int
	}{
		"short kept":          {"bad PEM", len("bad PEM")},
		"at limit kept":       {strings.Repeat("a", NoteLimit), NoteLimit},
		"long ASCII cut":      {strings.Repeat("a", 5000), NoteLimit},
		"long multi-byte cut": {strings.Repeat("€", 1000), NoteLimit - 1}, // 3-byte runes: 340 of them, then "..."
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Truncate(tc.in)
			if len(got) != tc.wantLen || !utf8.ValidString(got) {
				t.Errorf("Truncate: %d bytes (valid UTF-8: %v), want %d", len(got), utf8.ValidString(got), tc.wantLen)
			}
			if len(tc.in) > NoteLimit && !strings.HasSuffix(got, "...") {
				t.Errorf("a cut message does not say so: ...%s", got[len(got)-10:])
			}
		})
	}
}
