package telegramtest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entity is a MessageEntity as the Bot API returns it; offsets and lengths are
// in UTF-16 code units of the parsed text.
type Entity struct {
	Type           string `json:"type"`
	Offset         int    `json:"offset"`
	Length         int    `json:"length"`
	URL            string `json:"url,omitempty"`
	Language       string `json:"language,omitempty"`
	CustomEmojiID  string `json:"custom_emoji_id,omitempty"`
	UnixTime       int64  `json:"unix_time,omitempty"`
	DateTimeFormat string `json:"date_time_format,omitempty"`
}

// ParseError is why ParseHTML rejected a text, worded as the Bot API words it
// after "Bad Request: can't parse entities: ".
type ParseError struct {
	Message string
	// ByteOffset is where in the input the problem starts, or -1 when the
	// server's message names no offset (an unclosed tag found at the end).
	ByteOffset int
}

func (e *ParseError) Error() string { return e.Message }

func parseErrorAt(offset int, format string, args ...any) *ParseError {
	return &ParseError{Message: fmt.Sprintf(format, args...) + fmt.Sprintf(" at byte offset %d", offset), ByteOffset: offset}
}

// supportedTags are the HTML tags of https://core.telegram.org/bots/api#html-style.
var supportedTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "code": true, "pre": true, "blockquote": true,
	"tg-spoiler": true, "span": true, "tg-emoji": true, "tg-time": true,
}

// openTag is a start tag waiting for its end tag.
type openTag struct {
	name       string
	argument   string // href, code language, span class without "tg-", emoji id
	unixTime   string // tg-time
	format     string // tg-time
	expandable bool   // blockquote
	offset     int    // UTF-16 offset of the entity in the parsed text
	begin      int    // byte offset of the entity in the parsed text
}

