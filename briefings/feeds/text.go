package feeds

import (
	"html"
	"regexp"
	"strings"

	"github.com/newsbot/newsbot/briefings/internal/htmltext"
)

// Caps on what one item may carry. Titles longer than this are not titles;
// texts longer than this are whole books, and summaries read the start anyway.
const (
	maxTitleRunes = 500
	maxTextRunes  = 50_000
)

// The feeds' text rules are htmltext's, shared with article pages.
var (
	htmlToText       = htmltext.HTML
	htmlTokensToText = htmltext.Tokens
	plainToText      = htmltext.Plain
	collapseSpace    = htmltext.Line
)

// cleanTitle turns a title, as the feed parser decoded it, into one line of
// plain text. The feed's own escaping has already been undone once, so what
// looks like markup now ("<b>Breaking</b>") is text the outlet escaped on
// purpose and stays as it is. Entities that are still there were escaped
// twice, a common feed bug, and are decoded once more.
func cleanTitle(s string) string {
	return htmltext.Line(decodeEntities(s), maxTitleRunes)
}

var entityPattern = regexp.MustCompile(`&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});`)

// decodeEntities decodes character references that end in ';'. Unlike
// html.UnescapeString it leaves "&copy=2"-style text alone: without the ';'
// it is far more likely a literal ampersand than an entity.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entityPattern.ReplaceAllStringFunc(s, func(ref string) string {
		decoded := html.UnescapeString(ref)
		// A legacy entity name that is only a prefix of ref ("&copyx;" →
		// "©x;") is not a reference to anything.
		if decoded != ";" && strings.HasSuffix(decoded, ";") {
			return ref
		}
		return decoded
	})
}
