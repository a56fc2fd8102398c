package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// InteractionKind is the kind of interaction a test makes a user perform.
type InteractionKind int

const (
	// InteractionCommand is a slash command (interaction type 2).
	InteractionCommand InteractionKind = iota
	// InteractionAutocomplete is the client asking for choices while the
	// user types the focused option (interaction type 4).
	InteractionAutocomplete
)

// Interaction callback types (interactions/receiving-and-responding).
const (
	CallbackPong                   = 1
	CallbackChannelMessage         = 4
	CallbackDeferredChannelMessage = 5
	CallbackDeferredUpdateMessage  = 6
	CallbackUpdateMessage          = 7
	CallbackAutocompleteResult     = 8
	CallbackModal                  = 9
)

const (
	interactionTypePing         = 1
	interactionTypeCommand      = 2
	interactionTypeAutocomplete = 4
)

// Interaction describes what a user does in the Discord client.
type Interaction struct {
	Kind      InteractionKind
	GuildID   string
	ChannelID string
	UserID    string // must be a member of the guild (AddMember)
	Name      string // a registered CHAT_INPUT command
	Options   []Option
	Locale    string // the user's client locale; default "en-US"
	// EndpointURL, when set, delivers the interaction by a signed HTTP POST
	// to this URL instead of the gateway (overriding the server-wide one set
	// by VerifyInteractionsEndpoint).
	EndpointURL string
	// OverrideCommandPermissions models a server admin granting this member
	// a command whose default_member_permissions they lack (Server Settings →
	// Integrations). Without it Discord hides the command and the fake
	// refuses the interaction.
	OverrideCommandPermissions bool
}

// Option is a value the user entered. Values are strings, bools, integers
// or floats; user, channel, role and mentionable options take the id as a
// string. Sub-commands and groups carry their Options instead of a Value.
type Option struct {
	Name    string
	Value   any
	Focused bool // autocomplete only: the option being typed (Value is the partial text)
	Options []Option
}

// Reply is what the user sees of the bot's answer so far.
type Reply struct {
	Acknowledged      bool
	CallbackType      int
	AcknowledgedAfter time.Duration
	// Final: the user sees an answer rather than "… is thinking".
	Final           bool
	Content         string
	Embeds          []Embed
	Flags           int64
	Ephemeral       bool
	AllowedMentions *AllowedMentions
	Pings           Pings
	Edits           int // PATCHes of the original response
	Followups       []Message
	Choices         []CommandChoice // autocomplete result
	ModalCustomID   string
	ModalTitle      string
}

// EmbedText is the text of the reply's embeds as a reader sees it, one line
// per title, description and field, for tests to search.
func (r Reply) EmbedText() string { return embedText(r.Embeds) }

func embedText(embeds []Embed) string {
	var b strings.Builder
	for _, e := range embeds {
		b.WriteString(e.Title + "\n" + e.Description + "\n")
		for _, f := range e.Fields {
			b.WriteString(f.Name + ": " + f.Value + "\n")
		}
	}
	return b.String()
}

type interactionRecord struct {
	id, token                 string
	kind                      int
	guildID, channelID        string
	userID                    string
	createdAt                 time.Time
	deadline, expiresAt       time.Time
	acked                     bool
	callbackType              int
	ackedAt                   time.Time
	original                  *Message // nil until a message callback; deleted → nil
	originalShown             bool
	originalFlags             int64
	edits                     int
	followups                 []*Message
	choices                   []CommandChoice
	modalCustomID, modalTitle string
	failure                   error
	changed                   chan struct{}
	windowClosed              chan struct{}
	timers                    []*time.Timer
	appPermissions            int64
}

func (rec *interactionRecord) notifyLocked() {
	close(rec.changed)
	rec.changed = make(chan struct{})
}

func (rec *interactionRecord) stopTimers() {
	for _, t := range rec.timers {
		t.Stop()
	}
}

