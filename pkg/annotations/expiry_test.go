package annotations

import (
	"testing"
	"time"

	"github.com/certinel/certinel/pkg/badinput"
)

func TestParseExpirySpec(t *testing.T) {
	def := 30 * 24 * time.Hour
	for name, tc := range map[string]struct {
		ann       map[string]string
		monitored bool
		warning   time.Duration
		bad       bool
	}{
		"defaults":              {ann: nil, monitored: true, warning: def},
		"opt out":               {ann: map[string]string{Monitor: "false"}, monitored: false, warning: def},
		"opt out, upper case":   {ann: map[string]string{Monitor: " FALSE "}, monitored: false, warning: def},
		"explicit true":         {ann: map[string]string{Monitor: "true"}, monitored: true, warning: def},
		"empty monitor":         {ann: map[string]string{Monitor: ""}, monitored: true, warning: def},
		"bad monitor":           {ann: map[string]string{Monitor: "no"}, monitored: true, warning: def, bad: true},
		"days":                  {ann: map[string]string{ExpiryWarning: "10d"}, monitored: true, warning: 10 * 24 * time.Hour},
		"go duration":           {ann: map[string]string{ExpiryWarning: "36h"}, monitored: true, warning: 36 * time.Hour},
		"spaces":                {ann: map[string]string{ExpiryWarning: " 7d "}, monitored: true, warning: 7 * 24 * time.Hour},
		"fraction of days":      {ann: map[string]string{ExpiryWarning: "1.5d"}, monitored: true, bad: true},
		"negative":              {ann: map[string]string{ExpiryWarning: "-1h"}, monitored: true, bad: true},
		"zero":                  {ann: map[string]string{ExpiryWarning: "0d"}, monitored: true, bad: true},
		"words":                 {ann: map[string]string{ExpiryWarning: "a month"}, monitored: true, bad: true},
		"only d":                {ann: map[string]string{ExpiryWarning: "d"}, monitored: true, bad: true},
		"too many days":         {ann: map[string]string{ExpiryWarning: "99999999d"}, monitored: true, bad: true},
		"opt out and bad value": {ann: map[string]string{Monitor: "false", ExpiryWarning: "x"}, monitored: false, warning: def},
	} {
		t.Run(name, func(t *testing.T) {
			spec, err := ParseExpirySpec(tc.ann, def)
			if tc.bad {
				e, ok := badinput.As(err)
				if !ok || e.Reason != badinput.InvalidAnnotation {
					t.Fatalf("err = %v, want InvalidAnnotation", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if spec.Monitored != tc.monitored || spec.Warning != tc.warning {
				t.Errorf("spec = %+v, want monitored %v warning %v", spec, tc.monitored, tc.warning)
			}
		})
	}
}
