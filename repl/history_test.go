package repl

import (
	"path/filepath"
	"testing"
)

func TestHistoryPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "/var/state")
	if got, err := HistoryPath(); err != nil || got != "/var/state/bitnet/history" {
		t.Errorf("with XDG_STATE_HOME: %q, %v", got, err)
	}
	want := filepath.Join(home, ".local", "state", "bitnet", "history")
	for _, xdg := range []string{"", "relative/dir"} {
		t.Setenv("XDG_STATE_HOME", xdg)
		if got, err := HistoryPath(); err != nil || got != want {
			t.Errorf("XDG_STATE_HOME=%q: %q, %v; want %q", xdg, got, err, want)
		}
	}
}
