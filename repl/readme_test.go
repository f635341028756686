//go:build !windows

package repl

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// timings matches the measured numbers of a statistics line.
var timings = regexp.MustCompile(`in [0-9.]+s \([0-9.]+ tok/s\)`)

// TestREADMEChatTranscript replays the chat transcript of README.md's
// "### Chat" section on a terminal: the command its first line gives, then
// each line typed after a ">>> " prompt. The terminal must show the
// transcript as written, but for the measured times and speeds.
func TestREADMEChatTranscript(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### Chat\n\n```\n")
	if !ok {
		t.Fatal("README.md has no ### Chat section opening with a code block")
	}
	block, _, ok := strings.Cut(section, "\n```\n")
	if !ok {
		t.Fatal("the transcript's code block does not end")
	}
	command, want, _ := strings.Cut(block, "\n")
	args := strings.Fields(command)
	if len(args) < 2 || args[0] != "$" || args[1] != "bitnet" {
		t.Fatalf("the transcript starts with %q, want $ bitnet ...", command)
	}
	var typed []string
	for _, line := range strings.Split(want, "\n") {
		if entry, ok := strings.CutPrefix(line, ">>> "); ok {
			typed = append(typed, entry)
		}
	}
	if len(typed) == 0 || typed[len(typed)-1] != "/bye" {
		t.Fatalf("the transcript types %q; want lines ending with /bye", typed)
	}

	term := startTerminal(t, testEnv(t.TempDir(), "NO_COLOR=1"), nil, args[2:]...)
	for _, line := range typed {
		term.expect(prompt)
		term.send(line + keyEnter)
	}
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := strings.TrimRight(term.text(0), "\n")
	if timings.ReplaceAllString(got, "in …") != timings.ReplaceAllString(want, "in …") {
		t.Errorf("the terminal shows\n%s\n\nREADME.md shows\n%s", got, want)
	}
}
