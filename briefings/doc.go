// Package briefings is newsbot's domain: the stories it ingests, the briefings it
// composes from them, the subscriptions it delivers to, and the Service that
// answers every chat command. It imports the standard library only; feeds,
// summarizers, stores and chat platforms plug in through the small interfaces
// declared here.
package briefings
