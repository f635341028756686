// Package repl is bitnet's conversation front end: the interactive chat on a
// terminal (github.com/chzyer/readline: history, """ multi-line input,
// slash commands, Ctrl+C to stop an answer), one-shot answers for prompts
// given as flags or piped through stdin, and their rendering with
// github.com/fatih/color.
//
// Chat holds a conversation and turns it into tokens with the model's chat
// template, dropping the oldest turns when the context window would
// overflow; Run is the terminal loop around it and Once answers one prompt.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
	"github.com/fatih/color"

	"github.com/bitnet-go/bitnet/model"
)

// Prompts of the interactive chat.
const (
	mainPrompt     = ">>> "
	continuePrompt = "... "
)

// Options configure Run.
type Options struct {
	// In is the terminal the user types on. Readline puts standard input
	// in raw mode, so In must be os.Stdin on a terminal.
	In io.Reader
	// Out receives the answers; Err receives everything else when Out is
	// not a terminal.
	Out, Err io.Writer
	// OutTerminal says that Out is a terminal: then the prompt, status
	// lines and notices go to Out beside the answers, and answers are made
	// safe to show (control characters are not sent raw).
	OutTerminal bool
	// ColorOut and ColorErr enable colour on Out and on Err.
	ColorOut, ColorErr bool
	// HistoryFile keeps the input history between runs; empty for none.
	HistoryFile string
	// Banner is shown first, e.g. the program's name and version.
	Banner string
}

// session is the state of a running chat loop.
type session struct {
	chat        *Chat
	rl          *readline.Instance
	out         io.Writer
	outTerminal bool
	answer      *color.Color
	ui          printer // prompt, status lines, notices, errors
	stats       bool    // show statistics after each answer
	toldDropped bool    // the user was told that old turns are being dropped
}

// Run holds an interactive chat on the terminal until the user leaves with
// Ctrl+D or /bye. It returns an error only when the terminal cannot be used.
func Run(ctx context.Context, c *Chat, opts Options) error {
	uiOut, uiColor := opts.Err, opts.ColorErr
	if opts.OutTerminal {
		uiOut, uiColor = opts.Out, opts.ColorOut
	}
	ui := printer{w: uiOut, st: newStyles(uiColor)}
	s := &session{
		chat:        c,
		out:         opts.Out,
		outTerminal: opts.OutTerminal,
		answer:      newStyles(opts.ColorOut).answer,
		ui:          ui,
	}
	history := opts.HistoryFile
	if history != "" {
		if err := os.MkdirAll(filepath.Dir(history), 0o700); err != nil {
			ui.Notice("no input history: %v", err)
			history = ""
		}
	}
	// Readline wraps its Stdin in a reader of its own whose Close does not
	// close Stdin; Close must close this one itself, see below.
	stdin := readline.NewCancelableStdin(opts.In)
	cfg := &readline.Config{
		Prompt:                 ui.st.prompt.Sprint(mainPrompt),
		HistoryFile:            history,
		HistoryLimit:           1000,
		DisableAutoSaveHistory: true, // multi-line entries are saved whole, see historyEntry
		InterruptPrompt:        "^C",
		EOFPrompt:              "\n", // readline's spelling of "print nothing"
		Stdin:                  stdin,
		Stdout:                 uiOut,
		Stderr:                 uiOut,
	}
	// Tab completion needs the terminal's width to draw its candidates.
	if readline.GetScreenWidth() > 0 {
		cfg.AutoComplete = completer()
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return fmt.Errorf("start the chat: %w", err)
	}
	// Close is called only after the last Readline has returned: closing
	// readline while it reads can hang. Even then readline may be reading
	// stdin for the next line (after a Ctrl+D typed during an answer, which
	// reaches it as a NUL once raw mode is back) and would wait for input
	// forever; closing stdin first ends that read.
	defer func() {
		stdin.Close()
		rl.Close()
	}()
	s.rl = rl

	if opts.Banner != "" {
		ui.Status("%s", opts.Banner)
	}
	s.sayMode()
	return s.loop(ctx)
}

