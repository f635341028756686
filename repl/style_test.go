package repl

import (
	"bytes"
	"strings"
	"testing"
)

func TestForTerminal(t *testing.T) {
	cases := map[string]string{
		"plain text\n\twith tab":  "plain text\n\twith tab",
		"héllo ✓ 日本":              "héllo ✓ 日本",
		"\x1b]0;title\x07":        "^[]0;title^G",
		"\x1b[31mred":             "^[[31mred",
		"line\r\nnext\rover":      "line\nnextover",
		"nul\x00del\x7f":          "nul^@del^?",
		"c1 \u009b31m csi":        "c1 \ufffd31m csi",
		string([]byte{0xff, 'a'}): string([]byte{0xff, 'a'}),
	}
	for in, want := range cases {
		if got := forTerminal(in); got != want {
			t.Errorf("forTerminal(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStylesFollowTheDecision checks that colour is on or off as decided
// per stream, whatever fatih/color guessed from stdout.
func TestStylesFollowTheDecision(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		var b bytes.Buffer
		p := printer{w: &b, st: newStyles(enabled)}
		p.Notice("note %d", 1)
		p.Error("bad")
		if got := strings.Contains(b.String(), "\x1b["); got != enabled {
			t.Errorf("colour enabled=%v: output %q", enabled, b.String())
		}
		if !strings.Contains(b.String(), "note 1") || !strings.Contains(b.String(), "bad") {
			t.Errorf("output %q", b.String())
		}
	}
}

func TestColorAllowed(t *testing.T) {
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !ColorAllowed() {
		t.Error("colour refused with TERM=xterm and NO_COLOR empty")
	}
	t.Setenv("NO_COLOR", "1")
	if ColorAllowed() {
		t.Error("colour allowed with NO_COLOR=1")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if ColorAllowed() {
		t.Error("colour allowed with TERM=dumb")
	}
}
