package ledger

import (
	"fmt"
	"math"
	"strconv"
)

// Amount is a quantity of Borg Shells in nano-shells: 1 shell = 10^9
// nano-shells, the legacy BorgPay's 9 decimals. Amounts are never floats.
// Its text form (JSON) is the canonical decimal string with exactly nine
// fractional digits, e.g. "5.000000000" (FormatAmount).
type Amount uint64

// Units and the fixed supply.
const (
	// Decimals is the number of fractional digits of a shell.
	Decimals = 9
	// NanoPerShell is the number of nano-shells in one shell.
	NanoPerShell = 1_000_000_000
	// GenesisShells is the supply, in shells, that the genesis block puts
	// in the network wallet. It never changes: no block creates or
	// destroys shells.
	GenesisShells = 20_000_000
	// GenesisSupply is GenesisShells in nano-shells (2·10^16).
	GenesisSupply Amount = GenesisShells * NanoPerShell
)

// Shells returns n whole shells as an Amount (n ≤ 18,446,744,073).
func Shells(n uint64) Amount { return Amount(n * NanoPerShell) }

// String returns a as FormatAmount does.
func (a Amount) String() string { return FormatAmount(a) }

// FormatAmount returns the canonical text of a: the integer part without
// leading zeros ("0" when below one shell), a dot and exactly nine
// fractional digits: 123456000 → "0.123456000".
func FormatAmount(a Amount) string {
	return string(appendAmount(nil, a))
}

func appendAmount(b []byte, a Amount) []byte {
	b = strconv.AppendUint(b, uint64(a)/NanoPerShell, 10)
	frac := uint64(a) % NanoPerShell
	var d [Decimals]byte
	for i := Decimals - 1; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	b = append(b, '.')
	return append(b, d[:]...)
}

// ParseAmount reads an amount typed by a person, exactly (no floats): an
// optional integer part, an optional dot and at most nine fractional
// digits, at least one digit in all: "5", "5.", "0.1", ".5",
// "123.456000000". Signs, spaces, exponents, separators and more than nine
// decimals are refused (the legacy client silently truncated them), as is
// anything above 2^64-1 nano-shells.
func ParseAmount(s string) (Amount, error) {
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("%w: amount %q has no digits", ErrMalformed, clip(s))
	}
	if len(frac) > Decimals {
		return 0, fmt.Errorf("%w: amount %q has more than %d decimals", ErrMalformed, clip(s), Decimals)
	}
	var whole uint64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: amount %q is not a decimal number", ErrMalformed, clip(s))
		}
		if whole > (math.MaxUint64/NanoPerShell-uint64(c-'0'))/10 {
			return 0, fmt.Errorf("%w: amount %q is too large", ErrMalformed, clip(s))
		}
		whole = whole*10 + uint64(c-'0')
	}
	var f uint64
	for i := 0; i < Decimals; i++ {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w: amount %q is not a decimal number", ErrMalformed, clip(s))
			}
			f += uint64(c - '0')
		}
	}
	n := whole * NanoPerShell
	if n > math.MaxUint64-f {
		return 0, fmt.Errorf("%w: amount %q is too large", ErrMalformed, clip(s))
	}
	return Amount(n + f), nil
}

// parseCanonical accepts only FormatAmount's output.
func parseCanonical(b []byte) (Amount, error) {
	a, err := ParseAmount(string(b))
	if err != nil {
		return 0, err
	}
	if string(appendAmount(nil, a)) != string(b) {
		return 0, fmt.Errorf("%w: amount %q is not canonical (want %s)", ErrMalformed, clip(string(b)), FormatAmount(a))
	}
	return a, nil
}

// MarshalText implements encoding.TextMarshaler (FormatAmount).
func (a Amount) MarshalText() ([]byte, error) { return appendAmount(nil, a), nil }

// UnmarshalText accepts the canonical form only, so an amount has one
// encoding: digits without leading zeros, a dot, exactly nine digits.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := parseCanonical(b)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
