package view

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The browser test: a page rendered by headless Chromium, its screenshot
// compared with a golden image at a tolerance, and its views driven by
// synthetic mouse events. It skips when no Chromium is found, and fails
// then if LANDSCAPE_REQUIRE_BROWSER=1, as CI sets it.

var update = flag.Bool("update", false, "rewrite testdata/page.png from headless Chromium's screenshot")

// The window the page is rendered in, and the factor the screenshot is
// shrunk by before it is compared: averaging 4x4 pixels blurs away the
// differences of antialiasing and hinting between Chromium versions.
const (
	windowWidth, windowHeight = 1000, 760
	shrink                    = 4
)

// browser returns the Chromium to test with: $LANDSCAPE_CHROMIUM, or the
// first of the usual names on PATH.
func browser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LANDSCAPE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "no Chromium: install Debian's chromium-headless-shell (or chromium), or set LANDSCAPE_CHROMIUM"
	if os.Getenv("LANDSCAPE_REQUIRE_BROWSER") == "1" {
		t.Fatal(how + " (LANDSCAPE_REQUIRE_BROWSER=1)")
	}
	t.Skip(how)
	return ""
}

// chrome opens the file page in headless Chromium with the extra flags
// and returns what it prints.
func chrome(t *testing.T, bin, page string, extra ...string) []byte {
	t.Helper()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir=" + t.TempDir(), "--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-sync", "--mute-audio", "--font-render-hinting=none",
		fmt.Sprintf("--window-size=%d,%d", windowWidth, windowHeight), "--virtual-time-budget=5000",
	}
	args = append(append(args, extra...), "file://"+page)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(extra, " "), err, lastLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// driveScript, added to a page, drags the first 3D view and hovers each
// panel's image at the middle of its data when the page has loaded, and
// writes down on the root element where the views are, whether the drag
// redrew the 3D view, and what each readout then says.
const driveScript = `<script>
window.addEventListener("load", function () {
  var root = document.documentElement;
  function rect(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round).join(","); }
  function at(el, fx, fy) {
    var r = el.getBoundingClientRect();
    return { clientX: r.left + fx * r.width, clientY: r.top + fy * r.height, bubbles: true, button: 0, buttons: 1, view: window };
  }
  var panels = document.querySelectorAll("section.lv-panel");
  var graph = panels[0].querySelector(".lv-graph"), canvas = graph.querySelector("canvas");
  root.setAttribute("data-test-graph", rect(graph));
  root.setAttribute("data-test-map", rect(panels[0].querySelector(".lv-map")));
  var before = canvas.toDataURL();
  canvas.dispatchEvent(new MouseEvent("mousedown", at(canvas, 0.5, 0.5)));
  document.dispatchEvent(new MouseEvent("mousemove", at(canvas, 0.8, 0.4)));
  document.dispatchEvent(new MouseEvent("mouseup", at(canvas, 0.8, 0.4)));
  root.setAttribute("data-test-rotated", String(canvas.toDataURL() !== before));
  for (var i = 0; i < panels.length; i++) {
    var p = panels[i], svg = p.querySelector(".lv-map"), vb = svg.viewBox.baseVal;
    var r = JSON.parse(p.querySelector(".lv-data").textContent).map;
    svg.dispatchEvent(new MouseEvent("mousemove", at(svg, (r[0] + r[2]) / 2 / vb.width, (r[1] + r[3]) / 2 / vb.height)));
    root.setAttribute("data-test-readout-" + i, p.querySelector(".lv-readout").textContent);
  }
});
</script>
`

