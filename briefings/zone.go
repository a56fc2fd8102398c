package briefings

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnknownZone is returned for a time zone name that is not in the IANA
// database.
var ErrUnknownZone = errors.New("unknown time zone")

// Zone is the IANA time zone a subscription's time of day is read in. It is
// resolved once, where a name enters the program — a command is parsed, the
// configuration is read, a stored row is loaded — so everything downstream
// holds a zone that loads. The zero Zone is UTC.
type Zone struct{ loc *time.Location }

// ParseZone resolves an IANA zone name. It refuses "Local" and the empty
// name, which would make a subscription depend on the server's own zone.
func ParseZone(name string) (Zone, error) {
	if name == "" || name == "Local" || len(name) > 64 {
		return Zone{}, fmt.Errorf("%w %q", ErrUnknownZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return Zone{}, fmt.Errorf("%w %q", ErrUnknownZone, name)
	}
	return Zone{loc: loc}, nil
}

// ZoneOf is the Zone of a location the program already holds (UTC for nil).
func ZoneOf(loc *time.Location) Zone { return Zone{loc: loc} }

// UTC is the zone of subscriptions made with no zone configured.
var UTC = ZoneOf(time.UTC)

// Location is the zone's rules, for time arithmetic.
func (z Zone) Location() *time.Location {
	if z.loc == nil {
		return time.UTC
	}
	return z.loc
}

// String is the zone's IANA name, as stores keep it and replies show it.
func (z Zone) String() string { return z.Location().String() }

// IsZero reports whether no zone was given (a /subscribe without one).
func (z Zone) IsZero() bool { return z.loc == nil }

// Equal reports whether two zones have the same name (and so the same rules).
func (z Zone) Equal(o Zone) bool { return z.String() == o.String() }