// sayMode tells the user whether the model chats or continues text.
func (s *session) sayMode() {
	const keys = "/help for commands, Ctrl+D or /bye to leave."
	if s.chat.Completion() {
		s.ui.Notice("Completion mode: the model continues the text you type (template none; /template NAME to chat). %s", keys)
		return
	}
	s.ui.Notice("Chat mode (template %s): type a message; \"\"\" starts and ends several lines. %s", s.chat.Template().Name(), keys)
}

// loop reads entries and answers or runs them until the user leaves.
func (s *session) loop(ctx context.Context) error {
	prompt := s.ui.st.prompt.Sprint(mainPrompt)
	more := s.ui.st.prompt.Sprint(continuePrompt)
	for {
		e, err := readEntry(s.rl, prompt, more)
		// Readline leaves the history cursor on a recalled entry; saving an
		// empty entry moves it back to the end without adding anything.
		s.rl.SaveHistory("")
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if strings.TrimSpace(e.text) == "" {
				s.ui.Status("Use Ctrl+D or /bye to leave.")
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("read input: %w", err)
		}
		text := e.text
		if strings.TrimSpace(text) == "" {
			continue
		}
		s.rl.SaveHistory(historyEntry(text, e.multiline))
		if !e.multiline && isCommand(text) {
			if quit := s.command(text); quit {
				return nil
			}
			continue
		}
		if !e.multiline {
			text = messageText(text)
		}
		s.reply(ctx, text)
	}
}

// reply answers one message, stopping early when the user presses Ctrl+C.
// Readline keeps the terminal in raw mode only while it reads a line, so
// during an answer Ctrl+C arrives as a signal (DESIGN.md §9).
func (s *session) reply(ctx context.Context, text string) {
	actx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	last := byte('\n')
	r, err := s.chat.Reply(actx, text, Stream{
		Dropped: func(n int) {
			if !s.toldDropped {
				_, window := s.chat.ContextUsed()
				kept := ""
				if s.chat.System != "" {
					kept = " (the system prompt is kept)"
				}
				s.ui.Notice("The conversation no longer fits the %d-token context window: the oldest turns are dropped from now on%s.", window, kept)
				s.toldDropped = true
			}
		},
		Text: func(t string) error {
			if s.outTerminal {
				t = forTerminal(t)
			}
			if t == "" {
				return nil
			}
			last = t[len(t)-1]
			_, err := s.answer.Fprint(s.out, t)
			return err
		},
	})
	stop()
	if last != '\n' {
		fmt.Fprintln(s.out)
	}
	var tooLong *PromptTooLongError
	switch {
	case errors.As(err, &tooLong):
		s.ui.Error("Not sent: %v. Shorten it%s.", err, s.shortenHint())
		return
	case err != nil:
		s.ui.Error("%v", err)
		return
	}
	switch r.Stats.Reason {
	case model.StopCancelled:
		s.ui.Status("(stopped)")
	case model.StopContextFull:
		s.ui.Notice("(the context window is full: the answer was cut; the next message drops the oldest turns)")
	case model.StopToken:
		if r.Text == "" {
			s.ui.Status("(the model ended its answer at once)")
		}
	}
	if s.stats {
		s.ui.Status("%s", FormatStats(r.Stats))
	}
}

// shortenHint suggests what else makes room for a long message.
func (s *session) shortenHint() string {
	if s.chat.System != "" {
		return " or the system prompt (/system)"
	}
	return ""
}

// FormatStats describes an answer's statistics in one line.
func FormatStats(st model.Stats) string {
	cached := ""
	if st.ReusedTokens > 0 {
		cached = fmt.Sprintf(" (+%d cached)", st.ReusedTokens)
	}
	return fmt.Sprintf("prompt %d tokens%s in %.2fs (%.1f tok/s) · answer %d tokens in %.2fs (%.1f tok/s) · %s",
		st.PromptTokens, cached, st.PromptTime.Seconds(), st.PromptTokensPerSecond(),
		st.GeneratedTokens, st.GenerateTime.Seconds(), st.GenerateTokensPerSecond(), st.Reason)
}
