package repl

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneShotMatchesEngine checks that -p, a piped prompt and both together
// write exactly the engine's continuation to stdout, and nothing to stderr.
func TestOneShotMatchesEngine(t *testing.T) {
	flags := []string{"-m", baseModel, "-n", "12", "--temp", "0", "-t", "1"}
	cases := []struct {
		name   string
		stdin  string
		args   []string
		prompt string // what the model must continue
	}{
		{"flag", "", []string{"-p", "Once upon a time"}, "Once upon a time"},
		{"pipe", "Once upon a time\n", nil, "Once upon a time"},
		{"flag then pipe", "the rest\n", []string{"-p", "Summarize:"}, "Summarize:\n\nthe rest"},
		{"flag, empty pipe", "", []string{"-p", "Hello there"}, "Hello there"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runBinary(t, []byte(c.stdin), append(flags, c.args...)...)
			want := greedyText(t, baseModel, c.prompt, 12) + "\n"
			if r.code != 0 || r.stdout != want || r.stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 0, stdout %q and nothing on stderr", r.code, r.stdout, r.stderr, want)
			}
		})
	}
}

// TestTemplateFlags checks that chat templates apply as the flags say: the
// chat model with --raw continues text like the base model, and the base
// model with --template llama2 answers like the chat model.
func TestTemplateFlags(t *testing.T) {
	flags := []string{"-n", "10", "--temp", "0", "-t", "1", "-p", "hello"}
	base := oneShot(t, append(flags, "-m", baseModel)...)
	chat := oneShot(t, append(flags, "-m", chatModel)...)
	if base == chat {
		t.Fatalf("the chat model answers like the base model: %q", chat)
	}
	if got := oneShot(t, append(flags, "-m", chatModel, "--raw")...); got != base {
		t.Errorf("chat model with --raw: %q, want the base model's %q", got, base)
	}
	if got := oneShot(t, append(flags, "-m", chatModel, "--template", "none")...); got != base {
		t.Errorf("chat model with --template none: %q, want %q", got, base)
	}
	if got := oneShot(t, append(flags, "-m", baseModel, "--template", "llama2")...); got != chat {
		t.Errorf("base model with --template llama2: %q, want the chat model's %q", got, chat)
	}
	if got := oneShot(t, append(flags, "-m", chatModel, "-s", "Answer in French.")...); got == chat {
		t.Errorf("the system prompt changes nothing: %q", got)
	}
}

// TestJSONOutput checks the --json object against a plain run.
func TestJSONOutput(t *testing.T) {
	flags := []string{"-m", baseModel, "-n", "9", "--temp", "0", "-t", "1", "-p", "Once upon a time"}
	text := oneShot(t, flags...)
	r := runBinary(t, nil, append(flags, "--json")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res OnceResult
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Errorf("more than one JSON value on stdout: %s", r.stdout)
	}
	if res.Text+"\n" != text || res.GeneratedTokens != 9 || res.StopReason != "max_tokens" || res.Template != "none" || res.Model != filepath.Base(baseModel) {
		t.Errorf("JSON %+v; want text %q, 9 tokens, max_tokens, template none, model %s", res, text, filepath.Base(baseModel))
	}
	if res.PromptTokens < 2 || res.PromptSeconds <= 0 || res.GenerateSeconds <= 0 || res.GenerateTokensPerSecond <= 0 {
		t.Errorf("JSON counts and timings %+v", res)
	}
}

// TestStdinProblems feeds bitnet stdin it cannot use as it is: empty,
// blank, far longer than the context window, and binary garbage. Each gives
// an answer or one clear line on stderr, never a crash.
func TestStdinProblems(t *testing.T) {
	flags := []string{"-m", baseModel, "-n", "8", "-t", "1"}
	const line = "All work and no play makes Jack a dull boy. "
	long := []byte(strings.Repeat(line, 200_000/len(line)+1))[:200_000]
	cases := []struct {
		name  string
		stdin []byte
		code  int
		msg   string
	}{
		{"empty", nil, 2, "stdin is empty"},
		{"blank", []byte(" \n\t\n"), 2, "stdin is empty"},
		{"200 KB", long, 1, "more than the 256-token context window"},
		{"17 MiB", bytes.Repeat([]byte("to be or not to be\n"), 17<<20/19), 1, "more than 16 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runBinary(t, c.stdin, flags...)
			checkOneLineError(t, r, c.code, c.msg)
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		garbage := make([]byte, 20+rng.IntN(200))
		for j := range garbage {
			garbage[j] = byte(rng.Uint32())
		}
		r := runBinary(t, garbage, flags...)
		switch r.code {
		case 0:
			if r.stdout == "" {
				t.Errorf("garbage %d: exit 0 without output", i)
			}
		case 1:
			checkOneLineError(t, r, 1, "context window")
		default:
			t.Errorf("garbage %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
}

// checkOneLineError checks that a run failed with code and one line on
// stderr containing msg, and wrote nothing to stdout.
func checkOneLineError(t *testing.T, r result, code int, msg string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, msg) || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, code, msg)
	}
	if strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n") > 0 || !strings.HasPrefix(r.stderr, "bitnet: ") {
		t.Errorf("the error is not one line starting with \"bitnet: \": %q", r.stderr)
	}
}

