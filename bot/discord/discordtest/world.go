package discordtest

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// OverwriteType says whether a permission overwrite targets a role or a member.
type OverwriteType int

// Overwrite targets, as Discord numbers them.
const (
	OverwriteRole   OverwriteType = 0
	OverwriteMember OverwriteType = 1
)

// Overwrite is a channel permission overwrite.
type Overwrite struct {
	ID    string
	Type  OverwriteType
	Allow int64
	Deny  int64
}

const (
	channelTypeGuildText = 0
)

type guild struct {
	id, name, ownerID string
	roles             []*role // roles[0] is @everyone (id == guild id)
	channelIDs        []string
	members           map[string]*member
	commands          []*Command
	botRoleID         string
	joinedAt          time.Time
	// left: the bot was removed; the guild and its channels still exist, so
	// Discord answers 403 Missing Access rather than "unknown".
	left bool
}

type role struct {
	id, name    string
	permissions int64
	position    int
	mentionable bool
	managed     bool
}

type channel struct {
	id, guildID, name string
	kind              int
	position          int
	overwrites        []Overwrite
	messages          []*Message
}

type member struct {
	userID   string
	roles    []string
	joinedAt time.Time
}

type user struct {
	id, username string
	bot          bool
}

func isSnowflake(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// NewID returns a fresh snowflake, for tests that need ids.
func (s *Server) NewID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

func (s *Server) newIDLocked() string {
	ms := uint64(time.Now().UnixMilli() - discordEpochMilliseconds)
	s.idCounter++
	candidate := ms<<22 | (s.idCounter & (1<<22 - 1))
	if candidate <= s.lastID {
		candidate = s.lastID + 1
	}
	s.lastID = candidate
	return strconv.FormatUint(candidate, 10)
}

func (s *Server) ensureUserLocked(id string) *user {
	if u, ok := s.users[id]; ok {
		return u
	}
	u := &user{id: id, username: "user" + id}
	s.users[id] = u
	return u
}

// AddGuild adds a guild the bot is a member of, with an @everyone role
// carrying DefaultEveryonePermissions and the bot's managed role carrying
// Options.BotPermissions. Connected gateway sessions get GUILD_CREATE.
func (s *Server) AddGuild(id, name string) error {
	if !isSnowflake(id) {
		return fmt.Errorf("discordtest: add guild: id %q is not a snowflake", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.guilds[id]; ok {
		if !g.left {
			return fmt.Errorf("discordtest: add guild %s: already exists", id)
		}
		// Invited back: same guild, fresh membership.
		g.left = false
		g.joinedAt = time.Now().UTC()
		g.members[s.botUserID] = &member{userID: s.botUserID, roles: []string{g.botRoleID}, joinedAt: g.joinedAt}
		s.dispatchLocked(id, "GUILD_CREATE", s.guildCreateJSONLocked(g))
		return nil
	}
	owner := s.newIDLocked()
	s.ensureUserLocked(owner)
	now := time.Now().UTC()
	g := &guild{id: id, name: name, ownerID: owner, members: map[string]*member{}, joinedAt: now}
	g.roles = append(g.roles, &role{id: id, name: "@everyone", permissions: DefaultEveryonePermissions})
	g.botRoleID = s.newIDLocked()
	g.roles = append(g.roles, &role{id: g.botRoleID, name: s.botName, permissions: s.opts.BotPermissions, position: 1, managed: true})
	g.members[owner] = &member{userID: owner, joinedAt: now}
	g.members[s.botUserID] = &member{userID: s.botUserID, roles: []string{g.botRoleID}, joinedAt: now}
	s.guilds[id] = g
	s.dispatchLocked(id, "GUILD_CREATE", s.guildCreateJSONLocked(g))
	return nil
}

// RemoveGuild removes the bot from a guild (kicked): gateway sessions get
// GUILD_DELETE and its channels answer 403 Missing Access from then on.
// AddGuild with the same id invites the bot back.
func (s *Server) RemoveGuild(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[id]
	if !ok || g.left {
		return fmt.Errorf("discordtest: remove guild %s: %w", id, ErrUnknownEntity)
	}
	s.dispatchLocked(id, "GUILD_DELETE", map[string]any{"id": id})
	g.left = true
	delete(g.members, s.botUserID)
	return nil
}

// AddChannel adds a text channel to a guild (CHANNEL_CREATE on the gateway).
func (s *Server) AddChannel(guildID, channelID, name string) error {
	return s.addChannel(guildID, channelID, name, channelTypeGuildText)
}

func (s *Server) addChannel(guildID, channelID, name string, kind int) error {
	if !isSnowflake(channelID) {
		return fmt.Errorf("discordtest: add channel: id %q is not a snowflake", channelID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("discordtest: add channel to guild %s: %w", guildID, ErrUnknownEntity)
	}
	if _, ok := s.channels[channelID]; ok {
		return fmt.Errorf("discordtest: add channel %s: already exists", channelID)
	}
	ch := &channel{id: channelID, guildID: guildID, name: name, kind: kind, position: len(g.channelIDs)}
	s.channels[channelID] = ch
	g.channelIDs = append(g.channelIDs, channelID)
	s.dispatchLocked(guildID, "CHANNEL_CREATE", s.channelJSONLocked(ch, true))
	return nil
}

// RemoveChannel deletes a channel: later sends get 404 10003 Unknown Channel.
func (s *Server) RemoveChannel(channelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("discordtest: remove channel %s: %w", channelID, ErrUnknownEntity)
	}
	g := s.guilds[ch.guildID]
	g.channelIDs = slices.DeleteFunc(g.channelIDs, func(id string) bool { return id == channelID })
	delete(s.channels, channelID)
	s.dispatchLocked(ch.guildID, "CHANNEL_DELETE", s.channelJSONLocked(ch, true))
	return nil
}

// AddRole adds a role to a guild (GUILD_ROLE_CREATE).
func (s *Server) AddRole(guildID, roleID, name string, permissions int64) error {
	if !isSnowflake(roleID) {
		return fmt.Errorf("discordtest: add role: id %q is not a snowflake", roleID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("discordtest: add role to guild %s: %w", guildID, ErrUnknownEntity)
	}
	if g.role(roleID) != nil {
		return fmt.Errorf("discordtest: add role %s: already exists", roleID)
	}
	r := &role{id: roleID, name: name, permissions: permissions, position: len(g.roles)}
	g.roles = append(g.roles, r)
	s.dispatchLocked(guildID, "GUILD_ROLE_CREATE", map[string]any{"guild_id": guildID, "role": roleJSON(r)})
	return nil
}

// SetRolePermissions changes a role's permissions; the @everyone role's id is
// the guild id (GUILD_ROLE_UPDATE).
func (s *Server) SetRolePermissions(guildID, roleID string, permissions int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("discordtest: set role permissions in guild %s: %w", guildID, ErrUnknownEntity)
	}
	r := g.role(roleID)
	if r == nil {
		return fmt.Errorf("discordtest: set permissions of role %s: %w", roleID, ErrUnknownEntity)
	}
	r.permissions = permissions
	s.dispatchLocked(guildID, "GUILD_ROLE_UPDATE", map[string]any{"guild_id": guildID, "role": roleJSON(r)})
	return nil
}

// SetRoleMentionable sets whether anyone may ping a role.
func (s *Server) SetRoleMentionable(guildID, roleID string, mentionable bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("discordtest: set role mentionable in guild %s: %w", guildID, ErrUnknownEntity)
	}
	r := g.role(roleID)
	if r == nil {
		return fmt.Errorf("discordtest: set mentionable of role %s: %w", roleID, ErrUnknownEntity)
	}
	r.mentionable = mentionable
	s.dispatchLocked(guildID, "GUILD_ROLE_UPDATE", map[string]any{"guild_id": guildID, "role": roleJSON(r)})
	return nil
}

// SetBotGuildPermissions sets the permissions of the bot's managed role.
func (s *Server) SetBotGuildPermissions(guildID string, permissions int64) error {
	s.mu.Lock()
	g, ok := s.guilds[guildID]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("discordtest: set bot permissions in guild %s: %w", guildID, ErrUnknownEntity)
	}
	return s.SetRolePermissions(guildID, g.botRoleID, permissions)
}

// SetBotPermissions puts a member overwrite for the bot on a channel; it
// beats every role, so deny=PermissionViewChannel hides the channel.
func (s *Server) SetBotPermissions(channelID string, allow, deny int64) error {
	return s.SetOverwrite(channelID, Overwrite{ID: s.botUserID, Type: OverwriteMember, Allow: allow, Deny: deny})
}

// SetOverwrite adds or replaces a permission overwrite on a channel
// (CHANNEL_UPDATE).
func (s *Server) SetOverwrite(channelID string, ow Overwrite) error {
	if ow.Type != OverwriteRole && ow.Type != OverwriteMember {
		return fmt.Errorf("discordtest: set overwrite: type %d is neither role nor member", ow.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("discordtest: set overwrite on channel %s: %w", channelID, ErrUnknownEntity)
	}
	replaced := false
	for i := range ch.overwrites {
		if ch.overwrites[i].ID == ow.ID && ch.overwrites[i].Type == ow.Type {
			ch.overwrites[i] = ow
			replaced = true
		}
	}
	if !replaced {
		ch.overwrites = append(ch.overwrites, ow)
	}
	s.dispatchLocked(ch.guildID, "CHANNEL_UPDATE", s.channelJSONLocked(ch, true))
	return nil
}

// AddMember adds a user to a guild. The member gets a personal role holding
// permissions, on top of @everyone's.
func (s *Server) AddMember(guildID, userID string, permissions int64) error {
	if !isSnowflake(userID) {
		return fmt.Errorf("discordtest: add member: id %q is not a snowflake", userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("discordtest: add member to guild %s: %w", guildID, ErrUnknownEntity)
	}
	if _, ok := g.members[userID]; ok {
		return fmt.Errorf("discordtest: add member %s: already in guild %s", userID, guildID)
	}
	s.ensureUserLocked(userID)
	r := &role{id: s.newIDLocked(), name: "perms-" + userID, permissions: permissions, position: len(g.roles)}
	g.roles = append(g.roles, r)
	g.members[userID] = &member{userID: userID, roles: []string{r.id}, joinedAt: time.Now().UTC()}
	s.dispatchLocked(guildID, "GUILD_ROLE_CREATE", map[string]any{"guild_id": guildID, "role": roleJSON(r)})
	return nil
}

// SetMemberRoles replaces a member's roles.
func (s *Server) SetMemberRoles(guildID, userID string, roleIDs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("discordtest: set roles in guild %s: %w", guildID, ErrUnknownEntity)
	}
	m, ok := g.members[userID]
	if !ok {
		return fmt.Errorf("discordtest: set roles of member %s: %w", userID, ErrUnknownEntity)
	}
	for _, id := range roleIDs {
		if g.role(id) == nil {
			return fmt.Errorf("discordtest: set roles: role %s: %w", id, ErrUnknownEntity)
		}
	}
	m.roles = append([]string(nil), roleIDs...)
	if userID == s.botUserID {
		s.dispatchLocked(guildID, "GUILD_MEMBER_UPDATE", s.memberJSONLocked(g, m, true, nil))
	}
	return nil
}

// Messages returns the messages accepted in a channel, oldest first.
// Interaction responses appear once they have visible content; ephemeral ones
// never do.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(ch.messages))
	for _, m := range ch.messages {
		out = append(out, cloneMessage(m))
	}
	return out
}

func cloneMessage(m *Message) Message {
	c := *m
	c.Embeds = slices.Clone(m.Embeds)
	c.Components = slices.Clone(m.Components)
	c.Pings.Users = slices.Clone(m.Pings.Users)
	c.Pings.Roles = slices.Clone(m.Pings.Roles)
	if m.AllowedMentions != nil {
		am := *m.AllowedMentions
		c.AllowedMentions = &am
	}
	return c
}

func (g *guild) role(id string) *role {
	for _, r := range g.roles {
		if r.id == id {
			return r
		}
	}
	return nil
}

// basePermissions follows Discord's documented algorithm (topics/permissions
// #permission-overwrites): owner, @everyone, roles, administrator.
func (g *guild) basePermissions(userID string) int64 {
	if _, member := g.members[userID]; !member {
		return 0
	}
	if userID == g.ownerID {
		return PermissionAll
	}
	perms := g.roles[0].permissions
	if m, ok := g.members[userID]; ok {
		for _, rid := range m.roles {
			if r := g.role(rid); r != nil {
				perms |= r.permissions
			}
		}
	}
	if perms&PermissionAdministrator != 0 {
		return PermissionAll
	}
	return perms
}

// channelPermissions applies the channel's overwrites in Discord's order and
// the implicit rules: no View Channel means nothing, and no Send Messages
// removes what only matters when sending.
func (g *guild) channelPermissions(ch *channel, userID string) int64 {
	base := g.basePermissions(userID)
	if base&PermissionAdministrator != 0 || userID == g.ownerID {
		return PermissionAll
	}
	perms := base
	for _, ow := range ch.overwrites {
		if ow.Type == OverwriteRole && ow.ID == g.id {
			perms = perms&^ow.Deny | ow.Allow
		}
	}
	var allow, deny int64
	if m, ok := g.members[userID]; ok {
		for _, ow := range ch.overwrites {
			if ow.Type == OverwriteRole && ow.ID != g.id && slices.Contains(m.roles, ow.ID) {
				allow |= ow.Allow
				deny |= ow.Deny
			}
		}
	}
	perms = perms&^deny | allow
	for _, ow := range ch.overwrites {
		if ow.Type == OverwriteMember && ow.ID == userID {
			perms = perms&^ow.Deny | ow.Allow
		}
	}
	if perms&PermissionViewChannel == 0 {
		return 0
	}
	if perms&PermissionSendMessages == 0 {
		perms &^= PermissionMentionEveryone | PermissionSendTTSMessages | PermissionAttachFiles | PermissionEmbedLinks
	}
	return perms
}

// --- JSON shapes -----------------------------------------------------------

func roleJSON(r *role) map[string]any {
	return map[string]any{
		"id": r.id, "name": r.name, "permissions": strconv.FormatInt(r.permissions, 10),
		"position": r.position, "color": 0, "hoist": false, "managed": r.managed,
		"mentionable": r.mentionable, "icon": nil, "unicode_emoji": nil, "flags": 0,
	}
}

func (s *Server) channelJSONLocked(ch *channel, withGuildID bool) map[string]any {
	ows := make([]map[string]any, 0, len(ch.overwrites))
	for _, ow := range ch.overwrites {
		ows = append(ows, map[string]any{
			"id": ow.ID, "type": int(ow.Type),
			"allow": strconv.FormatInt(ow.Allow, 10), "deny": strconv.FormatInt(ow.Deny, 10),
		})
	}
	out := map[string]any{
		"id": ch.id, "type": ch.kind, "name": ch.name, "position": ch.position,
		"permission_overwrites": ows, "nsfw": false, "topic": nil, "parent_id": nil,
		"rate_limit_per_user": 0, "last_message_id": nil, "flags": 0,
	}
	if n := len(ch.messages); n > 0 {
		out["last_message_id"] = ch.messages[n-1].ID
	}
	if withGuildID {
		out["guild_id"] = ch.guildID
	}
	return out
}

func (s *Server) userJSONLocked(id string) map[string]any {
	u := s.ensureUserLocked(id)
	return map[string]any{
		"id": u.id, "username": u.username, "discriminator": "0", "global_name": nil,
		"avatar": nil, "bot": u.bot, "public_flags": 0,
	}
}

func (s *Server) memberJSONLocked(g *guild, m *member, withUser bool, perms *int64) map[string]any {
	out := map[string]any{
		"roles": slices.Clone(m.roles), "joined_at": m.joinedAt.Format(time.RFC3339Nano),
		"nick": nil, "avatar": nil, "deaf": false, "mute": false, "flags": 0, "pending": false,
		"premium_since": nil, "communication_disabled_until": nil,
	}
	if out["roles"] == nil {
		out["roles"] = []string{}
	}
	if withUser {
		out["user"] = s.userJSONLocked(m.userID)
	}
	if perms != nil {
		out["permissions"] = strconv.FormatInt(*perms, 10)
	}
	if withUser && g != nil {
		out["guild_id"] = g.id
	}
	return out
}

func (s *Server) guildJSONLocked(g *guild) map[string]any {
	roles := make([]map[string]any, 0, len(g.roles))
	for _, r := range g.roles {
		roles = append(roles, roleJSON(r))
	}
	return map[string]any{
		"id": g.id, "name": g.name, "owner_id": g.ownerID, "roles": roles, "emojis": []any{},
		"features": []string{}, "icon": nil, "splash": nil, "verification_level": 0,
		"default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
		"system_channel_id": nil, "preferred_locale": "en-US", "stickers": []any{},
		"premium_tier": 0, "nsfw_level": 0, "application_id": nil, "description": nil,
	}
}

// guildCreateJSONLocked is GUILD_CREATE: the guild plus the extra fields only
// the gateway carries. Channels omit guild_id, as they do on Discord.
func (s *Server) guildCreateJSONLocked(g *guild) map[string]any {
	out := s.guildJSONLocked(g)
	channels := make([]map[string]any, 0, len(g.channelIDs))
	for _, id := range g.channelIDs {
		channels = append(channels, s.channelJSONLocked(s.channels[id], false))
	}
	// Without the privileged GUILD_MEMBERS intent Discord still includes the
	// bot's own member, which is what discordgo's State needs.
	members := []map[string]any{s.memberJSONLocked(g, g.members[s.botUserID], true, nil)}
	out["channels"] = channels
	out["threads"] = []any{}
	out["members"] = members
	out["member_count"] = len(g.members)
	out["joined_at"] = g.joinedAt.Format(time.RFC3339Nano)
	out["large"] = false
	out["unavailable"] = false
	out["voice_states"] = []any{}
	out["presences"] = []any{}
	out["stage_instances"] = []any{}
	out["guild_scheduled_events"] = []any{}
	return out
}
