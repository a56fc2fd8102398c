package discord

import "errors"

// SetRateShare paces this instance's sends at share of the bot's global
// budget (50 requests/s is per bot, not per process): with N instances on one
// store, each takes 1/N.
func (a *Adapter) SetRateShare(share float64) {
	a.pacer.SetGlobalShare(share)
	if g, ok := a.gate.(*restGate); ok {
		g.setShare(share)
	}
}

// Ready reports whether the bot can hear commands, for readiness probes: in
// HTTP interactions mode as soon as it serves; on the gateway while the
// connection is up (discordgo's DataReady, set on READY, cleared on close).
func (a *Adapter) Ready() error {
	if a.publicKey != nil {
		return nil
	}
	a.session.RLock()
	up := a.session.DataReady
	a.session.RUnlock()
	if !up {
		return errors.New("discord: the gateway is not connected")
	}
	return nil
}