func (rec *interactionRecord) finalLocked() bool {
	switch rec.callbackType {
	case CallbackChannelMessage, CallbackUpdateMessage, CallbackAutocompleteResult, CallbackModal, CallbackPong:
		return true
	case CallbackDeferredChannelMessage, CallbackDeferredUpdateMessage:
		return rec.originalShown || len(rec.followups) > 0
	}
	return false
}

func (rec *interactionRecord) replyLocked() Reply {
	r := Reply{
		Acknowledged: rec.acked, CallbackType: rec.callbackType, Final: rec.finalLocked(),
		Edits: rec.edits, Choices: slices.Clone(rec.choices),
		ModalCustomID: rec.modalCustomID, ModalTitle: rec.modalTitle, Flags: rec.originalFlags,
	}
	if rec.acked {
		r.AcknowledgedAfter = rec.ackedAt.Sub(rec.createdAt)
	}
	if rec.original != nil {
		m := cloneMessage(rec.original)
		r.Content, r.Embeds, r.Flags = m.Content, m.Embeds, m.Flags
		r.AllowedMentions, r.Pings = m.AllowedMentions, m.Pings
	}
	r.Ephemeral = r.Flags&messageFlagEphemeral != 0
	for _, f := range rec.followups {
		r.Followups = append(r.Followups, cloneMessage(f))
	}
	return r
}

// InteractionHandle follows one interaction from dispatch to final answer.
type InteractionHandle struct {
	s   *Server
	rec *interactionRecord
}

// ID is the interaction id.
func (h *InteractionHandle) ID() string { return h.rec.id }

// Token is the interaction token (a secret: keep it out of logs).
func (h *InteractionHandle) Token() string { return h.rec.token }

// ResponseWindowClosed is closed when the initial-response window
// (Options.InteractionDeadline, 3 s by default) has passed, acknowledged or
// not. Tests use it to answer late on purpose without sleeping.
func (h *InteractionHandle) ResponseWindowClosed() <-chan struct{} { return h.rec.windowClosed }

// Reply returns the answer as it stands now.
func (h *InteractionHandle) Reply() Reply {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.rec.replyLocked()
}

// Await waits until the user sees a final answer: a message (type 4, or a
// deferral completed by an edit or follow-up), autocomplete choices or a
// modal. It fails with ErrNotAcknowledged when the window passes without an
// acknowledgement, ErrTokenExpired when a deferral is never completed,
// ErrInteractionFailed when an HTTP endpoint answered badly, or ctx's error.
func (h *InteractionHandle) Await(ctx context.Context) (Reply, error) {
	return h.AwaitFunc(ctx, func(r Reply) bool { return r.Final })
}

// AwaitFunc waits until done reports true for the reply (for instance after
// a number of edits), with Await's failures.
func (h *InteractionHandle) AwaitFunc(ctx context.Context, done func(Reply) bool) (Reply, error) {
	for {
		h.s.mu.Lock()
		r := h.rec.replyLocked()
		failure := h.rec.failure
		changed := h.rec.changed
		h.s.mu.Unlock()
		if done(r) {
			return r, nil
		}
		if failure != nil {
			return r, failure
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return r, fmt.Errorf("discordtest: await interaction %s: %w", h.rec.id, ctx.Err())
		case <-h.s.closed:
			return r, ErrServerClosed
		}
	}
}

// Interact makes a user perform an interaction. It is dispatched as
// INTERACTION_CREATE over the gateway or POSTed, signed, to the HTTP
// interactions endpoint, exactly as Discord would; the handle awaits the
// answer. It refuses interactions a real client could not produce.
func (s *Server) Interact(ctx context.Context, in Interaction) (*InteractionHandle, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discordtest: interact: %w", err)
	}
	s.mu.Lock()
	rec, payload, err := s.newInteractionLocked(in)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	endpoint := in.EndpointURL
	if endpoint == "" {
		endpoint = s.endpointURL
	}
	if endpoint == "" {
		if !s.dispatchInteractionLocked(rec.guildID, payload) {
			s.forgetInteractionLocked(rec)
			s.mu.Unlock()
			return nil, fmt.Errorf("discordtest: interact in guild %s: %w", rec.guildID, ErrGatewayNotConnected)
		}
		s.mu.Unlock()
		return &InteractionHandle{s: s, rec: rec}, nil
	}
	// Added under the lock that checked s.closed, so Close never waits on a
	// WaitGroup that is still growing.
	s.background.Add(1)
	s.mu.Unlock()
	body, err := json.Marshal(payload)
	if err != nil {
		s.background.Done()
		return nil, fmt.Errorf("discordtest: interact: encode payload: %w", err)
	}
	go func() {
		defer s.background.Done()
		s.deliverHTTP(rec, endpoint, body)
	}()
	return &InteractionHandle{s: s, rec: rec}, nil
}

