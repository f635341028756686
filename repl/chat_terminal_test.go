//go:build !windows

package repl

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Keys as a terminal sends them.
const (
	keyEnter = "\r"
	keyUp    = "\x1b[A"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
)

// prompt is the chat's prompt at the start of a line, as expect sees it
// once the previous output has ended.
const prompt = "\n>>> "

// oneShot returns the answer bitnet writes to a pipe for args.
func oneShot(t *testing.T, args ...string) string {
	t.Helper()
	r := runBinary(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("bitnet %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// onTerminal is how an answer written to a pipe looks on the terminal.
func onTerminal(answer string) string {
	return strings.TrimSuffix(forTerminal(answer), "\n")
}

// readSaved reads a conversation file written by /save.
func readSaved(t *testing.T, path string) []Message {
	t.Helper()
	conv, err := ReadConversation(path)
	if err != nil {
		t.Fatal(err)
	}
	return conv.Messages
}

// TestTerminalChat types into the chat as a user would: messages, history
// recall with the up arrow, a """ multi-line message, Ctrl+C on an empty
// line, slash commands, and Ctrl+D; then a second run recalls the history
// of the first.
func TestTerminalChat(t *testing.T) {
	home := t.TempDir()
	env := testEnv(home, "NO_COLOR=1")
	args := []string{"-m", chatModel, "-n", "8", "--temp", "0", "-t", "1"}
	want := onTerminal(oneShot(t, append(args, "-p", "hello")...))

	term := startTerminal(t, env, nil, args...)
	term.expect("Chat mode (template llama2)")
	term.expect(prompt)
	term.send("hello" + keyEnter)
	if got := term.expect(prompt); !strings.HasSuffix(got, "hello\n"+want) {
		t.Errorf("first answer: the terminal shows %q, want the answer %q after the message", got, want)
	}

	// The up arrow recalls "hello"; Enter sends it again.
	term.send(keyUp)
	term.expect("hello")
	term.send(keyEnter)
	term.expect(prompt)

	// A message of several lines between """ markers.
	term.send(`"""` + keyEnter)
	term.expect("... ")
	term.send("line one" + keyEnter)
	term.expect("... ")
	term.send("line two" + keyEnter)
	term.expect("... ")
	term.send(`"""` + keyEnter)
	term.expect(prompt)

	// Ctrl+C on an empty line says how to leave, and does not leave.
	term.send(keyCtrlC)
	term.expect("Use Ctrl+D or /bye to leave.")
	term.expect(prompt)

	commands := []struct{ line, reply string }{
		{"/set temperature 0.5", "temperature = 0.5"},
		{"/set top_k many", `"many" is not a whole number`},
		{"/set top_p 2", "top_p 2 must be in (0, 1]"},
		{"/set seed -5", "seed -5 must be >= 0, or -1"},
		{"/set repeat_penalty 0", "repeat_penalty 0 must be a finite number > 0"},
		{"/set nonsense 1", `unknown setting "nonsense"`},
		{"/set threads 2", "threads = 2"},
		{"/nope", "Unknown command /nope"},
		{"/system Be brief.", "System prompt set."},
		{"/stats on", "Statistics on."},
		{"/template", "template llama2; known: bitnet, chatml, llama2, llama3, none"},
		{"/template llama3", "does not suit this model"},
		{"/help", "/load FILE"},
		{"/show", "template  llama2 (chat)"},
	}
	for _, c := range commands {
		term.send(c.line + keyEnter)
		term.expect(c.reply)
		term.expect(prompt)
	}
	// Tab completes commands: "/sh" becomes "/show".
	term.send("/sh\t" + keyEnter)
	show := term.expect(prompt)
	for _, want := range []string{`system    "Be brief."`, "temperature 0.5", "top_k 40", "threads 2", "chat.gguf", "stats     on"} {
		if !strings.Contains(show, want) {
			t.Errorf("/show lacks %q:\n%s", want, show)
		}
	}

	// With /stats on, an answer is followed by its statistics.
	term.send("and now?" + keyEnter)
	if got := term.expect(prompt); !regexp.MustCompile(`answer 8 tokens in [0-9.]+s \([0-9.]+ tok/s\) · token limit`).MatchString(got) {
		t.Errorf("no statistics after the answer:\n%s", got)
	}

	saved := filepath.Join(home, "conversation.json")
	term.send("/save " + saved + keyEnter)
	term.expect("Saved 9 messages")
	msgs := readSaved(t, saved)
	wantRoles := []string{"system", "user", "assistant", "user", "assistant", "user", "assistant", "user", "assistant"}
	wantUser := map[int]string{1: "hello", 3: "hello", 5: "line one\nline two", 7: "and now?"}
	if len(msgs) != len(wantRoles) {
		t.Fatalf("saved %d messages, want %d: %+v", len(msgs), len(wantRoles), msgs)
	}
	for i, m := range msgs {
		if m.Role != wantRoles[i] || (wantUser[i] != "" && m.Content != wantUser[i]) {
			t.Errorf("message %d: %+v, want role %s content %q", i, m, wantRoles[i], wantUser[i])
		}
	}
	if msgs[0].Content != "Be brief." || forTerminal(msgs[2].Content) != want {
		t.Errorf("saved system %q and first answer %q, want %q and %q", msgs[0].Content, msgs[2].Content, "Be brief.", want)
	}

	// /clear starts again; /load brings the conversation back.
	term.send("/clear" + keyEnter)
	term.expect("New conversation.")
	term.send("/load " + saved + keyEnter)
	term.expect("Loaded 9 messages")
	term.send("/load " + filepath.Join(home, "missing.json") + keyEnter)
	term.expect("/load: load ")
	term.expect("no such file")
	term.expect(prompt)
	odd := filepath.Join(home, "odd.json")
	if err := os.WriteFile(odd, []byte(`{"version":1,"messages":[{"role":"assistant","content":"Hi"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	term.send("/load " + odd + keyEnter)
	term.expect("the llama2 template cannot continue this conversation")
	term.expect(prompt)

	term.send(`"""first` + keyEnter)
	term.send(`second"""` + keyEnter)
	term.expect(prompt)
	term.send(keyCtrlD)
	if code := term.wait(); code != 0 {
		t.Fatalf("Ctrl+D: exit %d", code)
	}

	history, err := os.ReadFile(filepath.Join(home, "state", "bitnet", "history"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello\n", "\"\"\"line one↵line two\"\"\"\n", "\"\"\"first↵second\"\"\"\n", "/stats on\n"} {
		if !strings.Contains(string(history), want) {
			t.Errorf("history file lacks %q:\n%s", want, history)
		}
	}
	if strings.Count(string(history), "hello\n") != 1 {
		t.Errorf("a message sent twice in a row is in the history twice:\n%s", history)
	}

	// A new run recalls the last entry of the previous one, a multi-line
	// message, and sends it as the same text.
	term = startTerminal(t, env, nil, args...)
	term.expect(prompt)
	term.send(keyUp)
	term.expect(`"""first↵second"""`)
	term.send(keyEnter)
	term.expect(prompt)
	term.send("/save " + saved + keyEnter)
	term.expect("Saved 2 messages")
	if msgs := readSaved(t, saved); len(msgs) != 2 || msgs[0].Content != "first\nsecond" {
		t.Errorf("recalled multi-line message saved as %+v", msgs)
	}
	term.send("/bye" + keyEnter)
	if code := term.wait(); code != 0 {
		t.Fatalf("/bye: exit %d", code)
	}
}

// TestTerminalCtrlCStopsAnswer interrupts a long answer: bitnet must be
// back at the prompt at once, keep the partial answer in the conversation,
// and answer the next message.
func TestTerminalCtrlCStopsAnswer(t *testing.T) {
	home := t.TempDir()
	// A context window of 8192 tokens and no length limit: the model,
	// which here cannot end its turn, would write for many seconds.
	term := startTerminal(t, testEnv(home, "NO_COLOR=1"), nil, "-m", endlessChat, "-c", "8192", "--temp", "0", "-t", "1")
	term.expect(prompt)
	term.send("tell me a long story" + keyEnter)
	term.expect("tell me a long story\n")
	start := len(term.raw(0))
	for deadline := time.Now().Add(waitLimit); len(term.raw(start)) < 300; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the answer did not start:\n%s", term.text(0))
		}
	}
	pressed := time.Now()
	term.send(keyCtrlC)
	term.expect("(stopped)")
	term.expect(prompt)
	latency := time.Since(pressed)
	t.Logf("Ctrl+C to prompt: %v", latency)
	// Generous: the machine is shared; what is measured is in the log.
	// TestGenerateStopsAtNextCheck shows without a clock that the engine
	// stops at its next check, at most one layer's work after Ctrl+C.
	if latency > 2*time.Second {
		t.Errorf("Ctrl+C took %v to return to the prompt", latency)
	}

	term.send("/set max_tokens 5" + keyEnter)
	term.expect("max_tokens = 5")
	term.expect(prompt)
	term.send("and then?" + keyEnter)
	if got := term.expect(prompt); strings.Contains(got, "(stopped)") || len(strings.TrimSpace(strings.TrimPrefix(got, "and then?"))) == 0 {
		t.Errorf("the next answer after Ctrl+C: %q", got)
	}
	saved := filepath.Join(home, "c.json")
	term.send("/save " + saved + keyEnter)
	term.expect("Saved 4 messages")
	msgs := readSaved(t, saved)
	if len(msgs) != 4 || msgs[0].Content != "tell me a long story" || msgs[1].Content == "" || msgs[2].Content != "and then?" || msgs[3].Content == "" {
		t.Errorf("conversation after Ctrl+C: %+v", msgs)
	}

	// Ctrl+D typed while an answer is written reaches bitnet once the
	// answer ends, and leaves.
	term.send("/set max_tokens 3000" + keyEnter)
	term.expect(prompt)
	term.send("once more" + keyEnter)
	term.expect("once more\n")
	for start, deadline := len(term.raw(0)), time.Now().Add(waitLimit); len(term.raw(start)) < 100; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the answer did not start:\n%s", term.text(0))
		}
	}
	term.send(keyCtrlD)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestTerminalCompletionMode runs a model without a chat template: bitnet
// says it continues text, and does.
func TestTerminalCompletionMode(t *testing.T) {
	args := []string{"-m", baseModel, "-n", "12", "--temp", "0", "-t", "1"}
	want := onTerminal(oneShot(t, append(args, "-p", "Once upon a time")...))
	term := startTerminal(t, testEnv(t.TempDir(), "NO_COLOR=1"), nil, args...)
	term.expect("Completion mode: the model continues the text you type")
	term.expect(prompt)
	for range 2 { // each text is continued on its own
		term.send("Once upon a time" + keyEnter)
		if got := term.expect(prompt); !strings.Contains(got, want) {
			t.Errorf("continuation %q, want %q", got, want)
		}
	}
	term.send("/template llama2" + keyEnter)
	term.expect("Chat mode (template llama2)")
	term.send(keyCtrlD)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestTerminalContextOverflow holds a conversation longer than the
// 256-token context window: bitnet drops the oldest turns, says so once,
// and keeps answering.
func TestTerminalContextOverflow(t *testing.T) {
	home := t.TempDir()
	term := startTerminal(t, testEnv(home, "NO_COLOR=1"), nil, "-m", chatModel, "-n", "24", "--temp", "0", "-t", "1", "-s", "You are a test.")
	term.expect(prompt)
	const notice = "no longer fits the 256-token context window"
	for i := range 10 {
		term.send(strings.Repeat("tell me more about the weather ", 3) + string(rune('a'+i)) + keyEnter)
		term.expect(prompt)
	}
	// Tab completes commands: "/sh" becomes "/show".
	term.send("/sh\t" + keyEnter)
	show := term.expect(prompt)
	if n := strings.Count(term.text(0), notice); n != 1 {
		t.Errorf("the dropped-turns notice appears %d times, want once", n)
	}
	if m := regexp.MustCompile(`context   (\d+) of 256 tokens`).FindStringSubmatch(show); m == nil {
		t.Errorf("/show lacks the context use:\n%s", show)
	}
	saved := filepath.Join(home, "c.json")
	term.send("/save " + saved + keyEnter)
	term.expect(prompt)
	msgs := readSaved(t, saved)
	if len(msgs) >= 21 || msgs[0].Role != "system" || msgs[0].Content != "You are a test." || !strings.HasSuffix(msgs[len(msgs)-2].Content, "j") {
		t.Errorf("after overflowing, the conversation is %+v", msgs)
	}
	term.send(keyCtrlD)
	term.wait()
}

// sgr matches a colour escape sequence.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestTerminalColour checks that the chat is coloured on a terminal, and
// not with NO_COLOR or --no-color.
func TestTerminalColour(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    []string
		flags  []string
		colour bool
	}{
		{"default", nil, nil, true},
		{"NO_COLOR", []string{"NO_COLOR=1"}, nil, false},
		{"--no-color", nil, []string{"--no-color"}, false},
		{"TERM=dumb", []string{"TERM=dumb"}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-m", chatModel, "-n", "4", "--temp", "0", "-t", "1"}, c.flags...)
			term := startTerminal(t, testEnv(t.TempDir(), c.env...), nil, args...)
			term.expect(prompt)
			term.send("hi" + keyEnter)
			term.expect(prompt)
			term.send(keyCtrlD)
			term.wait()
			if got := sgr.MatchString(term.raw(0)); got != c.colour {
				t.Errorf("colour escapes present: %v, want %v:\n%q", got, c.colour, term.raw(0))
			}
		})
	}
}

// TestTerminalStdoutRedirected runs the chat with stdout sent to a file:
// only the answers go there; the banner, prompt and notices stay on the
// terminal (stderr).
func TestTerminalStdoutRedirected(t *testing.T) {
	args := []string{"-m", chatModel, "-n", "8", "--temp", "0", "-t", "1"}
	want := oneShot(t, append(args, "-p", "hello")...)
	var stdout bytes.Buffer
	term := startTerminal(t, testEnv(t.TempDir()), &stdout, args...)
	term.expect("Chat mode")
	term.expect(prompt)
	term.send("hello" + keyEnter)
	term.expect(prompt)
	term.send("/show" + keyEnter)
	term.expect("template")
	term.expect(prompt)
	term.send(keyCtrlD)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if stdout.String() != want {
		t.Errorf("stdout holds %q, want only the answer %q", stdout.String(), want)
	}
	if sgr.MatchString(stdout.String()) {
		t.Errorf("colour escapes in redirected stdout: %q", stdout.String())
	}
}
