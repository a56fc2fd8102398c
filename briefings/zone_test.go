package briefings_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/newsbot/newsbot/briefings"
)

func mustZone(t testing.TB, name string) briefings.Zone {
	t.Helper()
	z, err := briefings.ParseZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestParseZone(t *testing.T) {
	for _, name := range []string{"Europe/Berlin", "UTC", "America/New_York", "Asia/Kathmandu", "Etc/GMT-3"} {
		z, err := briefings.ParseZone(name)
		if err != nil || z.String() != name || z.Location().String() != name {
			t.Errorf("ParseZone(%q) = %v, %v", name, z, err)
		}
	}
	for _, name := range []string{"", "Local", "Mars/Olympus", "europe/berlin/x", strings.Repeat("A", 65)} {
		if _, err := briefings.ParseZone(name); !errors.Is(err, briefings.ErrUnknownZone) {
			t.Errorf("ParseZone(%q) err = %v, want ErrUnknownZone", name, err)
		}
	}
	var zero briefings.Zone
	if !zero.IsZero() || zero.String() != "UTC" || !zero.Equal(mustZone(t, "UTC")) {
		t.Errorf("the zero Zone is %q (zero %v), want UTC", zero, zero.IsZero())
	}
}