// isSpace is tdlib's: NUL counts as space because tdlib reads a NUL-terminated
// string, so the end of the text stops every scan exactly like a space does.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 || c == '\v'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ParseHTML parses text in the Bot API's HTML parse mode and returns the plain
// text a user sees and its entities, or a *ParseError worded like the server's.
// It never panics, whatever the input.
func ParseHTML(text string) (plain string, entities []Entity, err error) {
	if !utf8.ValidString(text) {
		return "", nil, &ParseError{Message: "Strings must be encoded in UTF-8", ByteOffset: -1}
	}
	at := func(i int) byte {
		if i < len(text) {
			return text[i]
		}
		return 0
	}
	var out strings.Builder
	utf16Offset := 0
	var stack []openTag

	for i := 0; i < len(text); {
		c := text[i]
		if c == '&' {
			r, n, ok := decodeEntity(text, i)
			if !ok {
				return "", nil, parseErrorAt(i, `Character "&" must be escaped as "&amp;"`)
			}
			out.WriteRune(r)
			utf16Offset += utf16Len(r)
			i += n
			continue
		}
		if c != '<' {
			out.WriteByte(c)
			if c&0xC0 != 0x80 { // the first byte of a character
				utf16Offset++
			}
			if c >= 0xF0 { // four bytes: a surrogate pair in UTF-16
				utf16Offset++
			}
			i++
			continue
		}

		begin := i
		i++
		if at(i) != '/' {
			for !isSpace(at(i)) && at(i) != '>' {
				i++
			}
			if at(i) == 0 {
				return "", nil, parseErrorAt(begin, "Unclosed start tag")
			}
			tag := openTag{name: strings.ToLower(text[begin+1 : i])}
			if !supportedTags[tag.name] {
				return "", nil, parseErrorAt(begin, "Unsupported start tag %q", tag.name)
			}
			for at(i) != '>' {
				for at(i) != 0 && isSpace(at(i)) {
					i++
				}
				if at(i) == '>' {
					break
				}
				nameBegin := i
				for !isSpace(at(i)) && at(i) != '=' && at(i) != '>' {
					i++
				}
				attribute := strings.ToLower(text[nameBegin:i])
				if attribute == "" {
					return "", nil, parseErrorAt(begin, "Empty attribute name in the tag %q", tag.name)
				}
				for at(i) != 0 && isSpace(at(i)) {
					i++
				}
				if at(i) != '=' {
					if tag.name == "blockquote" && attribute == "expandable" {
						tag.expandable = true
						continue
					}
					return "", nil, parseErrorAt(begin, "Expected equal sign in declaration of an attribute of the tag %q", tag.name)
				}
				i++
				for at(i) != 0 && isSpace(at(i)) {
					i++
				}
				if at(i) == 0 {
					return "", nil, parseErrorAt(begin, "Unclosed start tag %q", tag.name)
				}
				var value strings.Builder
				if q := at(i); q != '\'' && q != '"' {
					// An unquoted name token: letters, digits, periods, hyphens.
					tokenBegin := i
					for isAlnum(at(i)) || at(i) == '.' || at(i) == '-' {
						i++
					}
					value.WriteString(strings.ToLower(text[tokenBegin:i]))
					if !isSpace(at(i)) && at(i) != '>' {
						return "", nil, parseErrorAt(tokenBegin, "Unexpected end of name token")
					}
				} else {
					i++
					for i < len(text) && text[i] != q {
						if text[i] == '&' {
							r, n, ok := decodeEntity(text, i)
							if !ok {
								return "", nil, parseErrorAt(i, `Character "&" must be escaped as "&amp;"`)
							}
							value.WriteRune(r)
							i += n
							continue
						}
						value.WriteByte(text[i])
						i++
					}
					if at(i) == q {
						i++
					}
				}
				if at(i) == 0 {
					return "", nil, parseErrorAt(begin, "Unclosed start tag")
				}
				v := value.String()
				switch {
				case tag.name == "a" && attribute == "href":
					tag.argument = v
				case tag.name == "code" && attribute == "class" && strings.HasPrefix(v, "language-"):
					tag.argument = strings.TrimPrefix(v, "language-")
				case tag.name == "span" && attribute == "class" && strings.HasPrefix(v, "tg-"):
					tag.argument = strings.TrimPrefix(v, "tg-")
				case tag.name == "tg-emoji" && attribute == "emoji-id":
					tag.argument = v
				case tag.name == "tg-time" && attribute == "unix":
					tag.unixTime = v
				case tag.name == "tg-time" && attribute == "format":
					tag.format = v
				}
			}
			i++ // the '>'
			if tag.name == "span" && tag.argument != "spoiler" {
				return "", nil, parseErrorAt(begin, `Tag "span" must have class "tg-spoiler"`)
			}
			tag.offset, tag.begin = utf16Offset, out.Len()
			stack = append(stack, tag)
			continue
		}

		// An end tag.
		if len(stack) == 0 {
			return "", nil, parseErrorAt(begin, "Unexpected end tag")
		}
		for !isSpace(at(i)) && at(i) != '>' {
			i++
		}
		endName := strings.ToLower(text[begin+2 : i])
		for at(i) != 0 && isSpace(at(i)) {
			i++
		}
		if at(i) != '>' {
			return "", nil, parseErrorAt(begin, "Unclosed end tag")
		}
		i++
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if endName != "" && endName != top.name {
			return "", nil, &ParseError{
				Message:    fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, endName),
				ByteOffset: begin,
			}
		}
		if utf16Offset > top.offset {
			var perr *ParseError
			entities, perr = appendEntity(entities, top, utf16Offset-top.offset, out.String()[top.begin:])
			if perr != nil {
				return "", nil, perr
			}
		}
	}
	if len(stack) > 0 {
		return "", nil, &ParseError{
			Message:    fmt.Sprintf("Can't find end tag corresponding to start tag %q", stack[len(stack)-1].name),
			ByteOffset: -1,
		}
	}
	for k := range entities {
		if entities[k].Type == "code" {
			entities[k].Language = ""
		}
	}
	sort.SliceStable(entities, func(a, b int) bool {
		if entities[a].Offset != entities[b].Offset {
			return entities[a].Offset < entities[b].Offset
		}
		return entities[a].Length > entities[b].Length
	})
	return out.String(), entities, nil
}