// attr returns the value of the attribute name in the HTML dom.
func attr(dom, name string) string {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestBrowser(t *testing.T) {
	bin := browser(t)
	t.Parallel()
	dir := t.TempDir()
	page := encodePage(t, "A loss surface", newPanel(t, bowl(31, false), nil), newPanel(t, bowl(31, true), &Options{Label: "A curve"}))
	plain, driven := filepath.Join(dir, "plain.html"), filepath.Join(dir, "driven.html")
	if err := os.WriteFile(plain, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(driven, []byte(strings.Replace(page, "</body>", driveScript+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	// The script ran, drew both panels, rotates the 3D view and reads out
	// the centre of the grid.
	dom := string(chrome(t, bin, driven, "--dump-dom"))
	if got := attr(dom, "data-lv-ready"); got != "2" {
		t.Fatalf("data-lv-ready=%q, want 2 panels: the view's script did not run\n%.2000s", got, dom)
	}
	if n := strings.Count(dom, `data-lv-status="ok"`); n != 2 {
		t.Errorf("%d panels drawn, want 2: %q", n, regexp.MustCompile(`data-lv-status="[^"]*"`).FindAllString(dom, -1))
	}
	if attr(dom, "data-test-rotated") != "true" {
		t.Error("dragging the 3D view did not redraw it")
	}
	for i, want := range []string{"α = 0, β = 0: train_loss 0.1, train_acc 99.2 %", "α = 0: train_loss 0.1, train_acc 99.2 %"} {
		if got := attr(dom, fmt.Sprintf("data-test-readout-%d", i)); got != want {
			t.Errorf("panel %d: hovering the centre reads %q, want %q", i, got, want)
		}
	}
	graph, mapRect := rectOf(t, attr(dom, "data-test-graph")), rectOf(t, attr(dom, "data-test-map"))

	// The page as it first shows.
	shot := filepath.Join(dir, "plain.png")
	chrome(t, bin, plain, "--screenshot="+shot)
	img := readPNG(t, shot)
	if b := img.Bounds(); b.Dx() != windowWidth || b.Dy() != windowHeight {
		t.Fatalf("screenshot %v, want %dx%d", b, windowWidth, windowHeight)
	}
	failed := false
	// The 3D view is drawn in its blues and reds (coolwarm), the contours
	// in viridis' dark purple and yellow.
	for _, c := range []struct {
		what  string
		r     image.Rectangle
		match func(r, g, b int) bool
	}{
		{"3D view: blue", graph, func(r, g, b int) bool { return b > r+40 && b > 150 }},
		{"3D view: red", graph, func(r, g, b int) bool { return r > b+40 && r > 150 }},
		{"contours: dark purple", mapRect, func(r, g, b int) bool { return r < 90 && g < 60 && b > 70 }},
		{"contours: yellow", mapRect, func(r, g, b int) bool { return r > 150 && g > 180 && b < 110 }},
	} {
		if f := share(img, c.r, c.match); f < 0.005 {
			t.Errorf("%s: %.2f%% of %v, want some", c.what, 100*f, c.r)
			failed = true
		}
	}
	small := shrinkImage(img, shrink)
	golden := filepath.Join("testdata", "page.png")
	if *update {
		writePNG(t, golden, small)
		t.Logf("wrote %s", golden)
		return
	}
	want := readPNG(t, golden)
	// The whole page, and each view by itself, where a change in the
	// drawing is a larger share than of the page.
	for _, c := range []struct {
		what      string
		r         image.Rectangle
		frac, avg float64
	}{
		{"page", small.Bounds(), 0.03, 4},
		{"3D view", scaleRect(graph), 0.04, 6},
		{"contours", scaleRect(mapRect), 0.04, 6},
	} {
		frac, mean := compare(small, want, c.r)
		t.Logf("%s: %s: %.2f%% of %dx%d blocks differ by more than 40 of 255, mean difference %.2f", filepath.Base(bin), c.what, 100*frac, shrink, shrink, mean)
		if frac > c.frac || mean > c.avg {
			t.Errorf("%s differs from %s: %.1f%% of its %dx%d-pixel blocks by more than 40 of 255 (at most %g%%), mean difference %.1f (at most %g); "+
				"if the change is meant, look at the screenshot and run go test ./export/view -run TestBrowser -update",
				c.what, golden, 100*frac, shrink, shrink, 100*c.frac, mean, c.avg)
			failed = true
		}
	}
	if failed {
		out := filepath.Join(t.ArtifactDir(), "page.png")
		if err := os.Rename(shot, out); err == nil {
			t.Logf("screenshot: %s (kept with go test -artifacts)", out)
		}
	}
}

func rectOf(t *testing.T, s string) image.Rectangle {
	t.Helper()
	var v [4]int
	f := strings.Split(s, ",")
	if len(f) != 4 {
		t.Fatalf("rectangle %q", s)
	}
	for i := range v {
		n, err := strconv.Atoi(f[i])
		if err != nil {
			t.Fatalf("rectangle %q", s)
		}
		v[i] = n
	}
	return image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3]).Intersect(image.Rect(0, 0, windowWidth, windowHeight))
}

// share returns the fraction of the pixels of img in r that match.
func share(img image.Image, r image.Rectangle, match func(r, g, b int) bool) float64 {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if match(int(c.R), int(c.G), int(c.B)) {
				n++
			}
		}
	}
	if r.Empty() {
		return 0
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

// shrinkImage returns img with each k×k block of pixels averaged.
func shrinkImage(img image.Image, k int) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()/k, b.Dy()/k))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			var sum [3]int
			for dy := range k {
				for dx := range k {
					c := color.NRGBAModel.Convert(img.At(b.Min.X+k*x+dx, b.Min.Y+k*y+dy)).(color.NRGBA)
					sum[0], sum[1], sum[2] = sum[0]+int(c.R), sum[1]+int(c.G), sum[2]+int(c.B)
				}
			}
			n := k * k
			out.SetNRGBA(x, y, color.NRGBA{R: uint8(sum[0] / n), G: uint8(sum[1] / n), B: uint8(sum[2] / n), A: 255})
		}
	}
	return out
}

// scaleRect returns r in the coordinates of the shrunk screenshot.
func scaleRect(r image.Rectangle) image.Rectangle {
	return image.Rect(r.Min.X/shrink, r.Min.Y/shrink, r.Max.X/shrink, r.Max.Y/shrink)
}

// compare returns the fraction of the pixels in r of a and b whose
// channels differ by more than 40 in any, and the mean difference over
// their channels; images of different sizes differ everywhere.
func compare(a, b image.Image, r image.Rectangle) (frac, mean float64) {
	if a.Bounds() != b.Bounds() {
		return 1, 255
	}
	r = r.Intersect(a.Bounds())
	if r.Empty() {
		return 1, 255
	}
	n, sum := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
			d := 0
			for _, p := range [][2]uint8{{ca.R, cb.R}, {ca.G, cb.G}, {ca.B, cb.B}} {
				v := int(p[0]) - int(p[1])
				if v < 0 {
					v = -v
				}
				d = max(d, v)
				sum += v
			}
			if d > 40 {
				n++
			}
		}
	}
	total := r.Dx() * r.Dy()
	return float64(n) / float64(total), float64(sum) / float64(3*total)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
