package repl

import (
	"io"
	"reflect"
	"testing"

	"github.com/chzyer/readline"
)

// scriptedLines is a lineReader that returns prepared lines and records the
// prompt each was read with.
type scriptedLines struct {
	lines   []string
	errs    map[int]error // error returned with the line of that index
	prompt  string
	prompts []string
}

func (s *scriptedLines) SetPrompt(p string) { s.prompt = p }

func (s *scriptedLines) Readline() (string, error) {
	i := len(s.prompts)
	s.prompts = append(s.prompts, s.prompt)
	if i >= len(s.lines) {
		return "", io.EOF
	}
	return s.lines[i], s.errs[i]
}

func TestReadEntry(t *testing.T) {
	cases := []struct {
		name    string
		lines   []string
		errs    map[int]error
		want    entry
		err     error
		prompts []string
	}{
		{"line", []string{"hello there"}, nil, entry{"hello there", false}, nil, []string{">"}},
		{"block", []string{`"""`, "one", "", "two", `"""`}, nil, entry{"one\n\ntwo", true}, nil, []string{">", ".", ".", ".", "."}},
		{"text on the markers", []string{`"""one`, `two"""  `}, nil, entry{"one\ntwo", true}, nil, []string{">", "."}},
		{"one-line block", []string{`  """just this"""`}, nil, entry{"just this", true}, nil, []string{">"}},
		{"from the history", []string{`"""one↵two"""`}, nil, entry{"one\ntwo", true}, nil, []string{">"}},
		{"empty block", []string{`""""""`}, nil, entry{"", true}, nil, []string{">"}},
		{"not a marker", []string{`say """hi"""`}, nil, entry{`say """hi"""`, false}, nil, []string{">"}},
		{"Ctrl+C in a block", []string{`"""`, "one", "tw"}, map[int]error{2: readline.ErrInterrupt}, entry{"\"\"\"one\ntw", true}, readline.ErrInterrupt, []string{">", ".", "."}},
		{"Ctrl+D in a block", []string{`"""`, "one"}, nil, entry{"\"\"\"one\n", true}, io.EOF, []string{">", ".", "."}},
		{"Ctrl+C", []string{"half"}, map[int]error{0: readline.ErrInterrupt}, entry{"half", false}, readline.ErrInterrupt, []string{">"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &scriptedLines{lines: c.lines, errs: c.errs}
			got, err := readEntry(r, ">", ".")
			if got != c.want || err != c.err {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, c.want, c.err)
			}
			if !reflect.DeepEqual(r.prompts, c.prompts) || r.prompt != ">" {
				t.Errorf("prompts %q, left at %q; want %q, left at \">\"", r.prompts, r.prompt, c.prompts)
			}
		})
	}
}

// TestHistoryEntryRoundTrip checks that a multi-line entry, kept in the
// history on one line, reads back as the same text.
func TestHistoryEntryRoundTrip(t *testing.T) {
	for _, text := range []string{"one line", "two\nlines", "a\n\nblank line", "ends with a quote\""} {
		multi := text != "one line"
		h := historyEntry(text, multi)
		for _, r := range h {
			if r == '\n' {
				t.Fatalf("history entry of %q spans lines: %q", text, h)
			}
		}
		got, err := readEntry(&scriptedLines{lines: []string{h}}, ">", ".")
		if err != nil || got.text != text {
			t.Errorf("%q kept as %q reads back as %q, %v", text, h, got.text, err)
		}
	}
}

func TestCommandLines(t *testing.T) {
	cases := []struct {
		line    string
		command bool
		message string
	}{
		{"/help", true, ""},
		{"/", true, ""},
		{"/ set", true, ""},
		{"//usr/bin is a folder", false, "/usr/bin is a folder"},
		{"hello /set", false, "hello /set"},
		{" /set", false, " /set"},
	}
	for _, c := range cases {
		if got := isCommand(c.line); got != c.command {
			t.Errorf("isCommand(%q) = %v", c.line, got)
		}
		if !c.command {
			if got := messageText(c.line); got != c.message {
				t.Errorf("messageText(%q) = %q, want %q", c.line, got, c.message)
			}
		}
	}
}
