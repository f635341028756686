package repl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestProgress checks that quick work stays silent and slow work is told,
// with its outcome. The slow work lasts well over the delay, so that a busy
// machine cannot change the outcome.
func TestProgress(t *testing.T) {
	var quick bytes.Buffer
	Progress(&quick, true, "loading quick")(nil)
	if quick.Len() != 0 {
		t.Errorf("quick work printed %q", quick.String())
	}
	for _, c := range []struct {
		terminal bool
		err      error
		want     []string
	}{
		{false, nil, []string{"loading slow... done in "}},
		{false, errors.New("no"), []string{"loading slow... failed\n"}},
		{true, nil, []string{"loading slow...", "\rloading slow... done in "}},
	} {
		var b bytes.Buffer
		done := Progress(&b, c.terminal, "loading slow")
		time.Sleep(2 * progressDelay)
		done(c.err)
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("terminal %v, error %v: output %q lacks %q", c.terminal, c.err, b.String(), w)
			}
		}
		if !strings.HasSuffix(b.String(), "\n") {
			t.Errorf("output %q does not end the line", b.String())
		}
	}
}
