package discord

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanText makes feed text safe to carry: valid UTF-8, no control
// characters (a newline survives only where keepNewlines says so), runs of
// spaces collapsed, trimmed.
func cleanText(s string, keepNewlines bool) string {
	out := make([]rune, 0, len(s))
	pendingSpace := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r == '\n' && keepNewlines {
			// At most one blank line in a row.
			if n := len(out); n > 0 && (out[n-1] != '\n' || n < 2 || out[n-2] != '\n') {
				out = append(out, '\n')
			}
			pendingSpace = false
			continue
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' || isBidiControl(r) {
			pendingSpace = true
			continue
		}
		if pendingSpace && len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, ' ')
		}
		pendingSpace = false
		out = append(out, r)
	}
	return strings.TrimSpace(string(out))
}

// isBidiControl reports the embedding and isolate controls that can make a
// headline display reversed or spoof a link's text.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// markdownEverywhere are the characters Discord's markdown gives a meaning
// anywhere in a line: emphasis, strike, code, spoilers, masked links
// ([text](url)) and angle-bracket syntax (<@id> mentions, <t:…> timestamps,
// <url> link suppression).
const markdownEverywhere = "\\*_~`|[]()<>"

// markdownLineStart are meaningful only at the start of a line: headings,
// quotes, list bullets, "-#" subtext.
const markdownLineStart = "#>-+"

// eachUnit calls f for every character of s with whether it needs a
// backslash before it, until f returns false. A character and its backslash
// are one unit: clipping between units never leaves a lone backslash that
// would escape what follows.
func eachUnit(s string, f func(r rune, escape bool) bool) {
	lineStart := true
	digitsAtStart := false
	for _, r := range s {
		escape := strings.ContainsRune(markdownEverywhere, r) ||
			(lineStart && strings.ContainsRune(markdownLineStart, r)) ||
			// "1. " at the start of a line is a numbered list.
			(digitsAtStart && r == '.')
		if !f(r, escape) {
			return
		}
		switch {
		case r == '\n':
			lineStart, digitsAtStart = true, false
		case lineStart && r == ' ':
			// Leading spaces keep the line start.
		case lineStart && r >= '0' && r <= '9':
			lineStart, digitsAtStart = false, true
		case digitsAtStart && r >= '0' && r <= '9':
		default:
			lineStart, digitsAtStart = false, false
		}
	}
}

func unitLen(escape bool) int {
	if escape {
		return 2
	}
	return 1
}

// EscapeMarkdown escapes text so that Discord shows it as typed: no
// emphasis, no links, no headings or quotes, no mention or timestamp markup.
// Mentions still need allowed_mentions to ping nobody; escaping only changes
// how the text looks.
func EscapeMarkdown(s string) string {
	return escapeClip(s, -1)
}

// escapeClip escapes s and clips the result to at most limit code points
// (no limit when negative), ending with "…" when something was cut.
func escapeClip(s string, limit int) string {
	if limit == 0 {
		return ""
	}
	clipped := false
	if limit >= 0 {
		total := 0
		eachUnit(s, func(_ rune, escape bool) bool {
			total += unitLen(escape)
			return total <= limit
		})
		clipped = total > limit
	}
	budget := limit
	if clipped {
		budget = limit - 1 // room for "…"
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	n := 0
	eachUnit(s, func(r rune, escape bool) bool {
		if budget >= 0 && n+unitLen(escape) > budget {
			return false
		}
		if escape {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		n += unitLen(escape)
		return true
	})
	if !clipped {
		return b.String()
	}
	return strings.TrimRight(b.String(), " \n") + "…"
}

// runes counts code points, the unit of every Discord length limit.
func runes(s string) int { return utf8.RuneCountInString(s) }
