package web

import (
	"fmt"
	"strings"

	"rsc.io/qr"
)

type qrSVG struct {
	viewBox string
	path    string
}

// newQR renders data (a public address, never a secret) as one SVG path of
// unit squares, with a four-module quiet zone. rsc.io/qr is small, pure Go
// and has no dependencies, which is all a receive-address QR needs.
func newQR(data string) (qrSVG, error) {
	code, err := qr.Encode(data, qr.M)
	if err != nil {
		return qrSVG{}, fmt.Errorf("web: qr: %w", err)
	}
	const quiet = 4
	var b strings.Builder
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	n := code.Size + 2*quiet
	return qrSVG{viewBox: fmt.Sprintf("0 0 %d %d", n, n), path: b.String()}, nil
}