func (s *Server) forgetInteractionLocked(rec *interactionRecord) {
	rec.stopTimers()
	delete(s.interactions, rec.id)
	delete(s.interactionsByToken, rec.token)
}

func invalidInteraction(format string, args ...any) error {
	return fmt.Errorf("discordtest: interact: %s: %w", fmt.Sprintf(format, args...), ErrInvalidInteraction)
}

func (s *Server) newInteractionLocked(in Interaction) (*interactionRecord, map[string]any, error) {
	select {
	case <-s.closed:
		return nil, nil, ErrServerClosed
	default:
	}
	g, ok := s.guilds[in.GuildID]
	if !ok || g.left {
		return nil, nil, fmt.Errorf("discordtest: interact: guild %q (with the bot in it): %w", in.GuildID, ErrUnknownEntity)
	}
	ch, ok := s.channels[in.ChannelID]
	if !ok || ch.guildID != g.id {
		return nil, nil, fmt.Errorf("discordtest: interact: channel %q in guild %s: %w", in.ChannelID, g.id, ErrUnknownEntity)
	}
	m, ok := g.members[in.UserID]
	if !ok {
		return nil, nil, fmt.Errorf("discordtest: interact: member %q of guild %s: %w", in.UserID, g.id, ErrUnknownEntity)
	}
	memberPerms := g.channelPermissions(ch, in.UserID)
	if memberPerms&PermissionViewChannel == 0 {
		return nil, nil, invalidInteraction("member %s cannot see channel %s", in.UserID, ch.id)
	}
	if memberPerms&PermissionUseApplicationCommands == 0 {
		return nil, nil, invalidInteraction("member %s lacks Use Application Commands in channel %s", in.UserID, ch.id)
	}
	cmd := s.lookupCommandLocked(g, in.Name)
	if cmd == nil {
		return nil, nil, invalidInteraction("no command %q registered for guild %s or globally", in.Name, g.id)
	}
	if dmp := cmd.DefaultMemberPermissions; dmp != nil && !in.OverrideCommandPermissions {
		admin := memberPerms&PermissionAdministrator != 0 || in.UserID == g.ownerID
		if !admin && (*dmp == 0 || memberPerms&*dmp != *dmp) {
			return nil, nil, invalidInteraction("command %q is hidden from member %s (default_member_permissions %d)", cmd.Name, in.UserID, *dmp)
		}
	}
	kind := interactionTypeCommand
	autocomplete := in.Kind == InteractionAutocomplete
	if autocomplete {
		kind = interactionTypeAutocomplete
	}
	res := &resolvedSet{}
	focused := 0
	opts, err := s.buildOptionsLocked(cmd.Options, in.Options, g, in.UserID, autocomplete, res, &focused)
	if err != nil {
		return nil, nil, err
	}
	if autocomplete && focused != 1 {
		return nil, nil, invalidInteraction("an autocomplete interaction has exactly one focused option, got %d", focused)
	}
	if !autocomplete && focused != 0 {
		return nil, nil, invalidInteraction("focused options only exist in autocomplete interactions")
	}

	now := time.Now()
	rec := &interactionRecord{
		id: s.newIDLocked(), token: "aW50ZXJhY3Rpb24" + randomHex(40), kind: kind,
		guildID: g.id, channelID: ch.id, userID: in.UserID, createdAt: now,
		deadline: now.Add(s.opts.InteractionDeadline), expiresAt: now.Add(s.opts.InteractionTokenLifetime),
		changed: make(chan struct{}), windowClosed: make(chan struct{}),
		appPermissions: g.channelPermissions(ch, s.botUserID),
	}
	s.interactions[rec.id] = rec
	s.interactionsByToken[rec.token] = rec
	rec.timers = append(rec.timers,
		time.AfterFunc(s.opts.InteractionDeadline, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			close(rec.windowClosed)
			if !rec.acked && rec.failure == nil {
				rec.failure = ErrNotAcknowledged
				rec.notifyLocked()
			}
		}),
		time.AfterFunc(s.opts.InteractionTokenLifetime, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !rec.finalLocked() && rec.failure == nil {
				rec.failure = ErrTokenExpired
				rec.notifyLocked()
			}
		}),
	)

	locale := in.Locale
	if locale == "" {
		locale = "en-US"
	}
	data := map[string]any{"id": cmd.ID, "name": cmd.Name, "type": CommandTypeChatInput}
	if len(opts) > 0 {
		data["options"] = opts
	}
	if r := res.json(); r != nil {
		data["resolved"] = r
	}
	if cmd.GuildID != "" {
		data["guild_id"] = cmd.GuildID
	}
	partialChannel := map[string]any{
		"id": ch.id, "type": ch.kind, "name": ch.name, "guild_id": g.id, "flags": 0,
		"permissions": strconv.FormatInt(memberPerms, 10), "nsfw": false, "parent_id": nil,
	}
	payload := map[string]any{
		"id": rec.id, "application_id": s.appID, "type": kind, "token": rec.token, "version": 1,
		"guild_id": g.id, "channel_id": ch.id, "channel": partialChannel,
		"guild":           map[string]any{"id": g.id, "locale": "en-US", "features": []string{}},
		"member":          s.memberJSONLocked(nil, m, true, &memberPerms),
		"app_permissions": strconv.FormatInt(rec.appPermissions, 10),
		"locale":          locale, "guild_locale": "en-US", "entitlements": []any{},
		"authorizing_integration_owners": map[string]string{"0": g.id}, "context": 0,
		"data": data,
	}
	return rec, payload, nil
}

