package repl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/bitnet-go/bitnet/model"
)

// Settings are the generation parameters a user sets with flags or /set.
type Settings struct {
	// Sampler chooses each token; its Seed field is ignored in favour of
	// Seed below.
	Sampler model.SamplerOptions
	// Seed seeds each answer's sampler; -1 means a new random seed for
	// every answer. Other negative seeds are invalid (as --seed says).
	Seed int64
	// MaxTokens bounds the length of an answer; 0 means until the model
	// ends its turn or the context window is full.
	MaxTokens int
}

// DefaultSettings are the settings bitnet starts with: temperature 0.8,
// top-k 40, top-p 0.95, min-p 0.05, no repetition penalty, a random seed
// per answer and no length limit.
func DefaultSettings() Settings {
	return Settings{
		Sampler:   model.SamplerOptions{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1},
		Seed:      -1,
		MaxTokens: 0,
	}
}

// Validate reports settings out of range, with the names /set uses. Besides
// what model.SamplerOptions.Validate refuses it refuses the values that the
// sampler reads as "off" but a user would not mean so: top_p 0 (the sampler
// would keep every token) and repeat_penalty 0 (the sampler would apply no
// penalty); 1 turns either off.
func (s *Settings) Validate() error {
	o := &s.Sampler
	switch {
	case s.MaxTokens < 0:
		return fmt.Errorf("max_tokens %d must be >= 0 (0 = no limit)", s.MaxTokens)
	case s.Seed < -1:
		return fmt.Errorf("seed %d must be >= 0, or -1 for a new random seed each answer", s.Seed)
	case !(o.TopP > 0 && o.TopP <= 1):
		return fmt.Errorf("top_p %v must be in (0, 1] (1 = off)", o.TopP)
	case !(o.RepeatPenalty > 0) || math.IsInf(float64(o.RepeatPenalty), 0):
		return fmt.Errorf("repeat_penalty %v must be a finite number > 0 (1 = off)", o.RepeatPenalty)
	}
	return o.Validate()
}

// samplerFor returns the sampler options for one answer.
func (s *Settings) samplerFor() model.SamplerOptions {
	o := s.Sampler
	if s.Seed < 0 {
		o.Seed = rand.Uint64()
	} else {
		o.Seed = uint64(s.Seed)
	}
	return o
}

// setting is one key of /set.
type setting struct {
	key, help string
	get       func(s *Settings) string
	set       func(s *Settings, v string) error
}

// settingKeys are the keys /set knows besides threads, which belongs to the
// model rather than to the settings.
var settingKeys = []setting{
	{"temperature", "randomness; 0 = always the most likely token",
		func(s *Settings) string { return formatFloat(s.Sampler.Temperature) },
		func(s *Settings, v string) error { return parseFloat(v, &s.Sampler.Temperature) }},
	{"top_k", "sample among the K most likely tokens; 0 = all",
		func(s *Settings) string { return strconv.Itoa(s.Sampler.TopK) },
		func(s *Settings, v string) error { return parseInt(v, &s.Sampler.TopK) }},
	{"top_p", "sample among the most likely tokens up to this probability; 1 = all",
		func(s *Settings) string { return formatFloat(s.Sampler.TopP) },
		func(s *Settings, v string) error { return parseFloat(v, &s.Sampler.TopP) }},
	{"min_p", "drop tokens less likely than this fraction of the best; 0 = off",
		func(s *Settings) string { return formatFloat(s.Sampler.MinP) },
		func(s *Settings, v string) error { return parseFloat(v, &s.Sampler.MinP) }},
	{"repeat_penalty", "penalty on recently used tokens; 1 = off",
		func(s *Settings) string { return formatFloat(s.Sampler.RepeatPenalty) },
		func(s *Settings, v string) error { return parseFloat(v, &s.Sampler.RepeatPenalty) }},
	{"seed", "random seed >= 0, so answers repeat; -1 or random = new each answer",
		func(s *Settings) string {
			if s.Seed < 0 {
				return "random"
			}
			return strconv.FormatInt(s.Seed, 10)
		},
		func(s *Settings, v string) error {
			if v == "random" {
				s.Seed = -1
				return nil
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			s.Seed = n // Validate refuses seeds below -1
			return nil
		}},
	{"max_tokens", "longest answer in tokens; 0 = no limit",
		func(s *Settings) string { return strconv.Itoa(s.MaxTokens) },
		func(s *Settings, v string) error { return parseInt(v, &s.MaxTokens) }},
}

// settingAliases are other spellings /set accepts.
var settingAliases = map[string]string{
	"temp": "temperature", "topk": "top_k", "topp": "top_p", "minp": "min_p",
	"repeat-penalty": "repeat_penalty", "max-tokens": "max_tokens", "top-k": "top_k",
	"top-p": "top_p", "min-p": "min_p", "num_predict": "max_tokens", "n": "max_tokens",
}

// findSetting returns the setting called key.
func findSetting(key string) (setting, bool) {
	key = strings.ToLower(key)
	if k, ok := settingAliases[key]; ok {
		key = k
	}
	for _, s := range settingKeys {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// apply sets key to value, leaving s unchanged when the value is invalid.
func (s *Settings) apply(key, value string) error {
	def, ok := findSetting(key)
	if !ok {
		return fmt.Errorf("unknown setting %q", key)
	}
	next := *s
	if err := def.set(&next, value); err != nil {
		return fmt.Errorf("%s: %w", def.key, err)
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*s = next
	return nil
}

func parseFloat(v string, p *float32) error {
	f, err := strconv.ParseFloat(v, 32)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*p = float32(f)
	return nil
}

func parseInt(v string, p *int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*p = n
	return nil
}

func formatFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }
