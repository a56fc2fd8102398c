package discord

// SetRateShare paces this instance's sends at share of the bot's global
// budget (50 requests/s is per bot, not per process): with N instances on one
// store, each takes 1/N.
func (a *Adapter) SetRateShare(share float64) { a.pacer.SetGlobalShare(share) }
