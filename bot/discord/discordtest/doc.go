// Package discordtest is a faithful fake of Discord for tests: the REST API
// (under /api/v9/ and /api/v10/) and the gateway websocket, served on
// 127.0.0.1 and driven by the real github.com/bwmarrin/discordgo client.
//
// It enforces Discord's documented limits (stated in limits.go, never taken
// from the code under test) so that a sender that drifts from what production
// accepts fails here first: message and embed lengths, application command
// shapes, the 3-second interaction window and single acknowledgement,
// per-channel and global rate limits with Discord's headers and 429 bodies
// (a global 429 as production sends it — Retry-After, X-RateLimit-Global and
// X-RateLimit-Scope, no bucket headers — refusing every route until it has
// run out), channel permissions (403 50001 / 50013; without Embed Links an
// embed-only message is refused and another posted with its embeds hidden:
// Message.Seen is what members see), unknown channels (404 10003) and the
// invalid-request budget that ends in a Cloudflare ban.
//
// Where Discord's behaviour is undocumented the fake takes the stricter
// reading and says so next to the rule: mentions are found even inside code
// spans, an allowed_mentions with "parse": null is read as the default, the
// channel message bucket is the 5 per 5 s Discord's headers report. Lengths
// are counted in code points, as Discord's staff confirmed.
//
// Typical wiring with discordgo:
//
//	srv := discordtest.NewServer(discordtest.Options{Token: "t"})
//	defer srv.Close()
//	s, _ := discordgo.New("Bot t")
//	s.Client = srv.HTTPClient() // rewrites https://discord.com to the fake
//	s.Dialer = srv.Dialer()     // only dials the fake's gateway
//	_ = s.Open()                // GET /gateway, HELLO, IDENTIFY, READY, GUILD_CREATE…
//
// Tests build the world (AddGuild, AddChannel, AddRole, AddMember,
// SetBotPermissions, SetOverwrite…), make users act (Interact, which returns
// an InteractionHandle to Await the answer), and inspect what Discord would
// show (Messages, Commands, Stats).
package discordtest
