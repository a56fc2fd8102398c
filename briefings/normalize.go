package briefings

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"unicode"
)

// trackingParams are query parameters that say how a reader arrived, not
// which article they read.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "mc_cid": true, "mc_eid": true,
	"igshid": true, "yclid": true, "_hsenc": true, "_hsmi": true, "ref": true, "ref_src": true,
	"cmpid": true, "ito": true, "ns_mchannel": true, "ns_source": true, "ns_campaign": true,
}

// NormalizeLink reduces an article address to what identifies the article:
// lower-case scheme and host, no "www.", no fragment, no tracking parameters
// (utm_* and the usual click ids), remaining parameters sorted, no trailing
// slash, http and https alike. A string that is not an absolute URL is
// returned trimmed, so it still compares equal to itself.
func NormalizeLink(link string) string {
	link = strings.TrimSpace(link)
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
			q.Del(k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("//")
	b.WriteString(host)
	b.WriteString(strings.TrimRight(u.EscapedPath(), "/"))
	for i, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for j, v := range vs {
			if i == 0 && j == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

// leadRunes is how much of an item's text, after normalization, identifies it
// together with its title: enough to tell apart two items with one headline,
// little enough that a feed appending a "Read more" line does not make an old
// item new.
const leadRunes = 280

// ContentHash is a hex digest of the normalized title and lead: letters and
// digits only, lower-cased, single-spaced.
func ContentHash(title, text string) string {
	h := sha256.New()
	h.Write([]byte(normalizeText(title, 0)))
	h.Write([]byte{0})
	h.Write([]byte(normalizeText(text, leadRunes)))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func normalizeText(s string, limit int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if limit > 0 && n >= limit {
			break
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
				n++
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
			n++
		} else {
			space = true
		}
	}
	return b.String()
}
