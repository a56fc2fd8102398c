// Package feeds turns feeds on the network into briefings.Items.
//
// Parsing is separate from fetching. ParseFeed reads an RSS, Atom or JSON
// Feed document (through gofeed) into plain-text items with absolute links;
// it does no I/O beyond its reader and is safe on hostile input. Fetcher
// implements briefings.Fetcher on the guarded client article pages use too
// (briefings/internal/safehttp): conditional GET, a per-request timeout, a
// cap on the decompressed body, a redirect limit, and a check at connect time
// that refuses non-public addresses unless Options.AllowPrivate is set.
// ParseOPML and WriteOPML import and export subscription lists.
package feeds
