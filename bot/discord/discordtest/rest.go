package discordtest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

func (s *Server) getGateway(q *restRequest) (int, any, *apiError) {
	return http.StatusOK, map[string]any{"url": s.GatewayURL()}, nil
}

func (s *Server) getGatewayBot(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneIdentifiesLocked(q.now)
	resetAfter := int64(0)
	if len(s.identifyLog) > 0 {
		resetAfter = s.identifyLog[0].Add(24 * time.Hour).Sub(q.now).Milliseconds()
	}
	joined := 0
	for _, g := range s.guilds {
		if !g.left {
			joined++
		}
	}
	shards := max(1, (joined+999)/1000)
	return http.StatusOK, map[string]any{
		"url":    s.GatewayURL(),
		"shards": shards,
		"session_start_limit": map[string]any{
			"total": IdentifiesPerDay, "remaining": IdentifiesPerDay - len(s.identifyLog),
			"reset_after": resetAfter, "max_concurrency": 1,
		},
	}, nil
}

func (s *Server) pruneIdentifiesLocked(now time.Time) {
	cut := 0
	for cut < len(s.identifyLog) && now.Sub(s.identifyLog[cut]) >= 24*time.Hour {
		cut++
	}
	s.identifyLog = s.identifyLog[cut:]
}

func (s *Server) getUser(q *restRequest) (int, any, *apiError) {
	id := q.param(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "@me" {
		u := s.userJSONLocked(s.botUserID)
		u["verified"] = true
		u["mfa_enabled"] = false
		u["flags"] = 0
		return http.StatusOK, u, nil
	}
	if _, ok := s.users[id]; !ok {
		return 0, nil, newAPIError(http.StatusNotFound, CodeUnknownUser, "Unknown User")
	}
	return http.StatusOK, s.userJSONLocked(id), nil
}

// channelForBotLocked resolves a channel the bot wants to read: unknown is
// 404 10003, invisible is 403 50001.
func (s *Server) channelForBotLocked(id string) (*channel, *guild, int64, *apiError) {
	ch, ok := s.channels[id]
	if !ok {
		return nil, nil, 0, errUnknownChannel()
	}
	g := s.guilds[ch.guildID]
	perms := g.channelPermissions(ch, s.botUserID)
	if g.left || perms&PermissionViewChannel == 0 {
		return nil, nil, 0, errMissingAccess()
	}
	return ch, g, perms, nil
}

func (s *Server) getChannel(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, _, _, err := s.channelForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.channelJSONLocked(ch, true), nil
}

func (s *Server) createMessage(q *restRequest) (int, any, *apiError) {
	in, decodeErr := decodeMessage(q.body)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, g, perms, err := s.channelForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	if perms&PermissionSendMessages == 0 {
		return 0, nil, errMissingPermissions()
	}
	if decodeErr != nil {
		return 0, nil, decodeErr
	}
	content := deref(in.Content)
	var embeds []Embed
	if in.Embeds != nil {
		embeds = *in.Embeds
	}
	if isEmptyMessage(content, embeds, in.Components, in.StickerIDs, in.Poll, q.files) {
		return 0, nil, errEmptyMessage()
	}
	// Without Embed Links, Discord posts a message's embeds hidden, and
	// refuses a message that would show nothing at all (discord-api-docs
	// issues #1657, #2211).
	embedsHidden := len(embeds) > 0 && perms&PermissionEmbedLinks == 0
	if embedsHidden && isEmptyMessage(content, nil, in.Components, in.StickerIDs, in.Poll, q.files) {
		return 0, nil, errMissingPermissions()
	}
	m := &Message{
		ID: s.newIDLocked(), ChannelID: ch.id, GuildID: g.id, AuthorID: s.botUserID,
		Content: content, Embeds: embeds, Flags: deref(in.Flags), Components: in.Components,
		AllowedMentions: in.AllowedMentions, CreatedAt: q.now.UTC(),
		EmbedsHidden: embedsHidden,
		Pings:        computePings(content, in.AllowedMentions, s.pingContextLocked(g, perms, messageDefaultParse)),
	}
	ch.messages = append(ch.messages, m)
	s.stats.MessagesCreated++
	return http.StatusOK, s.messageJSONLocked(m), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (s *Server) pingContextLocked(g *guild, perms int64, defaultParse []string) pingContext {
	return pingContext{
		defaultParse:       defaultParse,
		canMentionEveryone: perms&PermissionMentionEveryone != 0,
		roleMentionable: func(id string) bool {
			r := g.role(id)
			return r != nil && r.mentionable
		},
	}
}

func (s *Server) listMessages(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, _, perms, err := s.channelForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	if perms&PermissionReadMessageHistory == 0 {
		return http.StatusOK, []any{}, nil
	}
	limit := 50
	if v, convErr := strconv.Atoi(q.r.URL.Query().Get("limit")); convErr == nil && v >= 1 && v <= 100 {
		limit = v
	}
	out := []any{}
	for i := len(ch.messages) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, s.messageJSONLocked(ch.messages[i]))
	}
	return http.StatusOK, out, nil
}

