//go:build !windows

package repl

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
)

// waitLimit bounds every wait for the binary's output. It only turns a hung
// test into a failure; nothing is timed against it.
const waitLimit = 30 * time.Second

// terminal is a bitnet process on a pseudo-terminal, as a user at a
// terminal runs it.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	done chan struct{} // closed when the output reader has stopped

	mu      sync.Mutex
	out     bytes.Buffer  // everything the process wrote to the terminal
	changed chan struct{} // closed and replaced whenever out grows
	seen    int           // where the next expect starts looking
}

// startTerminal runs bitnet with args on a new 120x40 pseudo-terminal.
// Stdout may be given to send it elsewhere than the terminal.
func startTerminal(t *testing.T, env []string, stdout io.Writer, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stdout = stdout
	p, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("start bitnet on a pty: %v", err)
	}
	term := &terminal{t: t, cmd: cmd, pty: p, done: make(chan struct{}), changed: make(chan struct{})}
	go term.read()
	t.Cleanup(func() {
		if term.cmd.ProcessState == nil {
			term.cmd.Process.Kill()
			term.cmd.Wait()
		}
		p.Close()
		<-term.done
		if t.Failed() {
			t.Logf("terminal output:\n%s", term.text(0))
		}
	})
	return term
}

func (term *terminal) read() {
	defer close(term.done)
	buf := make([]byte, 4096)
	for {
		n, err := term.pty.Read(buf)
		term.mu.Lock()
		term.out.Write(buf[:n])
		close(term.changed)
		term.changed = make(chan struct{})
		term.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// escape matches the escape sequences readline and colours write.
var escape = regexp.MustCompile(`^\x1b\[[0-9;?]*[A-Za-z]`)

// text returns what the terminal shows of the output from byte offset from
// on: carriage returns, backspaces and line erasures applied, colours
// dropped, so that a line readline redrew at every key reads as it ends up
// on the screen.
func (term *terminal) text(from int) string {
	term.mu.Lock()
	s := term.out.String()[from:]
	term.mu.Unlock()
	return screen(s)
}

// screen renders output the way a terminal shows it, one line at a time.
func screen(s string) string {
	var b strings.Builder
	var line []rune
	col := 0
	for i := 0; i < len(s); {
		if m := escape.FindString(s[i:]); m != "" {
			switch m[len(m)-1] {
			case 'K', 'J': // erase to the end of the line (or screen)
				if m == "\x1b[2K" {
					line = line[:0]
				} else if col < len(line) {
					line = line[:col]
				}
			}
			i += len(m)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '\n':
			b.WriteString(string(line))
			b.WriteByte('\n')
			line, col = line[:0], 0
		case '\r':
			col = 0
		case '\b':
			col = max(col-1, 0)
		default:
			if col < len(line) {
				line[col] = r
			} else {
				for len(line) < col {
					line = append(line, ' ')
				}
				line = append(line, r)
			}
			col++
		}
	}
	b.WriteString(string(line))
	return b.String()
}

// raw returns the output from byte offset from on as written.
func (term *terminal) raw(from int) string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()[from:]
}

// type sends keys to the terminal.
func (term *terminal) send(keys string) {
	term.t.Helper()
	if _, err := term.pty.WriteString(keys); err != nil {
		term.t.Fatalf("type %q: %v", keys, err)
	}
}

// expect waits until want appears in the output after what earlier expects
// consumed, consumes the output up to and including it and returns the
// output before it.
func (term *terminal) expect(want string) string {
	term.t.Helper()
	deadline := time.After(waitLimit)
	for {
		finished := false
		select {
		case <-term.done:
			finished = true
		default:
		}
		term.mu.Lock()
		changed := term.changed
		term.mu.Unlock()
		text := term.text(0)
		term.seen = min(term.seen, len(text))
		if i := strings.Index(text[term.seen:], want); i >= 0 {
			before := text[term.seen : term.seen+i]
			term.seen += i + len(want)
			return before
		}
		if finished {
			term.t.Fatalf("bitnet ended without writing %q; after the last match it wrote:\n%s", want, text[term.seen:])
		}
		select {
		case <-changed:
		case <-term.done:
		case <-deadline:
			term.t.Fatalf("no %q within %v; after the last match bitnet wrote:\n%s", want, waitLimit, text[term.seen:])
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (term *terminal) wait() int {
	term.t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- term.cmd.Wait() }()
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		} else if err != nil {
			term.t.Fatal(err)
		}
		return 0
	case <-time.After(waitLimit):
		// A goroutine dump on the terminal shows where it is stuck.
		term.cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(time.Second)
		term.t.Fatalf("bitnet did not exit within %v", waitLimit)
	}
	return -1
}
