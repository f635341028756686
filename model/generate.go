package model

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// GenerateOptions configure one generation.
type GenerateOptions struct {
	// MaxTokens bounds the number of generated tokens; 0 means until a stop
	// token or the end of the context window.
	MaxTokens int
	// Sampler chooses each token.
	Sampler SamplerOptions
	// StopTokens end the generation when sampled (the end-of-sequence and
	// end-of-turn tokens of the model). The stop token is not emitted.
	StopTokens []int
}

// StopReason says why a generation ended.
type StopReason int

const (
	// StopToken means a stop token was sampled.
	StopToken StopReason = iota
	// StopMaxTokens means MaxTokens were generated.
	StopMaxTokens
	// StopContextFull means the context window has no room left.
	StopContextFull
	// StopCancelled means the context was cancelled or emit returned an error.
	StopCancelled
)

// String describes the reason in a few words.
func (r StopReason) String() string {
	switch r {
	case StopToken:
		return "end of text"
	case StopMaxTokens:
		return "token limit"
	case StopContextFull:
		return "context full"
	}
	return "cancelled"
}

// Stats describe a finished generation.
type Stats struct {
	PromptTokens    int           // prompt tokens evaluated (not counting reused ones)
	ReusedTokens    int           // prompt tokens whose cache entries were reused
	GeneratedTokens int           // tokens emitted
	PromptTime      time.Duration // time to evaluate the prompt
	GenerateTime    time.Duration // time from the first sampled token to the end
	Reason          StopReason
}

// PromptTokensPerSecond returns the prompt evaluation speed.
func (s Stats) PromptTokensPerSecond() float64 {
	return perSecond(s.PromptTokens, s.PromptTime)
}

// GenerateTokensPerSecond returns the generation speed.
func (s Stats) GenerateTokensPerSecond() float64 {
	return perSecond(s.GeneratedTokens, s.GenerateTime)
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Generate continues the session with prompt and then samples tokens,
// calling emit with each one as soon as it is chosen. The longest prefix of
// prompt already in the session's cache is reused. It stops at a stop token,
// after MaxTokens, when the context window is full, or when ctx is cancelled
// or emit returns an error; in those last two cases it returns the error
// together with the statistics of what was done. Generated tokens, except a
// final stop token, become part of the session.
func (s *Session) Generate(ctx context.Context, prompt []int, opts GenerateOptions, emit func(token int) error) (Stats, error) {
	var st Stats
	if len(prompt) == 0 {
		return st, errors.New("generate: empty prompt")
	}
	if len(prompt) > s.Cap() {
		return st, fmt.Errorf("generate: %w: the prompt has %d tokens, the context window %d", ErrContextFull, len(prompt), s.Cap())
	}
	sampler, err := NewSampler(opts.Sampler, s.m.Config.VocabSize)
	if err != nil {
		return st, fmt.Errorf("generate: %w", err)
	}

	// Reuse the cached prefix; at least the last prompt token is evaluated
	// again so that its logits are fresh.
	reuse := commonPrefix(s.tokens, prompt)
	reuse = min(reuse, len(prompt)-1)
	s.Truncate(reuse)
	st.ReusedTokens = reuse
	start := time.Now()
	if err := s.Forward(ctx, prompt[reuse:], nil); err != nil {
		st.Reason = StopCancelled
		return st, err
	}
	st.PromptTokens = len(prompt) - reuse
	st.PromptTime = time.Since(start)

	start = time.Now()
	for {
		if err := ctx.Err(); err != nil {
			st.Reason = StopCancelled
			st.GenerateTime = time.Since(start)
			return st, err
		}
		tok := sampler.Sample(s.Logits(), s.tokens)
		if slices.Contains(opts.StopTokens, tok) {
			st.Reason = StopToken
			break
		}
		st.GeneratedTokens++
		if err := emit(tok); err != nil {
			st.Reason = StopCancelled
			st.GenerateTime = time.Since(start)
			return st, err
		}
		if opts.MaxTokens > 0 && st.GeneratedTokens >= opts.MaxTokens {
			st.Reason = StopMaxTokens
			break
		}
		if s.Len() >= s.Cap() {
			st.Reason = StopContextFull
			break
		}
		s.next[0] = tok
		if err := s.Forward(ctx, s.next[:], nil); err != nil {
			st.Reason = StopCancelled
			st.GenerateTime = time.Since(start)
			return st, err
		}
	}
	st.GenerateTime = time.Since(start)
	return st, nil
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []int) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
