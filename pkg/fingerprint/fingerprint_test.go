package fingerprint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

var format = regexp.MustCompile(`^v1:[0-9a-f]{64}$`)

func TestOfFormat(t *testing.T) {
	tests := map[string]struct {
		secret []byte
		parts  [][]byte
	}{
		"no parts":         {[]byte("k"), nil},
		"no secret":        {nil, [][]byte{[]byte("a")}},
		"empty part":       {[]byte("k"), [][]byte{{}}},
		"several parts":    {[]byte("k"), [][]byte{[]byte("a"), []byte("b"), nil}},
		"large part":       {[]byte("k"), [][]byte{make([]byte, 1<<20)}},
		"binary secret":    {[]byte{0, 1, 2, 255}, [][]byte{{0}}},
		"unicode secret":   {[]byte("pässwörd"), [][]byte{[]byte("x")}},
		"very long secret": {[]byte(strings.Repeat("s", 1000)), [][]byte{[]byte("x")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Of(tc.secret, tc.parts...)
			if !format.MatchString(got) {
				t.Errorf("Of = %q, want %s", got, format)
			}
			if !strings.HasPrefix(got, Version+":") {
				t.Errorf("Of = %q has no %q prefix", got, Version+":")
			}
			if again := Of(tc.secret, tc.parts...); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}
}

func TestOfKnownAnswer(t *testing.T) {
	// HMAC-SHA-256 keyed with the secret over, for each part, its length
	// as 8 big-endian bytes followed by the part.
	m := hmac.New(sha256.New, []byte("key"))
	m.Write([]byte{0, 0, 0, 0, 0, 0, 0, 2, 'a', 'b'})
	m.Write([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	m.Write([]byte{0, 0, 0, 0, 0, 0, 0, 1, 'c'})
	want := "v1:" + hex.EncodeToString(m.Sum(nil))
	if got := Of([]byte("key"), []byte("ab"), nil, []byte("c")); got != want {
		t.Errorf("Of = %s, want %s", got, want)
	}
	empty := hmac.New(sha256.New, nil)
	if got, want := Of(nil), "v1:"+hex.EncodeToString(empty.Sum(nil)); got != want {
		t.Errorf("Of(nil) = %s, want %s", got, want)
	}
}

func TestOfDistinguishes(t *testing.T) {
	type input struct {
		secret string
		parts  []string
	}
	of := func(in input) string {
		parts := make([][]byte, len(in.parts))
		for i, p := range in.parts {
			parts[i] = []byte(p)
		}
		return Of([]byte(in.secret), parts...)
	}
	tests := map[string]struct{ a, b input }{
		"length prefix: ab,c vs a,bc":      {input{"k", []string{"ab", "c"}}, input{"k", []string{"a", "bc"}}},
		"concatenation: ab vs a,b":         {input{"k", []string{"ab"}}, input{"k", []string{"a", "b"}}},
		"an empty part counts":             {input{"k", []string{"a"}}, input{"k", []string{"a", ""}}},
		"no parts vs one empty part":       {input{"k", nil}, input{"k", []string{""}}},
		"order of parts":                   {input{"k", []string{"a", "b"}}, input{"k", []string{"b", "a"}}},
		"different secret":                 {input{"k1", []string{"a"}}, input{"k2", []string{"a"}}},
		"secret vs no secret":              {input{"", []string{"a"}}, input{"k", []string{"a"}}},
		"secret is not a part":             {input{"k", []string{"a"}}, input{"", []string{"k", "a"}}},
		"one byte of difference":           {input{"k", []string{"abc"}}, input{"k", []string{"abd"}}},
		"length prefix vs embedded length": {input{"k", []string{"a", "b"}}, input{"k", []string{"a\x00\x00\x00\x00\x00\x00\x00\x01b"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if of(tc.a) == of(tc.b) {
				t.Errorf("%+v and %+v have the same fingerprint", tc.a, tc.b)
			}
		})
	}
}

func TestOfDoesNotRevealTheSecret(t *testing.T) {
	secret := "Correct-Horse-Battery-Staple!"
	got := Of([]byte(secret), []byte("data"))
	plain := sha256.Sum256([]byte(secret))
	for _, leak := range []string{secret, strings.ToLower(secret), hex.EncodeToString(plain[:]), hex.EncodeToString([]byte(secret))} {
		if strings.Contains(got, leak) {
			t.Errorf("fingerprint %q contains %q", got, leak)
		}
	}
}
