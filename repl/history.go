package repl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// HistoryPath returns the file that keeps the chat's input history between
// runs: $XDG_STATE_HOME/bitnet/history, or ~/.local/state/bitnet/history
// when XDG_STATE_HOME is unset or not absolute (as the XDG Base Directory
// specification says).
func HistoryPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		if home == "" {
			return "", errors.New("no home directory")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "bitnet", "history"), nil
}

// historyNewline stands for a line break in a history entry. The history
// file holds one entry per line and readline cannot edit a line that holds
// a real newline, so a multi-line entry is kept as one line,
// """first↵second""", which recalls and sends as the same text.
const historyNewline = "↵"

// multilineQuote opens and closes a multi-line entry.
const multilineQuote = `"""`

// historyEntry returns how an entry is kept in the history.
func historyEntry(text string, multiline bool) string {
	if !multiline {
		return text
	}
	return multilineQuote + strings.ReplaceAll(text, "\n", historyNewline) + multilineQuote
}
