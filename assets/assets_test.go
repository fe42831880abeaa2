package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestVendoredHTMX(t *testing.T) {
	data, err := FS.ReadFile(HTMX)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	const want = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("htmx SHA-256 = %s, want %s: the vendored file changed", got, want)
	}
}

func TestAssetsPresent(t *testing.T) {
	for _, name := range []string{"app.css", "app.js"} {
		data, err := FS.ReadFile(name)
		if err != nil || len(data) == 0 {
			t.Errorf("%s missing or empty: %v", name, err)
		}
	}
}
