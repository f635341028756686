package repl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/bitnet-go/bitnet/model"
)

// ErrInterrupted is returned by Once when the answer was stopped by the
// cancellation of its context (Ctrl+C).
var ErrInterrupted = errors.New("interrupted")

// OnceOptions configure Once.
type OnceOptions struct {
	// Out receives the answer, and nothing else.
	Out io.Writer
	// OutTerminal says that Out is a terminal: control characters in the
	// answer are then shown in caret notation instead of sent raw.
	OutTerminal bool
	// ColorOut colours the answer.
	ColorOut bool
	// JSON writes one JSON object (see OnceResult) when the answer is done
	// instead of streaming the text.
	JSON bool
}

// OnceResult is the JSON object Once writes with OnceOptions.JSON.
type OnceResult struct {
	Model                   string  `json:"model"`
	Template                string  `json:"template"`
	Text                    string  `json:"text"`
	PromptTokens            int     `json:"prompt_tokens"`
	GeneratedTokens         int     `json:"generated_tokens"`
	PromptSeconds           float64 `json:"prompt_seconds"`
	GenerateSeconds         float64 `json:"generate_seconds"`
	PromptTokensPerSecond   float64 `json:"prompt_tokens_per_second"`
	GenerateTokensPerSecond float64 `json:"generate_tokens_per_second"`
	// StopReason is "end_of_text", "max_tokens", "context_full" or
	// "interrupted".
	StopReason string `json:"stop_reason"`
}

// Once answers one prompt as a new conversation: the answer is written to
// Out as it is made and ends with a newline. When ctx is cancelled the
// partial answer is kept and ErrInterrupted is returned.
func Once(ctx context.Context, c *Chat, prompt string, opts OnceOptions) error {
	style := newStyles(opts.ColorOut).answer
	last := byte('\n')
	stream := Stream{Text: func(s string) error {
		if opts.JSON {
			return nil
		}
		if opts.OutTerminal {
			s = forTerminal(s)
		}
		if s == "" {
			return nil
		}
		last = s[len(s)-1]
		_, err := style.Fprint(opts.Out, s)
		return err
	}}
	r, err := c.Reply(ctx, prompt, stream)
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := writeResult(opts.Out, c, r); err != nil {
			return err
		}
	} else if last != '\n' {
		if _, err := fmt.Fprintln(opts.Out); err != nil {
			return err
		}
	}
	if r.Stats.Reason == model.StopCancelled {
		return ErrInterrupted
	}
	return nil
}

func writeResult(w io.Writer, c *Chat, r Reply) error {
	st := r.Stats
	res := OnceResult{
		Model:                   c.model.Name,
		Template:                c.template.Name(),
		Text:                    r.Text,
		PromptTokens:            st.PromptTokens + st.ReusedTokens,
		GeneratedTokens:         st.GeneratedTokens,
		PromptSeconds:           st.PromptTime.Seconds(),
		GenerateSeconds:         st.GenerateTime.Seconds(),
		PromptTokensPerSecond:   st.PromptTokensPerSecond(),
		GenerateTokensPerSecond: st.GenerateTokensPerSecond(),
		StopReason:              stopReason(st.Reason),
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

func stopReason(r model.StopReason) string {
	switch r {
	case model.StopToken:
		return "end_of_text"
	case model.StopMaxTokens:
		return "max_tokens"
	case model.StopContextFull:
		return "context_full"
	}
	return "interrupted"
}
