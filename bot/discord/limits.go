package discord

import "time"

// Discord's documented limits, stated here rather than taken from discordgo
// (which checks none of them client-side). Every value is cited to
// /work/shared/platform-limits.md ("Discord" table), which in turn cites
// https://discord.com/developers/docs. Lengths are counted in Unicode code
// points, as Discord counts them.
const (
	// Message and embed limits (platform-limits.md: "Content", "Embeds";
	// D-MSG#create-message, D-MSG#embed-limits).
	maxContent          = 2000
	maxEmbedsPerMessage = 10
	maxEmbedTitle       = 256
	maxEmbedDescription = 4096
	maxEmbedFields      = 25
	maxEmbedFieldName   = 256
	maxEmbedFieldValue  = 1024
	maxEmbedTotal       = 6000 // all embeds of one message together
	maxEmbedURL         = 2048 // longest URL Discord accepts in an embed

	// Application commands (platform-limits.md: "Commands"; D-AC).
	maxAutocompleteChoices = 25
	maxChoiceLength        = 100

	// Interactions (platform-limits.md: "Interaction"; D-RR): the initial
	// response must arrive within 3 s.
	interactionWindow = 3 * time.Second

	// Rate limits (platform-limits.md: "Rate limits"; D-RL): 50 requests per
	// second per bot; the channel message bucket is 5 per 5 s.
	globalRequestsPerSecond = 50
	channelMessagesPerReset = 5
	channelMessageReset     = 5 * time.Second

	// Permission bits (platform-limits.md: "Permissions",
	// "default_member_permissions"; D-PERM).
	permAdministrator int64 = 1 << 3
	permManageGuild   int64 = 1 << 5
	permViewChannel   int64 = 1 << 10
	permSendMessages  int64 = 1 << 11
	permEmbedLinks    int64 = 1 << 14
	permAll           int64 = 1<<51 - 1

	// JSON error codes (platform-limits.md: "Errors"; D-OPC).
	codeUnknownChannel     = 10003
	codeUnknownGuild       = 10004
	codeMissingAccess      = 50001
	codeMissingPermissions = 50013
)

// defaultDeferAfter is how long an interaction's answer may take before the
// adapter defers it (type 5) and edits the response later: well inside the
// 3-second window, leaving room for the gateway's and the callback's
// round trips.
const defaultDeferAfter = interactionWindow / 2
