package briefings

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeOfDay is a local wall-clock time, in minutes after midnight.
type TimeOfDay int

// ParseTimeOfDay reads a 24-hour "HH:MM" or "H:MM": hours 0–23, minutes 0–59.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return 0, fmt.Errorf("time of day %q: want 00:00 to 23:59", s)
	}
	return TimeOfDay(hh*60 + mm), nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (t TimeOfDay) Hour() int   { return int(t) / 60 }
func (t TimeOfDay) Minute() int { return int(t) % 60 }

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute()) }

// NextDelivery is the first instant strictly after `after` at which the wall
// clock in loc reads `at`, one per local calendar date:
//   - a time inside a spring-forward gap is delivered at the first valid
//     instant after the gap (02:30 on the night Berlin jumps from 02:00 to
//     03:00 is delivered at 03:00);
//   - a time that occurs twice in a fall-back overlap is delivered once, at its
//     first occurrence;
//   - a local date that does not exist in the zone at all (Pacific/Apia skipped
//     30 December 2011) gets no delivery.
func NextDelivery(at TimeOfDay, loc *time.Location, after time.Time) time.Time {
	local := after.In(loc)
	y, m, d := local.Date()
	// Start a day early: the resolved instant of yesterday's date can lie after
	// `after` only in contrived zones, but starting early costs nothing and the
	// strictly-after check below keeps the answer right.
	for i := -1; i < 400; i++ {
		t, ok := resolveWallClock(y, m, d+i, at, loc)
		if ok && t.After(after) {
			return t
		}
	}
	// Unreachable for any real zone: every zone has a valid date within a year.
	return after.Add(24 * time.Hour)
}

// LocalDate is the calendar date of t in loc, as "2006-01-02". Deliveries are
// keyed by it: one briefing per subscription per local date.
func LocalDate(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// resolveWallClock finds the instant at which loc's wall clock reads the given
// date and time of day, by the rules of NextDelivery. ok is false when the date
// does not exist in loc.
func resolveWallClock(y int, m time.Month, d int, at TimeOfDay, loc *time.Location) (time.Time, bool) {
	// Normalize the date (d may be out of range) in UTC, where every date exists.
	wall := time.Date(y, m, d, at.Hour(), at.Minute(), 0, 0, time.UTC)
	// The offsets in effect a day and a half either side of the wall time
	// cover any single transition; every one that maps back to the same wall
	// time is a real occurrence, and the earliest wins.
	var best time.Time
	for _, probe := range []time.Duration{-36 * time.Hour, -12 * time.Hour, 0, 12 * time.Hour, 36 * time.Hour} {
		_, off := wall.Add(probe).In(loc).Zone()
		c := wall.Add(-time.Duration(off) * time.Second)
		if sameWall(c.In(loc), wall) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best, true
	}
	// The wall time falls in a gap: read it with the offset from before the
	// gap, and the zone that instant falls in starts at the end of the gap.
	_, offBefore := wall.Add(-36 * time.Hour).In(loc).Zone()
	start, _ := wall.Add(-time.Duration(offBefore) * time.Second).In(loc).ZoneBounds()
	if start.IsZero() {
		return time.Time{}, false
	}
	sy, sm, sd := start.In(loc).Date()
	if sy != wall.Year() || sm != wall.Month() || sd != wall.Day() {
		return time.Time{}, false // the whole date was skipped
	}
	return start, true
}

func sameWall(t, wall time.Time) bool {
	y, m, d := t.Date()
	wy, wm, wd := wall.Date()
	return y == wy && m == wm && d == wd && t.Hour() == wall.Hour() && t.Minute() == wall.Minute()
}
