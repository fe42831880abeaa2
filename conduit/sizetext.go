package conduit

import "strconv"

// SizeText writes a byte count for people: 0 B, 999 B, 1.5 kB, 12 MB.
func SizeText(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	prec := 1
	if v >= 100 {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + string("kMGTP"[i]) + "B"
}
