package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Page furniture is told from the story by its shape, not by a list of the
// lines we have seen: a web page's extractor lets through captions, bylines,
// link labels, sign-up boxes, consent notices and share prompts, and each
// outlet words them its own way. Four shapes are recognized:
//
//   - a boilerplate phrase that no story sentence needs ("click here", "all
//     rights reserved", "privacy policy", a URL);
//   - a call to action: a short sentence opening with an imperative verb of
//     the page ("Sign up", "Follow", "Share", "Read", "Download") aimed at the
//     reader or at the page ("… our newsletter", "… here", "… the app");
//   - the site speaking to the reader about itself: a short sentence, not a
//     quotation, in the site's voice ("we", "our", "you") with a word of the
//     page's own business (newsletter, cookies, subscribe, inbox, app);
//   - a furniture label: "Photo: …", "Related: …", "Read more: …", "Watch:
//     …", and, in cased text, a byline ("By Jane Smith and John Doe, CNN") or
//     a short line of names with no lower-case word ("AP Photo/Evan Vucci.").

// junkPhrases mark boilerplate wherever they are. Each is matched as a run
// of words (by hash), so "e-mail" is "e mail".
var junkPhrases = phraseTable(
	"click here", "tap here", "e mail to a friend", "email to a friend", "all rights reserved",
	"read more", "http", "https", "www", "getty images", "scroll down", "watch the video",
	"daily mail reporter", "associated press contributed", "contributed to this report",
	"this story has been", "this article has been", "this article was originally",
	"terms of use", "terms of service", "privacy policy", "cookie policy", "cookie settings",
	"pic twitter com", "enable javascript",
)

// openingPhrases mark boilerplate when a sentence opens with them: "The
// entry-level model was last updated in July" is a story's sentence.
var openingPhrases = phraseTable(
	"last updated", "reporting by", "editing by", "additional reporting", "writing by",
	"originally published",
)

// junkMarks are boilerplate marks with punctuation in them, matched as text.
var junkMarks = []string{"©", "published:", "updated:", "PUBLISHED:", "UPDATED:", "follow @", "Follow @"}

// maxFurnitureWords is the longest sentence a call to action is looked for
// in, and maxSiteVoiceWords the longest for the site's voice: furniture is
// short, and a longer sentence with "you" and "subscribe" in it is more
// likely a story about subscriptions.
const (
	maxFurnitureWords = 30
	maxSiteVoiceWords = 20
)

// actionVerbs open a call to action.
var actionVerbs = hashSet("click", "tap", "sign", "subscribe", "follow", "share", "read", "watch",
	"listen", "download", "join", "register", "log", "enter", "see", "support", "donate",
	"continue", "learn", "find", "discover", "explore", "visit", "check", "get",
	"bookmark", "comment", "send", "tell", "view")

// actionObjects are what a call to action points at: the page, its channels,
// the site ("us", "our"). "You" and "your" are not among them: a how-to
// article's advice ("Try listening to your body") is the story.
var actionObjects = hashSet("our", "us", "here", "below", "above", "newsletter",
	"newsletters", "app", "apps", "link", "links", "podcast", "podcasts", "video", "videos",
	"gallery", "story", "stories", "updates", "latest", "email", "inbox", "free", "today",
	"facebook", "twitter", "instagram", "youtube", "whatsapp", "telegram", "tiktok", "linkedin",
	"rss", "more", "full", "article", "coverage", "alerts", "notifications", "page",
	"site", "website", "comments", "thoughts", "subscription", "account", "offer", "trial",
	"access", "unlimited")

// siteVoice is the page speaking to the reader or of itself; siteWe only of
// itself.
var (
	siteVoice = hashSet("you", "your", "our", "us", "we", "yours")
	siteWe    = hashSet("our", "us", "we")
)

// pageWords are the page's own business: a short sentence in the site's
// voice with one of them is about the page, not the story. productWords are
// that only when the site speaks of itself ("our app"), since "you have an
// app" or "your browser" may be a story's.
var (
	pageWords = hashSet("newsletter", "newsletters", "subscribe", "subscribed", "subscribing",
		"unsubscribe", "inbox", "cookie", "cookies", "consent", "javascript", "paywall", "login")
	productWords = hashSet("app", "browser", "notifications", "alerts", "podcast", "premium",
		"sponsored", "advertisement", "preferences", "bookmark", "personalise", "personalize",
		"personalised", "personalized", "subscription", "subscriber", "subscribers", "signing")
)

// furnitureLabels are the labels of a caption, a credit or a link, before a
// colon: "Photo: …", "Related: …", "Read more: …".
var furnitureLabels = hashSet("photo", "photos", "photograph", "photographs", "image", "images",
	"picture", "pictures", "pic", "caption", "credit", "credits", "video", "videos", "watch",
	"listen", "gallery", "graphic", "illustration", "related", "more", "read", "recommended",
	"trending", "advertisement", "sponsored", "source", "sources", "pictured", "audio", "podcast",
	"also", "see", "explore", "latest", "popular", "featured", "copyright", "file", "editor",
	"editors", "update", "updated", "published", "posted", "share", "follow", "subscribe", "topics",
	"tags", "filed", "opinion", "analysis", "live", "breaking", "exclusive", "newsletter", "media")