// appendEntity turns a closed, non-empty tag into its entity, as tdlib does.
func appendEntity(entities []Entity, tag openTag, length int, inner string) ([]Entity, *ParseError) {
	e := Entity{Offset: tag.offset, Length: length}
	sameSpan := func(typ string) bool {
		if len(entities) == 0 {
			return false
		}
		last := entities[len(entities)-1]
		return last.Type == typ && last.Offset == e.Offset && last.Length == e.Length
	}
	switch tag.name {
	case "b", "strong":
		e.Type = "bold"
	case "i", "em":
		e.Type = "italic"
	case "u", "ins":
		e.Type = "underline"
	case "s", "strike", "del":
		e.Type = "strikethrough"
	case "tg-spoiler", "span":
		e.Type = "spoiler"
	case "blockquote":
		e.Type = "blockquote"
		if tag.expandable {
			e.Type = "expandable_blockquote"
		}
	case "tg-emoji":
		id, err := strconv.ParseInt(tag.argument, 10, 64)
		if err != nil || id == 0 {
			return nil, &ParseError{Message: "Invalid custom emoji identifier specified", ByteOffset: -1}
		}
		e.Type, e.CustomEmojiID = "custom_emoji", tag.argument
	case "tg-time":
		unix, err := strconv.ParseInt(tag.unixTime, 10, 64)
		if err != nil || unix <= 0 {
			return nil, &ParseError{Message: "Invalid Unix time specified", ByteOffset: -1}
		}
		e.Type, e.UnixTime, e.DateTimeFormat = "date_time", unix, tag.format
	case "a":
		link := tag.argument
		if link == "" {
			link = inner
		}
		checked, ok := checkLink(link)
		if !ok {
			// The server drops a link it cannot use and keeps the text.
			return entities, nil
		}
		e.Type, e.URL = "text_link", checked
	case "pre":
		if sameSpan("code") && entities[len(entities)-1].Language != "" {
			entities[len(entities)-1].Type = "pre"
			return entities, nil
		}
		e.Type = "pre"
	case "code":
		if tag.argument != "" && sameSpan("pre") {
			// <code class="language-x"> right inside <pre>: a pre with a language.
			entities[len(entities)-1].Language = tag.argument
			return entities, nil
		}
		// The language rides along until a surrounding <pre> claims it;
		// ParseHTML drops it from entities that stay "code".
		e.Type, e.Language = "code", tag.argument
	default:
		return entities, nil
	}
	return append(entities, e), nil
}

// checkLink accepts what a user could open: an http(s), tg or ton URL, or a
// host without a scheme (taken as http).
func checkLink(link string) (string, bool) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "", false
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ton":
		if u.Host == "" {
			return "", false
		}
	case "tg":
	case "":
		withScheme, err := url.Parse("http://" + link)
		if err != nil || withScheme.Host == "" || !strings.Contains(withScheme.Host, ".") {
			return "", false
		}
		return withScheme.String(), true
	default:
		return "", false
	}
	return u.String(), true
}

// decodeEntity decodes the HTML entity starting at text[i] == '&' and returns
// the character and the entity's length in bytes. Only &lt; &gt; &amp; &quot;
// and numeric entities exist in the Bot API, and the fake requires the ';'.
func decodeEntity(text string, i int) (r rune, n int, ok bool) {
	at := func(j int) byte {
		if j < len(text) {
			return text[j]
		}
		return 0
	}
	j := i + 1
	if at(j) == '#' {
		j++
		base := 10
		if at(j) == 'x' {
			base = 16
			j++
		}
		digitsBegin := j
		for isDigit(at(j), base) {
			j++
		}
		// tdlib gives up on entities of 10 bytes or more; so do we, which
		// also keeps the value far from overflowing.
		if j == digitsBegin || j-i >= 10 {
			return 0, 0, false
		}
		v, err := strconv.ParseUint(text[digitsBegin:j], base, 32)
		if err != nil || v == 0 || v >= 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) {
			return 0, 0, false
		}
		r = rune(v)
	} else {
		for at(j) >= 'a' && at(j) <= 'z' || at(j) >= 'A' && at(j) <= 'Z' {
			j++
		}
		switch text[i+1 : j] {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "quot":
			r = '"'
		default:
			return 0, 0, false
		}
	}
	if at(j) != ';' {
		return 0, 0, false
	}
	return r, j + 1 - i, true
}

func isDigit(c byte, base int) bool {
	if c >= '0' && c <= '9' {
		return true
	}
	return base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
}

// utf16Len is how many UTF-16 code units r takes.
func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// UTF16Length is the length of s in UTF-16 code units, the unit of the Bot
// API's text limits and entity offsets.
func UTF16Length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Len(r)
	}
	return n
}
