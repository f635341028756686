package hub

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestProgressFitsATerminalLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "some/deeply/nested/folder/with-a-long-model-name-q4_k_m.gguf", 3<<30)
	p.set(0)
	p.add(1 << 30)
	p.finish()
	s := out.String()
	if !strings.HasSuffix(s, "\n") || !strings.Contains(s, " 33%") {
		t.Fatalf("progress output %q", s)
	}
	if !strings.Contains(s, "3.0 GiB") || !strings.Contains(s, "…") || !strings.Contains(s, "q4_k_m.gguf") {
		t.Errorf("progress output %q lacks the total or the shortened name", s)
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\r") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	var nilBar *progress // what newProgress returns for a nil writer
	nilBar.set(1)
	nilBar.add(1)
	nilBar.finish()
	nilBar.abort()
	if newProgress(nil, "x", 1) != nil {
		t.Error("a nil writer gives a bar")
	}
}
