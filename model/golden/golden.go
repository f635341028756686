// Package golden reads the reference data in ../shared/testdata (models,
// teacher-forced logits from reference programs, tokenizer ids) and applies
// its acceptance rules, so that tests in every package judge the engine the
// same way. The data's README defines the formats and rules.
package golden

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// SharedDir returns the shared folder beside the repository root
// (<root>/../shared), or skips the test with a clear message when it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory; cannot locate ../shared")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	if _, err := os.Stat(filepath.Join(shared, "testdata")); err != nil {
		t.Skipf("golden data not available: %s/testdata is absent", shared)
	}
	return shared
}

// Case is one model case: a folder with model.gguf, tokens.json, case.json
// and one .f32 logits file per reference source.
type Case struct {
	Name   string
	Dir    string
	Tokens Tokens
	Spec   Spec
}

// Tokens is tokens.json.
type Tokens struct {
	PromptText string `json:"prompt_text"`
	Prompt     []int  `json:"prompt"`
	Sequence   []int  `json:"sequence"`
}

// Spec is the part of case.json the tests use.
type Spec struct {
	Name  string `json:"name"`
	Model struct {
		Arch       string `json:"arch"`
		Activation string `json:"activation"`
		WeightType string `json:"weight_type"`
		EmbedType  string `json:"embedding_type"`
		Shape      struct {
			Vocab int `json:"vocab"`
		} `json:"shape"`
	} `json:"model"`
	Sources map[string]struct {
		File string `json:"file"`
	} `json:"sources"`
	Checks []Check `json:"checks"`
}

// Check is one acceptance check of case.json.
type Check struct {
	Name      string  `json:"name"`
	CompareTo string  `json:"compare_to"`
	Tolerance float64 `json:"tolerance"`
	Rules     *Rules  `json:"rules"`
}

// Rules are the statistical rules of the int8 checks (testdata README §3.2).
type Rules struct {
	// CloserThan lists the sources the engine must be further from than from
	// CompareTo at MinFraction of the positions. The JSON key names the
	// compared source, so it is decoded by UnmarshalJSON.
	CloserThan    []string
	MinFraction   float64 `json:"min_fraction_of_positions"`
	MaxMeanAbs    float64 `json:"max_mean_abs"`
	MaxMaxAbs     float64 `json:"max_max_abs"`
	MinArgmaxFrac float64 `json:"min_argmax_agree_fraction"`
}

// UnmarshalJSON decodes the rules, whose "closer than" key is
// positions_closer_to_<source>_than_to_each_of.
func (r *Rules) UnmarshalJSON(b []byte) error {
	type plain Rules
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		if strings.HasPrefix(k, "positions_closer_to_") && strings.HasSuffix(k, "_than_to_each_of") {
			if err := json.Unmarshal(v, &r.CloserThan); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return nil
}

// Cases returns every model case under shared/testdata/models, by name.
func Cases(t testing.TB) []Case {
	t.Helper()
	root := filepath.Join(SharedDir(t), "testdata", "models")
	dirs, err := filepath.Glob(filepath.Join(root, "*", "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	var cases []Case
	for _, f := range dirs {
		dir := filepath.Dir(f)
		c := Case{Name: filepath.Base(dir), Dir: dir}
		if err := readJSON(f, &c.Spec); err != nil {
			t.Fatal(err)
		}
		if err := readJSON(filepath.Join(dir, "tokens.json"), &c.Tokens); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatalf("no cases in %s", root)
	}
	return cases
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// ModelPath returns the case's model.gguf.
func (c *Case) ModelPath() string { return filepath.Join(c.Dir, "model.gguf") }

// Logits reads the logits of a source ("ref-none", "llamacpp", ...), shaped
// [len(Sequence)][vocab].
func (c *Case) Logits(source string) ([][]float32, error) {
	file := source + ".f32"
	if s, ok := c.Spec.Sources[source]; ok && s.File != "" {
		file = s.File
	}
	b, err := os.ReadFile(filepath.Join(c.Dir, file))
	if err != nil {
		return nil, err
	}
	vocab, n := c.Spec.Model.Shape.Vocab, len(c.Tokens.Sequence)
	if len(b) != n*vocab*4 {
		return nil, fmt.Errorf("%s: %d bytes, want %d x %d float32", file, len(b), n, vocab)
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, vocab)
		for v := range out[i] {
			out[i][v] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*(i*vocab+v):]))
		}
	}
	return out, nil
}

