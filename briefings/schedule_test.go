package briefings

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestNextDelivery(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		at    string
		after string // RFC 3339 instant
		want  string // RFC 3339 instant, in the zone's offset
	}{
		{"later today", "Europe/Berlin", "07:30", "2025-01-15T05:00:00Z", "2025-01-15T07:30:00+01:00"},
		{"tomorrow when today's has passed", "Europe/Berlin", "07:30", "2025-01-15T07:00:00Z", "2025-01-16T07:30:00+01:00"},
		{"strictly after: the due instant itself is not next", "Europe/Berlin", "07:30", "2025-01-15T06:30:00Z", "2025-01-16T07:30:00+01:00"},
		{"summer time", "Europe/Berlin", "07:30", "2025-07-01T00:00:00Z", "2025-07-01T07:30:00+02:00"},
		{"Berlin spring gap: 02:30 does not exist, first valid minute after", "Europe/Berlin", "02:30", "2025-03-29T12:00:00Z", "2025-03-30T03:00:00+02:00"},
		{"Berlin day after the gap is normal again", "Europe/Berlin", "02:30", "2025-03-30T01:00:00Z", "2025-03-31T02:30:00+02:00"},
		{"Berlin fall overlap: 02:30 twice, first occurrence", "Europe/Berlin", "02:30", "2025-10-25T12:00:00Z", "2025-10-26T02:30:00+02:00"},
		{"Berlin fall overlap: not again at the second occurrence", "Europe/Berlin", "02:30", "2025-10-26T00:30:00Z", "2025-10-27T02:30:00+01:00"},
		{"New York spring gap", "America/New_York", "02:15", "2025-03-08T12:00:00Z", "2025-03-09T03:00:00-04:00"},
		{"New York fall overlap first", "America/New_York", "01:30", "2025-11-01T12:00:00Z", "2025-11-02T01:30:00-04:00"},
		{"New York fall overlap once", "America/New_York", "01:30", "2025-11-02T05:30:00Z", "2025-11-03T01:30:00-05:00"},
		{"Lord Howe half-hour spring gap", "Australia/Lord_Howe", "02:15", "2025-10-04T00:00:00Z", "2025-10-05T02:30:00+11:00"},
		{"Lord Howe half-hour overlap first", "Australia/Lord_Howe", "01:45", "2025-04-05T00:00:00Z", "2025-04-06T01:45:00+11:00"},
		{"Lord Howe half-hour overlap once", "Australia/Lord_Howe", "01:45", "2025-04-05T14:45:00Z", "2025-04-07T01:45:00+10:30"},
		{"Kathmandu +05:45", "Asia/Kathmandu", "07:00", "2025-06-01T00:00:00Z", "2025-06-01T07:00:00+05:45"},
		{"Apia skipped 30 Dec 2011: no delivery that date", "Pacific/Apia", "07:00", "2011-12-29T18:00:00Z", "2011-12-31T07:00:00+14:00"},
		{"Apia before the skip", "Pacific/Apia", "07:00", "2011-12-28T18:00:00Z", "2011-12-29T07:00:00-10:00"},
		{"UTC midnight", "UTC", "00:00", "2025-12-31T23:59:00Z", "2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			at, err := ParseTimeOfDay(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			after, _ := time.Parse(time.RFC3339, tt.after)
			want, _ := time.Parse(time.RFC3339, tt.want)
			got := NextDelivery(at, loc, after)
			if !got.Equal(want) {
				t.Errorf("NextDelivery(%s, %s, %s) = %s, want %s", tt.at, tt.zone, tt.after, got.In(loc).Format(time.RFC3339), tt.want)
			}
		})
	}
}

// TestNextDeliveryOncePerLocalDate walks a year in zones with odd rules and
// checks that every local date gets exactly one delivery, at the asked time
// whenever that time exists.
func TestNextDeliveryOncePerLocalDate(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia"} {
		loc := mustZone(t, zone)
		for _, atS := range []string{"00:00", "01:30", "02:15", "02:30", "07:30", "23:59"} {
			at, _ := ParseTimeOfDay(atS)
			start := time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
			seen := map[string]bool{}
			prev := start
			for i := 0; i < 800; i++ {
				next := NextDelivery(at, loc, prev)
				if !next.After(prev) {
					t.Fatalf("%s %s: %s not after %s", zone, atS, next, prev)
				}
				date := LocalDate(next, loc)
				if seen[date] {
					t.Fatalf("%s %s: two deliveries on %s", zone, atS, date)
				}
				seen[date] = true
				if gap := next.Sub(prev); i > 0 && gap > 49*time.Hour {
					t.Fatalf("%s %s: %v between deliveries, at %s", zone, atS, gap, next.In(loc))
				}
				prev = next
			}
		}
	}
}

func TestParseTimeOfDay(t *testing.T) {
	good := map[string]TimeOfDay{"00:00": 0, "7:05": 425, "07:30": 450, "23:59": 1439}
	for s, want := range good {
		if got, err := ParseTimeOfDay(s); err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"25:00", "24:00", "12:60", "7", "07:3", "0730", "-1:00", "ab:cd", "07:30:00", "", ":", "１２:００"} {
		if got, err := ParseTimeOfDay(s); err == nil {
			t.Errorf("ParseTimeOfDay(%q) = %v, want an error", s, got)
		}
	}
}
