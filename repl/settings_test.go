package repl

import (
	"strings"
	"testing"
)

func TestSettingsApply(t *testing.T) {
	s := DefaultSettings()
	valid := []struct{ key, value, shown string }{
		{"temperature", "0", "0"},
		{"temp", "1.5", "1.5"},
		{"TOP_K", "7", "7"},
		{"top_p", "0.5", "0.5"},
		{"min-p", "0.1", "0.1"},
		{"repeat_penalty", "1.1", "1.1"},
		{"seed", "42", "42"},
		{"seed", "random", "random"},
		{"seed", "-1", "random"},
		{"max_tokens", "100", "100"},
		{"n", "0", "0"},
	}
	for _, v := range valid {
		if err := s.apply(v.key, v.value); err != nil {
			t.Errorf("/set %s %s: %v", v.key, v.value, err)
			continue
		}
		def, _ := findSetting(v.key)
		if got := def.get(&s); got != v.shown {
			t.Errorf("/set %s %s: shows %q, want %q", v.key, v.value, got, v.shown)
		}
	}
	before := s
	invalid := [][2]string{
		{"temperature", "warm"}, {"temperature", "-0.5"}, {"temperature", "NaN"}, {"temperature", "+Inf"},
		{"top_k", "1.5"}, {"top_k", "-1"}, {"top_p", "1.01"}, {"min_p", "-0.1"},
		{"repeat_penalty", "-2"}, {"seed", "abc"}, {"max_tokens", "-5"}, {"colour", "blue"},
		// Values the sampler would read as "off", and other holes.
		{"repeat_penalty", "0"}, {"repeat_penalty", "NaN"}, {"repeat_penalty", "+Inf"},
		{"top_p", "0"}, {"top_p", "-0.5"}, {"top_p", "NaN"}, {"min_p", "1.5"}, {"min_p", "NaN"},
		{"top_k", "-3"}, {"seed", "-5"}, {"seed", "-9223372036854775808"},
	}
	for _, v := range invalid {
		err := s.apply(v[0], v[1])
		if err == nil {
			t.Errorf("/set %s %s accepted", v[0], v[1])
		} else if key, _ := findSetting(v[0]); key.key != "" && !strings.Contains(err.Error(), key.key) {
			t.Errorf("/set %s %s: error %q does not name the setting", v[0], v[1], err)
		}
		if s != before {
			t.Fatalf("/set %s %s changed the settings though it failed: %+v", v[0], v[1], s)
		}
	}
}

// TestSeedPerAnswer checks that a fixed seed repeats and a random one does not.
func TestSeedPerAnswer(t *testing.T) {
	s := DefaultSettings()
	s.Seed = 7
	if a, b := s.samplerFor().Seed, s.samplerFor().Seed; a != 7 || b != 7 {
		t.Errorf("seed 7 gives %d and %d", a, b)
	}
	s.Seed = -1
	if a, b := s.samplerFor().Seed, s.samplerFor().Seed; a == b {
		t.Errorf("random seeds repeat: %d", a)
	}
}