// Diff summarises the difference between two logit matrices.
type Diff struct {
	MaxAbs      float64
	MeanAbs     float64
	WorstPos    int // position of MaxAbs
	ArgmaxAgree int
	Positions   int
	PosMeanAbs  []float64 // per position: mean over the vocab of |a - b|
}

// Compare computes the difference of got against ref.
func Compare(got, ref [][]float32) Diff {
	d := Diff{Positions: len(ref), PosMeanAbs: make([]float64, len(ref))}
	var total float64
	var count int
	for i := range ref {
		var s float64
		for v := range ref[i] {
			a := math.Abs(float64(got[i][v]) - float64(ref[i][v]))
			if math.IsNaN(a) {
				a = math.Inf(1)
			}
			s += a
			if a > d.MaxAbs {
				d.MaxAbs, d.WorstPos = a, i
			}
		}
		d.PosMeanAbs[i] = s / float64(len(ref[i]))
		total += s
		count += len(ref[i])
		if Argmax(got[i]) == Argmax(ref[i]) {
			d.ArgmaxAgree++
		}
	}
	d.MeanAbs = total / float64(count)
	return d
}

// Argmax returns the index of the largest value (the first on ties).
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// String reports the difference with the worst position.
func (d Diff) String() string {
	return fmt.Sprintf("max_abs %.3g (position %d), mean_abs %.3g, argmax agree %d/%d",
		d.MaxAbs, d.WorstPos, d.MeanAbs, d.ArgmaxAgree, d.Positions)
}

// Apply judges got against the check's rules, loading the reference logits
// of the case. It returns the difference from the compared source and an
// error, when the check fails, that explains which rule failed and by how much.
func (c *Case) Apply(check Check, got [][]float32) (Diff, error) {
	ref, err := c.Logits(check.CompareTo)
	if err != nil {
		return Diff{}, err
	}
	d := Compare(got, ref)
	if check.Rules == nil {
		if d.MaxAbs > check.Tolerance {
			return d, fmt.Errorf("%s vs %s: %v exceeds tolerance %g (argmax at worst position: got %d, ref %d)",
				check.Name, check.CompareTo, d, check.Tolerance, Argmax(got[d.WorstPos]), Argmax(ref[d.WorstPos]))
		}
		return d, nil
	}
	r := check.Rules
	var problems []string
	// Rule 1: closer to the compared source than to each other source.
	closer := 0
	others := make([]Diff, len(r.CloserThan))
	for j, o := range r.CloserThan {
		oref, err := c.Logits(o)
		if err != nil {
			return d, err
		}
		others[j] = Compare(got, oref)
	}
	for i := range ref {
		ok := true
		for j := range others {
			if d.PosMeanAbs[i] >= others[j].PosMeanAbs[i] {
				ok = false
			}
		}
		if ok {
			closer++
		}
	}
	if frac := float64(closer) / float64(len(ref)); frac < r.MinFraction {
		problems = append(problems, fmt.Sprintf("closer to %s than to %v at %d/%d positions (need %.0f%%)",
			check.CompareTo, r.CloserThan, closer, len(ref), 100*r.MinFraction))
	}
	if d.MeanAbs > r.MaxMeanAbs {
		problems = append(problems, fmt.Sprintf("mean_abs %.3g > %g", d.MeanAbs, r.MaxMeanAbs))
	}
	if d.MaxAbs > r.MaxMaxAbs {
		problems = append(problems, fmt.Sprintf("max_abs %.3g > %g", d.MaxAbs, r.MaxMaxAbs))
	}
	if frac := float64(d.ArgmaxAgree) / float64(len(ref)); frac < r.MinArgmaxFrac {
		problems = append(problems, fmt.Sprintf("argmax agrees at %d/%d positions (need %.0f%%)",
			d.ArgmaxAgree, len(ref), 100*r.MinArgmaxFrac))
	}
	if len(problems) > 0 {
		return d, fmt.Errorf("%s vs %s (%v): %s", check.Name, check.CompareTo, d, strings.Join(problems, "; "))
	}
	return d, nil
}