func (s *Server) messageJSONLocked(m *Message) map[string]any {
	mentions := []any{}
	for _, id := range m.Pings.Users {
		if _, ok := s.users[id]; ok {
			mentions = append(mentions, s.userJSONLocked(id))
		}
	}
	embeds := m.Embeds
	if embeds == nil || m.EmbedsHidden {
		embeds = []Embed{}
	}
	shown := make([]Embed, len(embeds))
	for i, e := range embeds {
		if e.Type == "" {
			e.Type = "rich"
		}
		shown[i] = e
	}
	mentionRoles := m.Pings.Roles
	if mentionRoles == nil {
		mentionRoles = []string{}
	}
	out := map[string]any{
		"id": m.ID, "type": 0, "channel_id": m.ChannelID, "author": s.userJSONLocked(m.AuthorID),
		"content": m.Content, "timestamp": m.CreatedAt.Format(time.RFC3339Nano), "edited_timestamp": nil,
		"tts": false, "mention_everyone": m.Pings.Everyone, "mentions": mentions, "mention_roles": mentionRoles,
		"attachments": []any{}, "embeds": shown, "pinned": false, "flags": m.Flags, "components": []any{},
	}
	if len(m.Components) > 0 {
		out["components"] = m.Components
	}
	if !m.EditedAt.IsZero() {
		out["edited_timestamp"] = m.EditedAt.Format(time.RFC3339Nano)
	}
	if m.InteractionID != "" {
		out["type"] = 20 // CHAT_INPUT_COMMAND reply
		out["webhook_id"] = s.appID
		out["application_id"] = s.appID
	}
	return out
}

func (s *Server) guildForBotLocked(id string) (*guild, *apiError) {
	g, ok := s.guilds[id]
	if !ok {
		return nil, errUnknownGuild()
	}
	if g.left {
		return nil, errMissingAccess()
	}
	return g, nil
}

func (s *Server) getGuild(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.guildForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.guildJSONLocked(g), nil
}

func (s *Server) getGuildRoles(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.guildForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	roles := make([]any, 0, len(g.roles))
	for _, r := range g.roles {
		roles = append(roles, roleJSON(r))
	}
	return http.StatusOK, roles, nil
}

func (s *Server) getGuildChannels(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.guildForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	out := make([]any, 0, len(g.channelIDs))
	for _, id := range g.channelIDs {
		out = append(out, s.channelJSONLocked(s.channels[id], true))
	}
	return http.StatusOK, out, nil
}

func (s *Server) getGuildMember(q *restRequest) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.guildForBotLocked(q.param(1))
	if err != nil {
		return 0, nil, err
	}
	m, ok := g.members[q.param(3)]
	if !ok {
		return 0, nil, newAPIError(http.StatusNotFound, CodeUnknownMember, "Unknown Member")
	}
	return http.StatusOK, s.memberJSONLocked(g, m, true, nil), nil
}

// sortedKeys is for deterministic output in tests and payloads.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
