package briefings

import (
	"slices"
	"strings"
	"unicode"
)

// Topics filters stories by words: a story matches when it mentions at least
// one Include word (or Include is empty) and no Exclude word.
type Topics struct {
	Include []string
	Exclude []string
}

// IsZero reports whether the filter lets every story through.
func (t Topics) IsZero() bool { return len(t.Include) == 0 && len(t.Exclude) == 0 }

// Key is a canonical text form of the filter, equal for equal filters.
func (t Topics) Key() string {
	inc := slices.Clone(t.Include)
	exc := slices.Clone(t.Exclude)
	slices.Sort(inc)
	slices.Sort(exc)
	return strings.Join(inc, ",") + "|" + strings.Join(exc, ",")
}

// String shows the filter as a user would type it: "+ukraine -sport".
func (t Topics) String() string {
	var parts []string
	for _, w := range t.Include {
		parts = append(parts, "+"+w)
	}
	for _, w := range t.Exclude {
		parts = append(parts, "-"+w)
	}
	return strings.Join(parts, " ")
}

// NormalizeTopic lower-cases a topic word and trims punctuation around it; it
// returns "" for a word with no letters or digits.
func NormalizeTopic(w string) string {
	w = strings.ToLower(strings.TrimFunc(w, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	}))
	return w
}

// With returns the filter after adding and removing words. Adding a word to
// one list takes it off the other, so "+sport" undoes an earlier "-sport".
func (t Topics) With(include, exclude, remove []string) Topics {
	out := Topics{Include: slices.Clone(t.Include), Exclude: slices.Clone(t.Exclude)}
	drop := func(list []string, w string) []string {
		return slices.DeleteFunc(list, func(x string) bool { return x == w })
	}
	add := func(list []string, w string) []string {
		if slices.Contains(list, w) {
			return list
		}
		return append(list, w)
	}
	for _, w := range include {
		if w = NormalizeTopic(w); w != "" {
			out.Exclude = drop(out.Exclude, w)
			out.Include = add(out.Include, w)
		}
	}
	for _, w := range exclude {
		if w = NormalizeTopic(w); w != "" {
			out.Include = drop(out.Include, w)
			out.Exclude = add(out.Exclude, w)
		}
	}
	for _, w := range remove {
		w = NormalizeTopic(w)
		out.Include = drop(out.Include, w)
		out.Exclude = drop(out.Exclude, w)
	}
	return out
}

// Matches reports whether a story passes the filter. Words match whole words of
// the headline, summary or item titles and texts, case-insensitively, and also
// as a prefix, so "ukrain" and "ukraine" both match "Ukrainian".
func (t Topics) Matches(s Story) bool {
	if t.IsZero() {
		return true
	}
	words := storyWords(s)
	has := func(topic string) bool {
		for w := range words {
			if strings.HasPrefix(w, topic) {
				return true
			}
		}
		return false
	}
	for _, w := range t.Exclude {
		if has(w) {
			return false
		}
	}
	if len(t.Include) == 0 {
		return true
	}
	for _, w := range t.Include {
		if has(w) {
			return true
		}
	}
	return false
}

func storyWords(s Story) map[string]struct{} {
	words := make(map[string]struct{})
	add := func(text string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsNumber(r)
		}) {
			words[w] = struct{}{}
		}
	}
	add(s.Headline)
	for _, line := range s.Summary {
		add(line)
	}
	for _, it := range s.Items {
		add(it.Title)
		add(it.Text)
	}
	return words
}
