package briefings

import "net/url"

// RedactURL is a URL as errors and logs may show it: its password masked.
// A URL that does not parse is not shown at all, since there is no telling
// which part of it is a secret. Every package that names a configured or
// stored URL (feeds, the LLM endpoint, the database) redacts it here.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
