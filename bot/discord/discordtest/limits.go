package discordtest

import "time"

// Limits as documented by Discord (https://discord.com/developers/docs), with
// the page each comes from. They are stated here on purpose instead of being
// imported from the code under test: the fake must disagree with a sender
// that drifts from production.

// Message limits (resources/message#create-message, #embed-object-embed-limits).
// Lengths are counted in Unicode code points: Discord's API is written in
// Python 3 and measures len(str) (discord-api-docs issue #1315).
const (
	MaxContentLength       = 2000
	MaxEmbedsPerMessage    = 10
	MaxEmbedTitle          = 256
	MaxEmbedDescription    = 4096
	MaxEmbedFields         = 25
	MaxEmbedFieldName      = 256
	MaxEmbedFieldValue     = 1024
	MaxEmbedFooterText     = 2048
	MaxEmbedAuthorName     = 256
	MaxEmbedTotal          = 6000 // title+description+field names/values+footer text+author name, all embeds
	MaxEmbedColor          = 0xFFFFFF
	MaxAllowedMentionIDs   = 100
	MaxAutocompleteChoices = 25
)

// Application command limits (interactions/application-commands).
const (
	MaxCommandNameLength        = 32
	MaxCommandDescriptionLength = 100
	MaxCommandOptions           = 25
	MaxCommandChoices           = 25
	MaxChoiceNameLength         = 100
	MaxChoiceStringValueLength  = 100
	MaxOptionStringLength       = 6000 // bound for min_length / max_length
	MaxCommandSize              = 8000 // name+description+choice values, longest localization counted
	MaxChatInputCommands        = 100
	MaxUserCommands             = 15
	MaxMessageCommands          = 15
	DailyCommandCreatesPerGuild = 200
)

// Interaction timing (interactions/receiving-and-responding).
const (
	InteractionResponseDeadline = 3 * time.Second
	InteractionTokenLifetime    = 15 * time.Minute
)

// Rate limits (topics/rate-limits). Discord does not document per-route
// numbers; the channel message bucket is the one its headers report in
// production (5 per 5 s per channel), and every other route gets the same
// shape so a client that ignores X-RateLimit-Remaining is caught anywhere.
const (
	GlobalRequestsPerSecond   = 50
	InvalidRequestLimit       = 10000
	InvalidRequestWindow      = 10 * time.Minute
	ChannelMessageBucketSize  = 5
	ChannelMessageBucketReset = 5 * time.Second
	RouteBucketSize           = 5
	RouteBucketReset          = 1 * time.Second
)

// Gateway limits (events/gateway, topics/opcodes-and-status-codes).
const (
	DefaultHeartbeatInterval = 41250 * time.Millisecond
	GatewayCommandsPerMinute = 120
	IdentifiesPerDay         = 1000
	MaxGuildsPerShard        = 2500
)

// Permission bits (topics/permissions).
const (
	PermissionCreateInstantInvite    int64 = 1 << 0
	PermissionKickMembers            int64 = 1 << 1
	PermissionBanMembers             int64 = 1 << 2
	PermissionAdministrator          int64 = 1 << 3
	PermissionManageChannels         int64 = 1 << 4
	PermissionManageGuild            int64 = 1 << 5
	PermissionAddReactions           int64 = 1 << 6
	PermissionViewChannel            int64 = 1 << 10
	PermissionSendMessages           int64 = 1 << 11
	PermissionSendTTSMessages        int64 = 1 << 12
	PermissionManageMessages         int64 = 1 << 13
	PermissionEmbedLinks             int64 = 1 << 14
	PermissionAttachFiles            int64 = 1 << 15
	PermissionReadMessageHistory     int64 = 1 << 16
	PermissionMentionEveryone        int64 = 1 << 17
	PermissionUseExternalEmojis      int64 = 1 << 18
	PermissionConnect                int64 = 1 << 20
	PermissionSpeak                  int64 = 1 << 21
	PermissionChangeNickname         int64 = 1 << 26
	PermissionManageRoles            int64 = 1 << 28
	PermissionUseApplicationCommands int64 = 1 << 31
	PermissionSendMessagesInThreads  int64 = 1 << 38

	// PermissionAll is every bit Discord currently defines (up to 1<<50).
	PermissionAll int64 = 1<<51 - 1
)

// DefaultEveryonePermissions is what a new server grants @everyone (a subset
// of Discord's default that covers what a text bot touches), including
// Mention @everyone, which Discord enables by default.
const DefaultEveryonePermissions = PermissionCreateInstantInvite | PermissionAddReactions |
	PermissionViewChannel | PermissionSendMessages | PermissionEmbedLinks | PermissionAttachFiles |
	PermissionReadMessageHistory | PermissionMentionEveryone | PermissionUseExternalEmojis |
	PermissionConnect | PermissionSpeak | PermissionChangeNickname |
	PermissionUseApplicationCommands | PermissionSendMessagesInThreads

// DefaultBotPermissions is what the bot's managed role gets when it is
// invited with the permissions the README asks for.
const DefaultBotPermissions = PermissionViewChannel | PermissionSendMessages | PermissionEmbedLinks

// JSON error codes (topics/opcodes-and-status-codes#json).
const (
	CodeGeneral                = 0
	CodeUnknownChannel         = 10003
	CodeUnknownGuild           = 10004
	CodeUnknownMember          = 10007
	CodeUnknownMessage         = 10008
	CodeUnknownUser            = 10013
	CodeUnknownWebhook         = 10015
	CodeUnknownInteraction     = 10062
	CodeMaxDailyCommandCreates = 30034
	CodeAlreadyAcknowledged    = 40060
	CodeMissingAccess          = 50001
	CodeEmptyMessage           = 50006
	CodeMissingPermissions     = 50013
	CodeInvalidWebhookToken    = 50027
	CodeInvalidFormBody        = 50035
	CodeInvalidJSON            = 50109
)

// Gateway close codes (topics/opcodes-and-status-codes#gateway-gateway-close-event-codes).
const (
	CloseUnknownOpcode         = 4001
	CloseDecodeError           = 4002
	CloseNotAuthenticated      = 4003
	CloseAuthenticationFailed  = 4004
	CloseAlreadyAuthenticated  = 4005
	CloseInvalidSeq            = 4007
	CloseRateLimited           = 4008
	CloseSessionTimedOut       = 4009
	CloseInvalidShard          = 4010
	CloseShardingRequired      = 4011
	CloseInvalidAPIVersion     = 4012
	CloseInvalidIntents        = 4013
	CloseDisallowedIntents     = 4014
	privilegedIntentsMask      = 1<<1 | 1<<8 | 1<<15 // GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT
	intentGuilds               = 1 << 0
	knownIntentsMask           = 1<<26 - 1
	discordEpochMilliseconds   = 1420070400000
	maxSafeJSONInteger         = 1<<53 - 1
	resumeReplayBufferCapacity = 1000
)
