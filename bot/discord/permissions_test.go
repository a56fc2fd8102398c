package discord

import (
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
)

func TestChannelPermissions(t *testing.T) {
	const guild, bot, botRole, other = "1", "2", "3", "4"
	everyone := permViewChannel | permSendMessages | permEmbedLinks
	roles := func(everyonePerms, botPerms int64) []*discordgo.Role {
		return []*discordgo.Role{{ID: guild, Permissions: everyonePerms}, {ID: botRole, Permissions: botPerms}, {ID: other, Permissions: permAdministrator}}
	}
	ow := func(id string, typ discordgo.PermissionOverwriteType, allow, deny int64) *discordgo.PermissionOverwrite {
		return &discordgo.PermissionOverwrite{ID: id, Type: typ, Allow: allow, Deny: deny}
	}
	tests := []struct {
		name        string
		in          permissionInput
		wantMissing []string
	}{
		{"everyone may post", permissionInput{Roles: roles(everyone, 0)}, nil},
		{"only the bot role grants", permissionInput{Roles: roles(0, everyone)}, nil},
		{"nothing granted", permissionInput{Roles: roles(0, 0)}, []string{"View Channel", "Send Messages", "Embed Links"}},
		{"@everyone overwrite denies embeds", permissionInput{Roles: roles(everyone, 0),
			Overwrites: []*discordgo.PermissionOverwrite{ow(guild, discordgo.PermissionOverwriteTypeRole, 0, permEmbedLinks)}}, []string{"Embed Links"}},
		{"role overwrite allows back", permissionInput{Roles: roles(everyone, 0), Overwrites: []*discordgo.PermissionOverwrite{
			ow(guild, discordgo.PermissionOverwriteTypeRole, 0, permEmbedLinks), ow(botRole, discordgo.PermissionOverwriteTypeRole, permEmbedLinks, 0)}}, nil},
		{"member overwrite beats the role", permissionInput{Roles: roles(everyone, 0), Overwrites: []*discordgo.PermissionOverwrite{
			ow(botRole, discordgo.PermissionOverwriteTypeRole, permSendMessages, 0), ow(bot, discordgo.PermissionOverwriteTypeMember, 0, permSendMessages)}},
			[]string{"Send Messages", "Embed Links"}},
		{"no view hides everything", permissionInput{Roles: roles(everyone, 0),
			Overwrites: []*discordgo.PermissionOverwrite{ow(bot, discordgo.PermissionOverwriteTypeMember, 0, permViewChannel)}},
			[]string{"View Channel", "Send Messages", "Embed Links"}},
		{"another member's overwrite does not apply", permissionInput{Roles: roles(everyone, 0),
			Overwrites: []*discordgo.PermissionOverwrite{ow("99", discordgo.PermissionOverwriteTypeMember, 0, permViewChannel)}}, nil},
		{"administrator ignores overwrites", permissionInput{Roles: roles(0, permAdministrator),
			Overwrites: []*discordgo.PermissionOverwrite{ow(bot, discordgo.PermissionOverwriteTypeMember, 0, permViewChannel)}}, nil},
		{"a role the bot lacks does not count", permissionInput{Roles: roles(0, 0), MemberRoles: []string{botRole}}, []string{"View Channel", "Send Messages", "Embed Links"}},
		{"owner", permissionInput{Roles: roles(0, 0), OwnerID: bot}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.GuildID, in.MemberID = guild, bot
			if in.MemberRoles == nil {
				in.MemberRoles = []string{botRole}
			} else {
				in.Roles = in.Roles[:1] // the listed role does not exist in the guild
			}
			if diff := cmp.Diff(tc.wantMissing, missingToPost(channelPermissions(in))); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
	if got := listNames([]string{"A", "B", "C"}); got != "A, B and C" {
		t.Errorf("listNames = %q", got)
	}
	for _, tc := range []struct {
		perms int64
		want  bool
	}{{0, false}, {permManageGuild, true}, {permAdministrator, true}, {permSendMessages, false}} {
		if got := memberMayManage(&discordgo.Member{Permissions: tc.perms}); got != tc.want {
			t.Errorf("memberMayManage(%b) = %v", tc.perms, got)
		}
	}
	if memberMayManage(nil) {
		t.Error("an interaction without a member may manage")
	}
}
