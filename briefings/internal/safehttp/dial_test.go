package safehttp

import (
	"net/netip"
	"testing"
)

func TestNonPublicKind(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"0.1.2.3", "this-network"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"fec0::1", "site-local"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:169.254.1.1", "link-local"},
		{"::ffff:100.64.0.1", "carrier-grade NAT"},
		{"::127.0.0.1", "loopback"}, // deprecated IPv4-compatible form
		{"::8.8.8.8", "deprecated IPv4-compatible"},
		{"64:ff9b::10.0.0.1", "private"}, // NAT64 to a private address
		// Public addresses, some right next to refused ranges.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.169.0.1", ""},
		{"223.255.255.255", ""},
		{"2001:4860:4860::8888", ""},
		{"64:ff9b::8.8.8.8", ""},
		{"::ffff:8.8.8.8", ""},
	}
	for _, tt := range tests {
		if got := nonPublicKind(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("nonPublicKind(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestDialControlFailsClosed(t *testing.T) {
	control := dialControl(CheckPublicAddress)
	for _, address := range []string{"8.8.8.8:443", "[2001:4860:4860::8888]:443"} {
		if err := control("tcp", address, nil); err != nil {
			t.Errorf("control(%s) = %v, want nil", address, err)
		}
	}
	for _, address := range []string{"127.0.0.1:80", "[::ffff:127.0.0.1]:80", "not-an-address", "example.com:80"} {
		if err := control("tcp", address, nil); err == nil {
			t.Errorf("control(%s) = nil, want an error", address)
		}
	}
}
