package admin

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

func (h *Handler) funcs() template.FuncMap {
	loc := func() *time.Location { return h.opts.Location }
	return template.FuncMap{
		// when is an instant in the operator's zone; "—" for none.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc()).Format("2006-01-02 15:04 MST")
		},
		// local is an instant in the zone it carries.
		"local": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Format("2006-01-02 15:04 MST")
		},
		// rel is an instant relative to now: "5 min ago", "in 2 h".
		"rel": func(t, now time.Time) string {
			if t.IsZero() {
				return "never"
			}
			d := t.Sub(now)
			if d < 0 {
				return span(-d) + " ago"
			}
			if d < time.Second {
				return "now"
			}
			return "in " + span(d)
		},
		"span":  span,
		"mask":  briefings.RedactURL,
		"topic": func(t briefings.Topics) string { return topicsText(t) },
		"shown": bot.ClipRunes,
		"add":   func(a, b int) int { return a + b },
		// atLeast shows a count that stopped at its cap as "cap+".
		"atLeast": func(n, limit int) string {
			if n >= limit {
				return fmt.Sprintf("%d+", limit)
			}
			return fmt.Sprint(n)
		},
	}
}

// span is a duration to the unit a person reads it in.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func topicsText(t briefings.Topics) string {
	var parts []string
	for _, w := range t.Include {
		parts = append(parts, "+"+w)
	}
	for _, w := range t.Exclude {
		parts = append(parts, "-"+w)
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}
