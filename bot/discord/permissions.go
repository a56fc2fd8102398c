package discord

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// permissionInput is what Discord's permission algorithm reads to decide a
// member's permissions in a channel.
type permissionInput struct {
	GuildID     string
	OwnerID     string
	Roles       []*discordgo.Role // the guild's roles; @everyone's id is the guild's
	Overwrites  []*discordgo.PermissionOverwrite
	MemberID    string
	MemberRoles []string
}

// channelPermissions follows Discord's documented algorithm
// (topics/permissions#permission-overwrites): the owner and administrators
// have everything; otherwise @everyone's role and the member's roles, then
// the channel's @everyone overwrite, the role overwrites together, and the
// member's own overwrite. Without View Channel nothing else counts, and
// without Send Messages neither does Embed Links.
func channelPermissions(in permissionInput) int64 {
	if in.MemberID != "" && in.MemberID == in.OwnerID {
		return permAll
	}
	var base int64
	for _, r := range in.Roles {
		if r != nil && r.ID == in.GuildID {
			base |= r.Permissions
		}
	}
	for _, r := range in.Roles {
		if r != nil && r.ID != in.GuildID && slices.Contains(in.MemberRoles, r.ID) {
			base |= r.Permissions
		}
	}
	if base&permAdministrator != 0 {
		return permAll
	}
	perms := base
	for _, ow := range in.Overwrites {
		if ow != nil && ow.Type == discordgo.PermissionOverwriteTypeRole && ow.ID == in.GuildID {
			perms = perms&^ow.Deny | ow.Allow
		}
	}
	var allow, deny int64
	for _, ow := range in.Overwrites {
		if ow != nil && ow.Type == discordgo.PermissionOverwriteTypeRole && ow.ID != in.GuildID && slices.Contains(in.MemberRoles, ow.ID) {
			allow |= ow.Allow
			deny |= ow.Deny
		}
	}
	perms = perms&^deny | allow
	for _, ow := range in.Overwrites {
		if ow != nil && ow.Type == discordgo.PermissionOverwriteTypeMember && ow.ID == in.MemberID {
			perms = perms&^ow.Deny | ow.Allow
		}
	}
	if perms&permViewChannel == 0 {
		return 0
	}
	if perms&permSendMessages == 0 {
		perms &^= permEmbedLinks
	}
	return perms
}

// missingToPost names the permissions the bot lacks to post a briefing, in
// the order a server admin grants them.
func missingToPost(perms int64) []string {
	var missing []string
	for _, p := range []struct {
		bit  int64
		name string
	}{{permViewChannel, "View Channel"}, {permSendMessages, "Send Messages"}, {permEmbedLinks, "Embed Links"}} {
		if perms&p.bit == 0 {
			missing = append(missing, p.name)
		}
	}
	return missing
}

// listNames joins names the way a sentence does: "A", "A and B", "A, B and C".
func listNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// memberMayManage reports whether the member who invoked an interaction may
// change subscriptions: Manage Server or Administrator, from the
// permissions Discord computed for the interaction.
func memberMayManage(m *discordgo.Member) bool {
	return m != nil && (m.Permissions&permManageGuild != 0 || m.Permissions&permAdministrator != 0)
}

// permissionCache remembers what permission reads over REST found: each
// channel's permissions, so the messages of one delivery cost one read
// between them, and each server's roles, owner and bot member, shared by its
// channels. The gateway's State needs no cache: it follows every change as
// it happens.
type permissionCache struct {
	mu       sync.Mutex
	channels map[string]cachedPermissions
	servers  map[string]serverPermissions
}

type cachedPermissions struct {
	perms int64
	until time.Time
}

// serverPermissions is what a server contributes to the bot's permissions
// in each of its channels.
type serverPermissions struct {
	ownerID     string
	roles       []*discordgo.Role
	memberRoles []string
	until       time.Time
}

// permissionMemory is how long a permission read over REST is trusted: long
// enough for one delivery's messages, short enough that a revoked
// permission is noticed by the next delivery (and a refusal makes the
// adapter read afresh at once).
const permissionMemory = time.Minute

func (c *permissionCache) lookup(channelID string, now time.Time) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.channels[channelID]
	if !ok || !now.Before(e.until) {
		return 0, false
	}
	return e.perms, true
}

func (c *permissionCache) remember(channelID string, perms int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.channels == nil || len(c.channels) >= maxGoneEntries {
		c.channels = make(map[string]cachedPermissions)
	}
	c.channels[channelID] = cachedPermissions{perms: perms, until: now.Add(permissionMemory)}
}

func (c *permissionCache) forget(channelID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.channels, channelID)
}

func (c *permissionCache) server(guildID string, now time.Time) (serverPermissions, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.servers[guildID]
	if !ok || !now.Before(s.until) {
		return serverPermissions{}, false
	}
	return s, true
}

func (c *permissionCache) rememberServer(guildID string, s serverPermissions, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.servers == nil || len(c.servers) >= maxGoneEntries {
		c.servers = make(map[string]serverPermissions)
	}
	s.until = now.Add(permissionMemory)
	c.servers[guildID] = s
}
