package signer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{nil, ""},
		{errors.New("other"), "internal"},
		{fmt.Errorf("x: %w", ErrMalformed), "malformed"},
		{ErrTruncated, "truncated"},
		{ErrTooLarge, "too-large"},
		{ErrUnexpected, "unexpected"},
		{ErrStale, "stale"},
		{ErrBadSignature, "bad-signature"},
		{ErrBodyHash, "body-hash"},
		{ErrReplay, "replay"},
		{ErrReplayCacheFull, "busy"},
	}
	for _, tc := range tests {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if tc.err != nil && tc.code != "internal" && !strings.HasPrefix(tc.err.Error(), "signer: ") && !strings.HasPrefix(tc.err.Error(), "x: signer: ") {
			t.Errorf("%q lacks the package prefix", tc.err)
		}
	}
}