// TestFlags checks --version, --help and the usage errors of the flags.
func TestFlags(t *testing.T) {
	if r := runBinary(t, nil, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "bitnet ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
	r := runBinary(t, nil, "--help")
	for _, want := range []string{"-m, --model", "-p, --prompt", "--json", "--no-color", "Examples:", "| bitnet", "pull"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if r.code != 0 {
		t.Errorf("--help: exit %d", r.code)
	}
	usage := []struct {
		args []string
		msg  string
	}{
		{[]string{"-m", baseModel, "--temp", "hot", "-p", "x"}, `"hot" is not a number`},
		{[]string{"-m", baseModel, "--temp", "-1", "-p", "x"}, "temperature"},
		{[]string{"-m", baseModel, "--top-p", "1.5", "-p", "x"}, "top_p"},
		{[]string{"-m", baseModel, "--top-p", "0", "-p", "x"}, "top_p 0 must be in (0, 1]"},
		{[]string{"-m", baseModel, "--min-p", "NaN", "-p", "x"}, "min_p"},
		{[]string{"-m", baseModel, "--top-k", "-1", "-p", "x"}, "top_k"},
		{[]string{"-m", baseModel, "--repeat-penalty", "0", "-p", "x"}, "repeat_penalty 0 must be a finite number > 0"},
		{[]string{"-m", baseModel, "-n", "-3", "-p", "x"}, "max_tokens"},
		{[]string{"-m", baseModel, "-t", "-2", "-p", "x"}, "threads"},
		{[]string{"-m", baseModel, "-c", "-2", "-p", "x"}, "context size"},
		{[]string{"-m", baseModel, "--seed", "-7", "-p", "x"}, "seed"},
		{[]string{"-m", baseModel, "--template", "klingon", "-p", "x"}, `unknown chat template "klingon"`},
		{[]string{"-m", baseModel, "--raw", "--template", "llama2", "-p", "x"}, "contradict"},
		{[]string{"-m", baseModel, "hello"}, `unknown command "hello"`},
		{[]string{"-m", baseModel, "-p", "  "}, "blank"},
		{[]string{"--nonsense"}, "not defined"},
	}
	for _, u := range usage {
		checkOneLineError(t, runBinary(t, nil, u.args...), 2, u.msg)
	}
	checkOneLineError(t, runBinary(t, nil, "-m", "/no/such/model.gguf", "-p", "x"), 1, "no/such/model.gguf")
	checkOneLineError(t, runBinary(t, nil, "-m", baseModel, "--template", "llama3", "-p", "x"), 1, "does not suit this model")
}

// TestEmbeddedModelIsDefault: with no -m, bitnet answers with the model
// embedded in the binary, exactly as the engine continues with its file.
func TestEmbeddedModelIsDefault(t *testing.T) {
	const prompt = "Once upon a time"
	r := runBinary(t, nil, "-p", prompt, "-n", "16", "--temp", "0")
	if want := greedyText(t, baseModel, prompt, 16); r.code != 0 || r.stdout != want+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestLargeContext checks that -c sets the context window: the 200-token
// prompt that overflows a 128-token window fits a 512-token one.
func TestLargeContext(t *testing.T) {
	prompt := strings.Repeat("a b ", 100)
	checkOneLineError(t, runBinary(t, []byte(prompt), "-m", baseModel, "-n", "4", "-c", "128"), 1, "128-token context window")
	if r := runBinary(t, []byte(prompt), "-m", baseModel, "-n", "4", "-c", "512"); r.code != 0 || r.stdout == "" {
		t.Errorf("-c 512: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
