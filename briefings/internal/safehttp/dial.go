package safehttp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrPrivateAddress is wrapped by the error of a fetch that would have
// connected to an address outside the public internet: loopback, private,
// link-local, CGNAT, multicast, unspecified or reserved. Addresses there are
// refused by default because a feed URL, and the article links in a feed, are user input, and fetching it from
// inside our network would let anyone probe or read internal services.
var ErrPrivateAddress = errors.New("address is not on the public internet")

// allowPrivateHint tells an operator how to lift the restriction.
const allowPrivateHint = "set NEWSBOT_ALLOW_PRIVATE_FEEDS=true to allow feeds and article pages on private networks"

var (
	cgnatPrefix       = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 shared address space
	thisNetworkPrefix = netip.MustParsePrefix("0.0.0.0/8")     // RFC 1122 "this network"
	reservedPrefix    = netip.MustParsePrefix("240.0.0.0/4")   // RFC 1112 reserved, and broadcast
	siteLocalPrefix   = netip.MustParsePrefix("fec0::/10")     // RFC 3879 deprecated site-local
	ipv4CompatPrefix  = netip.MustParsePrefix("::/96")         // RFC 4291 deprecated IPv4-compatible
	nat64Prefix       = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052 NAT64, reaches the embedded IPv4
)

// nonPublicKind says what kind of non-public address addr is, or "" when it
// is a public unicast address.
func nonPublicKind(addr netip.Addr) string {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if addr.Is6() && !addr.IsUnspecified() && !addr.IsLoopback() &&
		(ipv4CompatPrefix.Contains(addr) || nat64Prefix.Contains(addr)) {
		// The last 32 bits name the IPv4 host actually reached.
		b := addr.As16()
		if kind := nonPublicKind(netip.AddrFrom4([4]byte(b[12:]))); kind != "" {
			return kind
		}
		if ipv4CompatPrefix.Contains(addr) {
			return "deprecated IPv4-compatible"
		}
		return ""
	}
	switch {
	case !addr.IsValid():
		return "invalid"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsMulticast():
		return "multicast"
	case cgnatPrefix.Contains(addr):
		return "carrier-grade NAT"
	case thisNetworkPrefix.Contains(addr):
		return "this-network"
	case reservedPrefix.Contains(addr):
		return "reserved"
	case siteLocalPrefix.Contains(addr):
		return "site-local"
	}
	return ""
}

// CheckPublicAddress refuses a non-public address with an error that says
// which address it was and how to allow it.
func CheckPublicAddress(addr netip.AddrPort) error {
	if kind := nonPublicKind(addr.Addr()); kind != "" {
		return fmt.Errorf("refusing to connect to %s (%s address): %w; %s", addr.Addr(), kind, ErrPrivateAddress, allowPrivateHint)
	}
	return nil
}

// dialControl returns a net.Dialer Control function applying check to every
// address the dialer is about to connect to. It runs after name resolution
// and for every connection, redirects included, so neither a DNS answer nor
// a redirect can lead the fetcher somewhere the check would not allow.
func dialControl(check func(netip.AddrPort) error) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		addr, err := netip.ParseAddrPort(address)
		if err != nil {
			// Fail closed: an address we cannot read is an address we cannot vouch for.
			return fmt.Errorf("cannot check %s address %q: %w", network, address, err)
		}
		return check(addr)
	}
}

func newDialer(check func(netip.AddrPort) error) *net.Dialer {
	d := &net.Dialer{KeepAlive: defaultKeepAlive}
	if check != nil {
		d.Control = dialControl(check)
	}
	return d
}