type resolvedSet struct {
	users, members, roles, channels map[string]any
}

func (r *resolvedSet) put(kind *map[string]any, id string, v any) {
	if *kind == nil {
		*kind = map[string]any{}
	}
	(*kind)[id] = v
}

func (r *resolvedSet) json() map[string]any {
	out := map[string]any{}
	for name, m := range map[string]map[string]any{"users": r.users, "members": r.members, "roles": r.roles, "channels": r.channels} {
		if len(m) > 0 {
			out[name] = m
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// buildOptionsLocked turns the test's options into data.options, checking
// them against the registered definition the way the client does.
func (s *Server) buildOptionsLocked(defs []CommandOption, given []Option, g *guild, userID string, autocomplete bool, res *resolvedSet, focused *int) ([]any, error) {
	out := []any{}
	seen := map[string]bool{}
	subCommands := 0
	for _, opt := range given {
		var def *CommandOption
		for i := range defs {
			if defs[i].Name == opt.Name {
				def = &defs[i]
			}
		}
		if def == nil {
			return nil, invalidInteraction("unknown option %q", opt.Name)
		}
		if seen[opt.Name] {
			return nil, invalidInteraction("option %q given twice", opt.Name)
		}
		seen[opt.Name] = true
		if def.Type == OptionSubCommand || def.Type == OptionSubCommandGroup {
			subCommands++
			if opt.Value != nil || opt.Focused {
				return nil, invalidInteraction("sub-command %q takes options, not a value", opt.Name)
			}
			nested, err := s.buildOptionsLocked(def.Options, opt.Options, g, userID, autocomplete, res, focused)
			if err != nil {
				return nil, err
			}
			entry := map[string]any{"name": def.Name, "type": def.Type}
			if len(nested) > 0 {
				entry["options"] = nested
			}
			out = append(out, entry)
			continue
		}
		if len(opt.Options) > 0 {
			return nil, invalidInteraction("option %q is not a sub-command", opt.Name)
		}
		if opt.Focused {
			if !autocomplete || !def.Autocomplete {
				return nil, invalidInteraction("option %q cannot be focused (autocomplete not enabled)", opt.Name)
			}
			partial, ok := opt.Value.(string)
			if !ok && opt.Value != nil {
				return nil, invalidInteraction("focused option %q carries the typed text as a string", opt.Name)
			}
			*focused++
			out = append(out, map[string]any{"name": def.Name, "type": def.Type, "value": partial, "focused": true})
			continue
		}
		v, err := s.optionValueLocked(def, opt.Value, g, userID, res)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"name": def.Name, "type": def.Type, "value": v})
	}
	hasSubs := false
	for _, d := range defs {
		if d.Type == OptionSubCommand || d.Type == OptionSubCommandGroup {
			hasSubs = true
		}
		if d.Required && !seen[d.Name] && !autocomplete {
			return nil, invalidInteraction("required option %q missing", d.Name)
		}
	}
	if hasSubs && subCommands != 1 {
		return nil, invalidInteraction("exactly one sub-command must be chosen, got %d", subCommands)
	}
	return out, nil
}

func (s *Server) optionValueLocked(def *CommandOption, value any, g *guild, userID string, res *resolvedSet) (any, error) {
	switch def.Type {
	case OptionString:
		v, ok := value.(string)
		if !ok {
			return nil, invalidInteraction("option %q wants a string, got %T", def.Name, value)
		}
		n := utf8.RuneCountInString(v)
		if (def.MinLength != nil && n < *def.MinLength) || (def.MaxLength != nil && n > *def.MaxLength) || n > MaxOptionStringLength {
			return nil, invalidInteraction("option %q: length %d outside the allowed range", def.Name, n)
		}
		return v, checkChoice(def, v)
	case OptionInteger, OptionNumber:
		f, ok := toFloat(value)
		if !ok {
			return nil, invalidInteraction("option %q wants a number, got %T", def.Name, value)
		}
		if def.Type == OptionInteger && (f != float64(int64(f)) || f > maxSafeJSONInteger || f < -maxSafeJSONInteger) {
			return nil, invalidInteraction("option %q wants an integer, got %v", def.Name, value)
		}
		if (def.MinValue != nil && f < *def.MinValue) || (def.MaxValue != nil && f > *def.MaxValue) {
			return nil, invalidInteraction("option %q: %v outside the allowed range", def.Name, f)
		}
		return f, checkChoice(def, f)
	case OptionBoolean:
		v, ok := value.(bool)
		if !ok {
			return nil, invalidInteraction("option %q wants a bool, got %T", def.Name, value)
		}
		return v, nil
	case OptionUser, OptionChannel, OptionRole, OptionMentionable:
		id, ok := value.(string)
		if !ok {
			return nil, invalidInteraction("option %q wants an id string, got %T", def.Name, value)
		}
		if (def.Type == OptionUser || def.Type == OptionMentionable) && s.resolveUserLocked(id, g, res) {
			return id, nil
		}
		if (def.Type == OptionRole || def.Type == OptionMentionable) && g.role(id) != nil {
			res.put(&res.roles, id, roleJSON(g.role(id)))
			return id, nil
		}
		if def.Type == OptionChannel {
			ch, ok := s.channels[id]
			if !ok || ch.guildID != g.id {
				return nil, invalidInteraction("option %q: channel %s is not in guild %s", def.Name, id, g.id)
			}
			if len(def.ChannelTypes) > 0 && !slices.Contains(def.ChannelTypes, ch.kind) {
				return nil, invalidInteraction("option %q: channel type %d not offered", def.Name, ch.kind)
			}
			perms := g.channelPermissions(ch, userID)
			res.put(&res.channels, id, map[string]any{
				"id": ch.id, "name": ch.name, "type": ch.kind, "guild_id": g.id, "parent_id": nil, "flags": 0,
				"permissions": strconv.FormatInt(perms, 10), "nsfw": false,
			})
			return id, nil
		}
		return nil, invalidInteraction("option %q: %s is not something the client would offer", def.Name, id)
	}
	return nil, invalidInteraction("option %q of type %d cannot be filled by the fake", def.Name, def.Type)
}

func (s *Server) resolveUserLocked(id string, g *guild, res *resolvedSet) bool {
	if _, ok := s.users[id]; !ok {
		return false
	}
	res.put(&res.users, id, s.userJSONLocked(id))
	if m, ok := g.members[id]; ok {
		perms := g.basePermissions(id)
		res.put(&res.members, id, s.memberJSONLocked(nil, m, false, &perms))
	}
	return true
}

func checkChoice(def *CommandOption, v any) error {
	if len(def.Choices) == 0 {
		return nil
	}
	for _, c := range def.Choices {
		if c.Value == v {
			return nil
		}
	}
	return invalidInteraction("option %q: %v is not one of its choices", def.Name, v)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// --- callbacks and interaction webhooks ------------------------------------

type callbackWire struct {
	Type *int            `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (s *Server) interactionCallback(q *restRequest) (int, any, *apiError) {
	var cb callbackWire
	if err := json.Unmarshal(q.body, &cb); err != nil {
		return 0, nil, jsonDecodeError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.interactions[q.param(1)]
	if rec == nil || rec.token != q.param(2) {
		return 0, nil, errUnknownInteraction()
	}
	if err := s.applyCallbackLocked(rec, cb, q.now, q.files); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// applyCallbackLocked is the initial response, whichever way it arrives.
func (s *Server) applyCallbackLocked(rec *interactionRecord, cb callbackWire, now time.Time, files int) *apiError {
	if rec.acked {
		return newAPIError(http.StatusBadRequest, CodeAlreadyAcknowledged, "Interaction has already been acknowledged.")
	}
	if !now.Before(rec.deadline) {
		return errUnknownInteraction()
	}
	if cb.Type == nil {
		var f formErrors
		f.required([]string{"type"})
		return f.apiError()
	}
	allowed := map[int][]int{
		interactionTypePing:         {CallbackPong},
		interactionTypeCommand:      {CallbackChannelMessage, CallbackDeferredChannelMessage, CallbackModal},
		interactionTypeAutocomplete: {CallbackAutocompleteResult},
	}[rec.kind]
	typ := *cb.Type
	if !slices.Contains(allowed, typ) {
		var f formErrors
		f.add([]string{"type"}, "INTERACTION_RESPONSE_TYPE_INVALID",
			fmt.Sprintf("Interaction response type %d is not valid for interaction type %d.", typ, rec.kind))
		return f.apiError()
	}
	switch typ {
	case CallbackChannelMessage:
		body := cb.Data
		if isJSONNull(body) {
			body = json.RawMessage("{}")
		}
		in, err := decodeMessage(body)
		if err != nil {
			return err
		}
		m, err := s.newInteractionMessageLocked(rec, in, files, now)
		if err != nil {
			return err
		}
		rec.original = m
		rec.originalShown = true
		s.showInChannelLocked(m)
	case CallbackDeferredChannelMessage:
		var d struct {
			Flags int64 `json:"flags"`
		}
		if !isJSONNull(cb.Data) {
			if err := json.Unmarshal(cb.Data, &d); err != nil {
				return jsonDecodeError(err)
			}
		}
		rec.originalFlags = d.Flags
		rec.original = &Message{
			ID: s.newIDLocked(), ChannelID: rec.channelID, GuildID: rec.guildID, AuthorID: s.botUserID,
			Flags: d.Flags, InteractionID: rec.id, CreatedAt: now.UTC(),
		}
	case CallbackAutocompleteResult:
		choices, err := decodeAutocompleteChoices(cb.Data)
		if err != nil {
			return err
		}
		rec.choices = choices
	case CallbackModal:
		var d struct {
			CustomID   string            `json:"custom_id"`
			Title      string            `json:"title"`
			Components []json.RawMessage `json:"components"`
		}
		if err := json.Unmarshal(cb.Data, &d); err != nil {
			return jsonDecodeError(err)
		}
		var f formErrors
		if n := utf8.RuneCountInString(d.CustomID); n < 1 || n > 100 {
			f.badLength([]string{"data", "custom_id"}, 1, 100)
		}
		if n := utf8.RuneCountInString(d.Title); n < 1 || n > 45 {
			f.badLength([]string{"data", "title"}, 1, 45)
		}
		if n := len(d.Components); n < 1 || n > 5 {
			f.badLength([]string{"data", "components"}, 1, 5)
		}
		if err := f.apiError(); err != nil {
			return err
		}
		rec.modalCustomID, rec.modalTitle = d.CustomID, d.Title
	}
	rec.acked = true
	rec.callbackType = typ
	rec.ackedAt = now
	rec.notifyLocked()
	return nil
}

func decodeAutocompleteChoices(data json.RawMessage) ([]CommandChoice, *apiError) {
	var d struct {
		Choices []choiceWire `json:"choices"`
	}
	if !isJSONNull(data) {
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, jsonDecodeError(err)
		}
	}
	var f formErrors
	if len(d.Choices) > MaxAutocompleteChoices {
		f.maxLength([]string{"data", "choices"}, MaxAutocompleteChoices)
	}
	out := make([]CommandChoice, 0, len(d.Choices))
	for i, c := range d.Choices {
		p := []string{"data", "choices", strconv.Itoa(i)}
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > MaxChoiceNameLength {
			f.badLength(pathWith(p, "name"), 1, MaxChoiceNameLength)
		}
		var v any
		if err := json.Unmarshal(c.Value, &v); err != nil {
			f.required(pathWith(p, "value"))
			continue
		}
		switch val := v.(type) {
		case string:
			if utf8.RuneCountInString(val) > MaxChoiceStringValueLength {
				f.maxLength(pathWith(p, "value"), MaxChoiceStringValueLength)
			}
		case float64:
		default:
			f.add(pathWith(p, "value"), "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_INVALID", "Choice value must be a string or a number")
		}
		out = append(out, CommandChoice{Name: c.Name, NameLocalizations: c.NameLocalizations, Value: v})
	}
	if err := f.apiError(); err != nil {
		return nil, err
	}
	return out, nil
}

// newInteractionMessageLocked validates a message sent through an
// interaction (response or follow-up). These do not need the bot's Send
// Messages permission, and mention only users by default.
func (s *Server) newInteractionMessageLocked(rec *interactionRecord, in messageInput, files int, now time.Time) (*Message, *apiError) {
	content := deref(in.Content)
	var embeds []Embed
	if in.Embeds != nil {
		embeds = *in.Embeds
	}
	if isEmptyMessage(content, embeds, in.Components, in.StickerIDs, in.Poll, files) {
		return nil, errEmptyMessage()
	}
	g := s.guilds[rec.guildID]
	m := &Message{
		ID: s.newIDLocked(), ChannelID: rec.channelID, GuildID: rec.guildID, AuthorID: s.botUserID,
		Content: content, Embeds: embeds, Flags: deref(in.Flags), Components: in.Components,
		AllowedMentions: in.AllowedMentions, InteractionID: rec.id, CreatedAt: now.UTC(),
	}
	if g != nil {
		m.Pings = computePings(content, in.AllowedMentions, s.pingContextLocked(g, rec.appPermissions, webhookDefaultParse))
	}
	return m, nil
}

// showInChannelLocked puts a visible, non-ephemeral interaction message in
// its channel's history.
func (s *Server) showInChannelLocked(m *Message) {
	if m.Flags&messageFlagEphemeral != 0 {
		return
	}
	if ch, ok := s.channels[m.ChannelID]; ok && !slices.Contains(ch.messages, m) {
		ch.messages = append(ch.messages, m)
	}
}

// webhookRecordLocked resolves /webhooks/{app}/{token}: an unknown token or
// application is 404 10015, an expired one 401 50027, and before the
// initial response there is no webhook yet.
func (s *Server) webhookRecordLocked(q *restRequest) (*interactionRecord, *apiError) {
	rec := s.interactionsByToken[q.param(2)]
	if rec == nil || q.param(1) != s.appID {
		return nil, errUnknownWebhook()
	}
	if !q.now.Before(rec.expiresAt) {
		return nil, errInvalidWebhookToken()
	}
	if !rec.acked {
		return nil, errUnknownWebhook()
	}
	return rec, nil
}

func (rec *interactionRecord) messageByID(id string) *Message {
	if id == "@original" {
		return rec.original
	}
	if rec.original != nil && rec.original.ID == id {
		return rec.original
	}
	for _, f := range rec.followups {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (s *Server) webhookExecute(q *restRequest) (int, any, *apiError) {
	in, decodeErr := decodeMessage(q.body)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.webhookRecordLocked(q)
	if err != nil {
		return 0, nil, err
	}
	if decodeErr != nil {
		return 0, nil, decodeErr
	}
	m, err := s.newInteractionMessageLocked(rec, in, q.files, q.now)
	if err != nil {
		return 0, nil, err
	}
	deferred := rec.callbackType == CallbackDeferredChannelMessage || rec.callbackType == CallbackDeferredUpdateMessage
	if deferred && !rec.originalShown && rec.original != nil {
		// The first follow-up after a deferral completes the original
		// "thinking" message, as Discord documents.
		m.ID = rec.original.ID
		m.Flags |= rec.original.Flags & messageFlagEphemeral
		rec.original = m
		rec.originalShown = true
		rec.edits++
	} else {
		rec.followups = append(rec.followups, m)
	}
	s.showInChannelLocked(m)
	rec.notifyLocked()
	if q.r.URL.Query().Get("wait") != "true" {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusOK, s.messageJSONLocked(m), nil
}

func (s *Server) webhookGetMessage(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.webhookRecordLocked(q)
	if err != nil {
		return 0, nil, err
	}
	m := rec.messageByID(q.param(4))
	if m == nil {
		return 0, nil, errUnknownMessage()
	}
	return http.StatusOK, s.messageJSONLocked(m), nil
}

func (s *Server) webhookEditMessage(q *restRequest) (int, any, *apiError) {
	in, decodeErr := decodeMessage(q.body)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.webhookRecordLocked(q)
	if err != nil {
		return 0, nil, err
	}
	m := rec.messageByID(q.param(4))
	if m == nil {
		return 0, nil, errUnknownMessage()
	}
	if decodeErr != nil {
		return 0, nil, decodeErr
	}
	content, embeds, components := m.Content, m.Embeds, m.Components
	if in.Content != nil {
		content = *in.Content
	}
	if in.Embeds != nil {
		embeds = *in.Embeds
	}
	if in.Components != nil {
		components = in.Components
	}
	if isEmptyMessage(content, embeds, components, in.StickerIDs, in.Poll, q.files) {
		return 0, nil, errEmptyMessage()
	}
	wasShown := m == rec.original && rec.originalShown || m != rec.original
	m.Content, m.Embeds, m.Components = content, embeds, components
	m.AllowedMentions = in.AllowedMentions
	if g := s.guilds[rec.guildID]; g != nil {
		m.Pings = computePings(content, in.AllowedMentions, s.pingContextLocked(g, rec.appPermissions, webhookDefaultParse))
	}
	if wasShown {
		m.EditedAt = q.now.UTC()
	}
	if m == rec.original {
		rec.originalShown = true
		rec.edits++
		s.showInChannelLocked(m)
	}
	rec.notifyLocked()
	return http.StatusOK, s.messageJSONLocked(m), nil
}

func (s *Server) webhookDeleteMessage(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.webhookRecordLocked(q)
	if err != nil {
		return 0, nil, err
	}
	m := rec.messageByID(q.param(4))
	if m == nil {
		return 0, nil, errUnknownMessage()
	}
	if ch, ok := s.channels[m.ChannelID]; ok {
		ch.messages = slices.DeleteFunc(ch.messages, func(x *Message) bool { return x == m })
	}
	if m == rec.original {
		rec.original = nil
	} else {
		rec.followups = slices.DeleteFunc(rec.followups, func(x *Message) bool { return x == m })
	}
	rec.notifyLocked()
	return http.StatusNoContent, nil, nil
}
