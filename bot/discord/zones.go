package discord

//go:generate go run zones_gen.go

import "strings"

// popularZones answer an empty autocomplete: the zones most people pick.
const popularZones = "UTC\nEurope/London\nEurope/Berlin\nEurope/Paris\nEurope/Madrid\nEurope/Rome\n" +
	"Europe/Warsaw\nEurope/Kyiv\nEurope/Istanbul\nEurope/Moscow\nAmerica/New_York\n" +
	"America/Chicago\nAmerica/Denver\nAmerica/Los_Angeles\nAmerica/Toronto\n" +
	"America/Mexico_City\nAmerica/Sao_Paulo\nAsia/Kolkata\nAsia/Dubai\nAsia/Shanghai\n" +
	"Asia/Tokyo\nAsia/Singapore\nAustralia/Sydney\nAfrica/Lagos\nAfrica/Johannesburg"

// matchZones returns up to limit zone names for what the user has typed so
// far: names that start with it first, then names with a part (after a "/")
// that starts with it, then names that contain it. Case, spaces and
// underscores do not matter ("new york" finds America/New_York).
func matchZones(typed string, limit int) []string {
	q := zoneKey(strings.TrimSpace(typed))
	if q == "" {
		popular := strings.Split(popularZones, "\n")
		return popular[:min(limit, len(popular))]
	}
	var prefix, part, contains []string
	for name := range strings.SplitSeq(zoneNames, "\n") {
		k := zoneKey(name)
		switch {
		case strings.HasPrefix(k, q):
			prefix = append(prefix, name)
		case strings.Contains(k, "/"+q):
			part = append(part, name)
		case strings.Contains(k, q):
			contains = append(contains, name)
		}
		if len(prefix) >= limit {
			break
		}
	}
	out := append(append(prefix, part...), contains...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func zoneKey(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, " ", "_"))
}