// bylineWords may follow "By" in a byline besides names.
var bylineWords = hashSet("and", "de", "van", "von", "der", "la", "le", "du", "da", "del", "di",
	"in", "for", "of", "the", "at", "staff", "reporter", "reporters", "correspondent", "editor",
	"writer", "writers", "contributor", "senior", "political", "chief", "news", "bin", "al", "el")

// isBoilerplate reports whether a cleaned sentence is page furniture.
func isBoilerplate(text string, toks []token, cased bool) bool {
	if hasPhrase(toks, junkPhrases) || opensWith(toks, openingPhrases) || hasJunkMark(text) {
		return true
	}
	if len(toks) == 0 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text)
	quoted := isQuote(r) || hasQuote(text, false)
	if len(toks) <= maxFurnitureWords && !quoted {
		if toks[0].class&classAction != 0 && hasClass(toks[1:], classActionObject) {
			return true
		}
		if len(toks) <= maxSiteVoiceWords && (hasClass(toks, classSiteVoice) && hasClass(toks, classPageWord) ||
			hasClass(toks, classSiteWe) && hasClass(toks, classProductWord)) {
			return true
		}
	}
	return cased && (isByline(text) || isCredit(text))
}

// opensWith reports whether toks start with one of the phrases.
func opensWith(toks []token, table map[uint64][][]uint64) bool {
	if len(toks) == 0 {
		return false
	}
phrases:
	for _, p := range table[toks[0].hash] {
		if len(p) > len(toks) {
			continue
		}
		for k := 1; k < len(p); k++ {
			if toks[k].hash != p[k] {
				continue phrases
			}
		}
		return true
	}
	return false
}

func hasClass(toks []token, class uint16) bool {
	for _, t := range toks {
		if t.class&class != 0 {
			return true
		}
	}
	return false
}

// furnitureLabel reports whether s opens with the label of a caption, a
// credit or a link: up to three words and a colon, each word a furniture
// label ("Photo:", "READ MORE:", "See also:"), an agency's capitals ("AP
// Photo:") or a linking word ("Also in the news:"). "The message read:"
// has a subject and is a sentence's lead-in. Two or more label words may
// end in a comma instead ("Image caption, Firefighters …").
func furnitureLabel(s string) bool {
	i := strings.IndexAny(s, ":,")
	if i <= 0 || i > 30 {
		return false
	}
	words, labels := 0, 0
	ok := true
	spaceFields(s[:i], func(w string) {
		words++
		w = strings.Trim(w, ".,|-–—*[]()")
		h := hashFold(w)
		switch {
		case furnitureLabels[h]:
			labels++
		case (labelLinks[h] || isAcronym(w)) && s[i] == ':':
		default:
			ok = false
		}
	})
	if !ok || words == 0 || words > 3 || s[i] == ',' && words < 2 {
		return false
	}
	return labels > 0 && (s[i] == ':' || labels == words)
}

// spaceFields calls f with each space-separated field of s.
func spaceFields(s string, f func(string)) {
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return
		}
		w := s
		if j := strings.IndexByte(s, ' '); j >= 0 {
			w, s = s[:j], s[j:]
		} else {
			s = ""
		}
		f(w)
	}
}

// labelLinks may stand in a furniture label beside the label words.
var labelLinks = hashSet("in", "the", "on", "this", "of", "news", "full", "story", "stories", "now", "our")

// isByline reports whether a cased sentence is a byline: "By" and up to
// eleven more words, each a capitalized name, a byline word ("staff",
// "correspondent") or a separator.
func isByline(s string) bool {
	if !strings.HasPrefix(s, "By ") && !strings.HasPrefix(s, "BY ") {
		return false
	}
	words, names := 0, 0
	ok := true
	spaceFields(s[3:], func(w string) {
		words++
		w = strings.Trim(w, ".,;|-–—:()")
		if w == "" {
			return
		}
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case unicode.IsUpper(r):
			names++
		case bylineWords[hashFold(w)]:
		default:
			ok = false
		}
	})
	return ok && words <= 11 && names > 0
}

// isCredit reports whether a short cased sentence has no word in lower case:
// a credit or a name line ("AP Photo/Evan Vucci.", "Getty Images/iStockphoto."),
// never a sentence of a story.
func isCredit(s string) bool {
	if strings.Count(s, " ") > 12 {
		return false // far longer than six words: no credit
	}
	words := 0
	lower := false
	fieldsFunc(s, func(w string) {
		words++
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLower(r) {
			lower = true
		}
	})
	return words > 0 && words <= 6 && !lower
}

// hashFold is hashWord of the lower-cased word, without building it.
func hashFold(w string) uint64 {
	h := uint64(fnvOffset)
	for _, r := range w {
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			h = (h ^ uint64(r)) * fnvPrime
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			h = (h ^ uint64(b)) * fnvPrime
		}
	}
	return h
}
