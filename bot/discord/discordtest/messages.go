package discordtest

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Embed is a rich embed as Discord's API carries it.
type Embed struct {
	Type        string       `json:"type,omitempty"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Timestamp   string       `json:"timestamp,omitempty"`
	Color       int64        `json:"color,omitempty"`
	Footer      *EmbedFooter `json:"footer,omitempty"`
	Image       *EmbedMedia  `json:"image,omitempty"`
	Thumbnail   *EmbedMedia  `json:"thumbnail,omitempty"`
	Author      *EmbedAuthor `json:"author,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
}

// EmbedFooter is an embed's footer.
type EmbedFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

// EmbedMedia is an embed image or thumbnail.
type EmbedMedia struct {
	URL    string `json:"url"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// EmbedAuthor is an embed's author line.
type EmbedAuthor struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

// EmbedField is one name/value field of an embed.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// AllowedMentions is the allowed_mentions object exactly as the sender put
// it: Parse is nil when the sender sent null or left it out, and empty when it
// sent [].
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Roles       []string `json:"roles,omitempty"`
	Users       []string `json:"users,omitempty"`
	RepliedUser bool     `json:"replied_user,omitempty"`
}

// Pings is who a message would notify.
type Pings struct {
	Everyone bool     // @everyone or @here notifies the whole channel
	Users    []string // user ids notified
	Roles    []string // role ids notified
}

// Nobody reports whether the message notifies no one at all.
func (p Pings) Nobody() bool { return !p.Everyone && len(p.Users) == 0 && len(p.Roles) == 0 }

// Message is a message the fake accepted, as tests inspect it.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	AuthorID  string
	Content   string
	Embeds    []Embed
	// EmbedsHidden: the bot lacked Embed Links in the channel, so Discord
	// accepts the message but shows no embeds.
	EmbedsHidden bool
	Flags        int64
	Components   json.RawMessage
	// AllowedMentions as sent; nil when the request had none.
	AllowedMentions *AllowedMentions
	Pings           Pings
	// InteractionID is set for interaction responses and follow-ups.
	InteractionID string
	CreatedAt     time.Time
	EditedAt      time.Time
}

// Seen is the message as a member of the channel sees it: the content,
// then the title, description and fields of each embed shown, one a line.
// Embeds hidden for want of Embed Links add nothing.
func (m Message) Seen() string {
	if m.EmbedsHidden || len(m.Embeds) == 0 {
		return m.Content
	}
	return m.Content + "\n" + embedText(m.Embeds)
}

const (
	messageFlagEphemeral = 1 << 6
	parseUsers           = "users"
	parseRoles           = "roles"
	parseEveryone        = "everyone"
)

// messageInput is a decoded create/edit message body. Nil pointers mean the
// field was absent or null, which matters for edits.
type messageInput struct {
	Content         *string
	Embeds          *[]Embed
	AllowedMentions *AllowedMentions
	Flags           *int64
	Components      json.RawMessage
	StickerIDs      []string
	Poll            json.RawMessage
	Files           int
}

type messageWire struct {
	Content         *string         `json:"content"`
	Embeds          *[]Embed        `json:"embeds"`
	AllowedMentions json.RawMessage `json:"allowed_mentions"`
	Flags           *int64          `json:"flags"`
	Components      json.RawMessage `json:"components"`
	StickerIDs      []string        `json:"sticker_ids"`
	Poll            json.RawMessage `json:"poll"`
}

// decodeMessage parses and validates a message body against Discord's
// limits. It does not decide emptiness: an edit may legitimately omit every
// field, so callers check the merged result with isEmptyMessage.
func decodeMessage(body []byte) (messageInput, *apiError) {
	var w messageWire
	if len(body) == 0 {
		return messageInput{}, errInvalidJSON()
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return messageInput{}, jsonDecodeError(err)
	}
	in := messageInput{Content: w.Content, Embeds: w.Embeds, Flags: w.Flags, StickerIDs: w.StickerIDs}
	if !isJSONNull(w.Components) {
		in.Components = w.Components
	}
	if !isJSONNull(w.Poll) {
		in.Poll = w.Poll
	}
	var f formErrors
	if !isJSONNull(w.AllowedMentions) {
		var am AllowedMentions
		if err := json.Unmarshal(w.AllowedMentions, &am); err != nil {
			f.add([]string{"allowed_mentions"}, "MODEL_TYPE_CONVERT", "Could not interpret allowed_mentions.")
		} else {
			in.AllowedMentions = &am
			validateAllowedMentions(&am, &f)
		}
	}
	if in.Content != nil {
		if n := utf8.RuneCountInString(*in.Content); n > MaxContentLength {
			f.maxLength([]string{"content"}, MaxContentLength)
		}
	}
	if in.Embeds != nil {
		validateEmbeds(*in.Embeds, &f)
	}
	if len(in.Components) > 0 {
		var comps []json.RawMessage
		if err := json.Unmarshal(in.Components, &comps); err != nil {
			f.add([]string{"components"}, "MODEL_TYPE_CONVERT", "Could not interpret components as a list.")
		} else if len(comps) > 5 {
			f.maxLength([]string{"components"}, 5)
		}
	}
	if len(in.StickerIDs) > 3 {
		f.maxLength([]string{"sticker_ids"}, 3)
	}
	if err := f.apiError(); err != nil {
		return messageInput{}, err
	}
	return in, nil
}

func isJSONNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

func validateAllowedMentions(am *AllowedMentions, f *formErrors) {
	for i, p := range am.Parse {
		if p != parseUsers && p != parseRoles && p != parseEveryone {
			f.add([]string{"allowed_mentions", "parse", strconv.Itoa(i)}, "BASE_TYPE_CHOICES",
				"Value must be one of ('roles', 'users', 'everyone').")
		}
	}
	if len(am.Users) > MaxAllowedMentionIDs {
		f.maxLength([]string{"allowed_mentions", "users"}, MaxAllowedMentionIDs)
	}
	if len(am.Roles) > MaxAllowedMentionIDs {
		f.maxLength([]string{"allowed_mentions", "roles"}, MaxAllowedMentionIDs)
	}
	if slices.Contains(am.Parse, parseUsers) && len(am.Users) > 0 {
		f.add([]string{"allowed_mentions"}, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
			`parse:["users"] and users: [ids...] are mutually exclusive.`)
	}
	if slices.Contains(am.Parse, parseRoles) && len(am.Roles) > 0 {
		f.add([]string{"allowed_mentions"}, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
			`parse:["roles"] and roles: [ids...] are mutually exclusive.`)
	}
}

func validateEmbeds(embeds []Embed, f *formErrors) {
	if len(embeds) > MaxEmbedsPerMessage {
		f.maxLength([]string{"embeds"}, MaxEmbedsPerMessage)
	}
	total := 0
	for i, e := range embeds {
		total += embedSize(e)
		validateEmbed([]string{"embeds", strconv.Itoa(i)}, e, f)
	}
	if total > MaxEmbedTotal {
		f.add([]string{"embeds"}, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	}
}

// embedSize is what counts towards the 6000-character budget.
func embedSize(e Embed) int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, fl := range e.Fields {
		n += utf8.RuneCountInString(fl.Name) + utf8.RuneCountInString(fl.Value)
	}
	if e.Footer != nil {
		n += utf8.RuneCountInString(e.Footer.Text)
	}
	if e.Author != nil {
		n += utf8.RuneCountInString(e.Author.Name)
	}
	return n
}

func validateEmbed(path []string, e Embed, f *formErrors) {
	checkMax := func(field string, s string, limit int) {
		if utf8.RuneCountInString(s) > limit {
			f.maxLength(pathWith(path, field), limit)
		}
	}
	checkMax("title", e.Title, MaxEmbedTitle)
	checkMax("description", e.Description, MaxEmbedDescription)
	if e.URL != "" {
		checkURL(pathWith(path, "url"), e.URL, false, f)
	}
	if e.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, e.Timestamp); err != nil {
			f.add(pathWith(path, "timestamp"), "DATE_TIME_TYPE_PARSE", "Could not parse "+strconv.Quote(e.Timestamp)+". Should be ISO8601.")
		}
	}
	if e.Color < 0 {
		f.add(pathWith(path, "color"), "NUMBER_TYPE_MIN", "int value should be greater than or equal to 0.")
	} else if e.Color > MaxEmbedColor {
		f.add(pathWith(path, "color"), "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.")
	}
	if e.Footer != nil {
		fp := pathWith(path, "footer")
		if e.Footer.Text == "" {
			f.required(pathWith(fp, "text"))
		}
		if utf8.RuneCountInString(e.Footer.Text) > MaxEmbedFooterText {
			f.maxLength(pathWith(fp, "text"), MaxEmbedFooterText)
		}
		if e.Footer.IconURL != "" {
			checkURL(pathWith(fp, "icon_url"), e.Footer.IconURL, true, f)
		}
	}
	if e.Author != nil {
		ap := pathWith(path, "author")
		if e.Author.Name == "" {
			f.required(pathWith(ap, "name"))
		}
		if utf8.RuneCountInString(e.Author.Name) > MaxEmbedAuthorName {
			f.maxLength(pathWith(ap, "name"), MaxEmbedAuthorName)
		}
		if e.Author.URL != "" {
			checkURL(pathWith(ap, "url"), e.Author.URL, false, f)
		}
		if e.Author.IconURL != "" {
			checkURL(pathWith(ap, "icon_url"), e.Author.IconURL, true, f)
		}
	}
	for _, media := range []struct {
		name string
		m    *EmbedMedia
	}{{"image", e.Image}, {"thumbnail", e.Thumbnail}} {
		if media.m == nil {
			continue
		}
		if media.m.URL == "" {
			f.required(pathWith(path, media.name, "url"))
			continue
		}
		checkURL(pathWith(path, media.name, "url"), media.m.URL, true, f)
	}
	if len(e.Fields) > MaxEmbedFields {
		f.maxLength(pathWith(path, "fields"), MaxEmbedFields)
	}
	for i, fl := range e.Fields {
		fp := pathWith(path, "fields", strconv.Itoa(i))
		if fl.Name == "" {
			f.required(pathWith(fp, "name"))
		} else if utf8.RuneCountInString(fl.Name) > MaxEmbedFieldName {
			f.maxLength(pathWith(fp, "name"), MaxEmbedFieldName)
		}
		if fl.Value == "" {
			f.required(pathWith(fp, "value"))
		} else if utf8.RuneCountInString(fl.Value) > MaxEmbedFieldValue {
			f.maxLength(pathWith(fp, "value"), MaxEmbedFieldValue)
		}
	}
}

const maxURLLength = 2048

func checkURL(path []string, raw string, allowAttachment bool, f *formErrors) {
	if utf8.RuneCountInString(raw) > maxURLLength {
		f.maxLength(path, maxURLLength)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		f.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
		return
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "http" || scheme == "https":
		if u.Host == "" {
			f.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
		}
	case scheme == "attachment" && allowAttachment:
	default:
		f.add(path, "URL_TYPE_INVALID_SCHEME",
			"Scheme "+strconv.Quote(u.Scheme)+" is not supported. Scheme must be one of ('http', 'https').")
	}
}

// isEmptyMessage: Discord refuses (50006) a message with nothing to show.
// Whitespace-only content counts as empty.
func isEmptyMessage(content string, embeds []Embed, components json.RawMessage, stickers []string, poll json.RawMessage, files int) bool {
	if strings.TrimSpace(content) != "" || len(embeds) > 0 || len(stickers) > 0 || len(poll) > 0 || files > 0 {
		return false
	}
	if len(components) > 0 {
		var comps []json.RawMessage
		if json.Unmarshal(components, &comps) == nil && len(comps) > 0 {
			return false
		}
	}
	return true
}

// mentionsInContent is every mention token Discord's parser recognises.
type mentionsInContent struct {
	Everyone bool // @everyone or @here
	Users    []string
	Roles    []string
}

// parseMentions finds @everyone, @here, <@id>, <@!id> and <@&id>. It is
// deliberately more eager than Discord's renderer: mentions inside code spans
// or after a backslash count too, because whether Discord skips them is
// undocumented — the only dependable way to ping nobody is allowed_mentions.
func parseMentions(content string) mentionsInContent {
	var m mentionsInContent
	if strings.Contains(content, "@everyone") || strings.Contains(content, "@here") {
		m.Everyone = true
	}
	for i := 0; i < len(content); i++ {
		if content[i] != '<' || i+1 >= len(content) || content[i+1] != '@' {
			continue
		}
		j := i + 2
		role := false
		if j < len(content) && (content[j] == '!' || content[j] == '&') {
			role = content[j] == '&'
			j++
		}
		start := j
		for j < len(content) && content[j] >= '0' && content[j] <= '9' {
			j++
		}
		if j == start || j >= len(content) || content[j] != '>' || j-start > 20 {
			continue
		}
		id := content[start:j]
		if role {
			if !slices.Contains(m.Roles, id) {
				m.Roles = append(m.Roles, id)
			}
		} else if !slices.Contains(m.Users, id) {
			m.Users = append(m.Users, id)
		}
		i = j
	}
	return m
}

// pingContext is what, besides the message, decides who is notified.
type pingContext struct {
	// defaultParse applies when allowed_mentions is absent: everything for
	// channel messages, users only for interactions and webhooks.
	defaultParse       []string
	canMentionEveryone bool
	roleMentionable    func(roleID string) bool
}

var (
	messageDefaultParse = []string{parseUsers, parseRoles, parseEveryone}
	webhookDefaultParse = []string{parseUsers}
)

// computePings applies allowed_mentions to the mentions in content. A
// present allowed_mentions with a null parse list is treated like an absent
// one: Discord does not document it, and the stricter reading makes a sender
// that relies on it fail a "nobody pinged" assertion here rather than ping a
// server in production. Send "parse": [] to suppress pings.
func computePings(content string, am *AllowedMentions, pc pingContext) Pings {
	m := parseMentions(content)
	parse := pc.defaultParse
	var users, roles []string
	if am != nil {
		if am.Parse != nil {
			parse = am.Parse
		}
		users, roles = am.Users, am.Roles
	}
	var p Pings
	if m.Everyone && slices.Contains(parse, parseEveryone) && pc.canMentionEveryone {
		p.Everyone = true
	}
	for _, id := range m.Users {
		if slices.Contains(parse, parseUsers) || slices.Contains(users, id) {
			p.Users = append(p.Users, id)
		}
	}
	for _, id := range m.Roles {
		if !slices.Contains(parse, parseRoles) && !slices.Contains(roles, id) {
			continue
		}
		if pc.canMentionEveryone || (pc.roleMentionable != nil && pc.roleMentionable(id)) {
			p.Roles = append(p.Roles, id)
		}
	}
	return p
}
