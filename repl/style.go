package repl

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// IsTerminal reports whether f is an *os.File open on a terminal.
func IsTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && file != nil && (isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd()))
}

// ColorAllowed reports whether the environment allows colour at all: NO_COLOR
// (https://no-color.org) is unset or empty and TERM is not "dumb". Whether a
// given stream is coloured also depends on it being a terminal and on the
// --no-color flag; the caller decides that per stream.
func ColorAllowed() bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// styles colour one output stream. fatih/color decides once, from stdout
// alone, whether to colour; bitnet decides per stream instead, so that
// stderr is coloured only when it is a terminal itself, whatever stdout is.
type styles struct {
	prompt, answer, status, notice, err *color.Color
}

func newStyles(enabled bool) styles {
	s := styles{
		prompt: color.New(color.FgGreen, color.Bold),
		answer: color.New(color.FgCyan),
		status: color.New(color.Faint),
		notice: color.New(color.FgYellow),
		err:    color.New(color.FgRed),
	}
	for _, c := range []*color.Color{s.prompt, s.answer, s.status, s.notice, s.err} {
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return s
}

// printer writes status lines, notices and errors to one stream.
type printer struct {
	w  io.Writer
	st styles
}

// Status prints a line of secondary information (statistics, hints).
func (p printer) Status(format string, args ...any) { p.st.status.Fprintf(p.w, format+"\n", args...) }

// Notice prints a line the user should read (dropped turns, a cut answer).
func (p printer) Notice(format string, args ...any) { p.st.notice.Fprintf(p.w, format+"\n", args...) }

// Error prints an error line.
func (p printer) Error(format string, args ...any) { p.st.err.Fprintf(p.w, format+"\n", args...) }

// Plain prints an uncoloured line.
func (p printer) Plain(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

// forTerminal makes model output safe to show on a terminal: control
// characters other than newline and tab could move the cursor, recolour or
// retitle the terminal, so they are shown in caret notation (ESC as ^[), and
// carriage returns, which would overwrite the line, are dropped. Output to a
// pipe or file is written unchanged.
func forTerminal(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean && !strings.ContainsFunc(s, isC1) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r':
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + '@')
		case r == 0x7f:
			b.WriteString("^?")
		case isC1(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isC1 reports the C1 control characters U+0080..U+009F, which some
// terminals obey like escape sequences.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }
