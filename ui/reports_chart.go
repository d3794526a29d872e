package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The Reports page's charts are small Fyne widgets drawn from canvas rectangles and
// text rather than images from a plotting library: they take the theme's colours
// (light and dark) and the bundled Chinese font like every other widget, re-lay out
// when the window resizes instead of being scaled, and can show a bar's values on
// hover. A chart's PNG is the same widget drawn by Fyne's software renderer.

// chartSeries is one row of bars.
type chartSeries struct {
	name   string
	values []float64
	color  fyne.ThemeColorName
}

// barChart draws a bar per label for each series, values above the bars (when they
// fit), the hovered bar's values in the caption, and says so when it is all zero.
type barChart struct {
	widget.BaseWidget
	title  string
	labels []string
	series []chartSeries
	format func(float64) string
	hover  int // the label under the mouse, -1 for none
}

func newBarChart(title string, labels []string, format func(float64) string, series ...chartSeries) *barChart {
	c := &barChart{title: title, labels: labels, series: series, format: format, hover: -1}
	c.ExtendBaseWidget(c)
	return c
}

// empty: nothing to draw (every value zero, or no labels).
func (c *barChart) empty() bool {
	for _, s := range c.series {
		for _, v := range s.values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// caption is the line under the title: the hovered bar's values, else the legend
// (drawn with a square of each series' colour).
func (c *barChart) caption() string {
	if c.empty() {
		return T("No data in this period")
	}
	s := ""
	for i, se := range c.series {
		if i > 0 {
			s += "   "
		}
		if c.hover >= 0 && c.hover < len(se.values) {
			s += se.name + " " + c.format(se.values[c.hover])
		} else {
			s += "• " + se.name
		}
	}
	if c.hover >= 0 && c.hover < len(c.labels) {
		s = c.labels[c.hover] + "   " + s
	}
	return s
}

func (c *barChart) MouseIn(e *desktop.MouseEvent)    { c.MouseMoved(e) }
func (c *barChart) MouseOut()                        { c.setHover(-1) }
func (c *barChart) MouseMoved(e *desktop.MouseEvent) { c.setHover(c.barAt(e.Position.X)) }

func (c *barChart) setHover(i int) {
	if i != c.hover {
		c.hover = i
		c.Refresh()
	}
}

const chartPad = 8

func (c *barChart) plotX() (x0, w float32) {
	return chartPad, c.Size().Width - 2*chartPad
}

func (c *barChart) barAt(x float32) int {
	x0, w := c.plotX()
	if len(c.labels) == 0 || w <= 0 || x < x0 || x >= x0+w {
		return -1
	}
	return int((x - x0) / (w / float32(len(c.labels))))
}

func (c *barChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{}
	r.draw = func(size fyne.Size) { r.objects = c.layoutObjects(size) }
	r.min = fyne.NewSize(300, 220)
	r.owner = c
	return r
}

// layoutObjects draws the chart at size.
func (c *barChart) layoutObjects(size fyne.Size) []fyne.CanvasObject {
	th := c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, v)
	small := th.Size(theme.SizeNameCaptionText)
	objs := []fyne.CanvasObject{}
	text := func(s string, col color.Color, sz float32, x, y float32, center bool) {
		t := canvas.NewText(s, col)
		t.TextSize = sz
		m := t.MinSize()
		if center {
			x -= m.Width / 2
		}
		t.Move(fyne.NewPos(x, y))
		t.Resize(m)
		objs = append(objs, t)
	}
	title := canvas.NewText(c.title, fg)
	title.TextStyle.Bold = true
	title.Move(fyne.NewPos(chartPad, 0))
	title.Resize(title.MinSize())
	objs = append(objs, title)
	top := title.MinSize().Height + 2
	if c.hover < 0 && !c.empty() { // the legend, in the bars' colours
		x := float32(chartPad)
		for _, se := range c.series {
			sq := canvas.NewRectangle(th.Color(se.color, v))
			sq.Move(fyne.NewPos(x, top+small*0.3))
			sq.Resize(fyne.NewSize(small, small))
			objs = append(objs, sq)
			x += small * 1.4
			text(se.name, fg, small, x, top, false)
			x += fyne.MeasureText(se.name, small, fyne.TextStyle{}).Width + small*1.5
		}
	} else {
		text(c.caption(), fg, small, chartPad, top, false)
	}
	top += small*1.5 + 6
	labelH := small * 1.6
	bottom := size.Height - labelH
	x0, w := c.plotX()
	axis := canvas.NewRectangle(th.Color(theme.ColorNameSeparator, v))
	axis.Move(fyne.NewPos(x0, bottom))
	axis.Resize(fyne.NewSize(w, 1))
	objs = append(objs, axis)
	if c.empty() || len(c.labels) == 0 {
		return objs
	}
	maxV := 0.0
	for _, s := range c.series {
		for _, x := range s.values {
			maxV = math.Max(maxV, x)
		}
	}
	// A line at the highest value, labelled, so a PNG (no pointer to hover with) keeps a scale.
	grid := canvas.NewRectangle(th.Color(theme.ColorNameSeparator, v))
	grid.Move(fyne.NewPos(x0, bottom-(bottom-top-small*1.4)))
	grid.Resize(fyne.NewSize(w, 1))
	objs = append(objs, grid)
	maxLabel := c.format(maxV)
	text(maxLabel, th.Color(theme.ColorNamePlaceHolder, v), small, x0+w-fyne.MeasureText(maxLabel, small, fyne.TextStyle{}).Width, bottom-(bottom-top-small*1.4)-small*1.4, false)
	slot := w / float32(len(c.labels))
	gap := max(1, slot*0.2)
	barW := (slot - gap) / float32(len(c.series))
	plotH := bottom - top - small*1.4
	labelEvery := int(math.Ceil(float64(small*3.2) / float64(slot)))
	for i, label := range c.labels {
		sx := x0 + float32(i)*slot + gap/2
		if i == c.hover {
			hl := canvas.NewRectangle(th.Color(theme.ColorNameHover, v))
			hl.Move(fyne.NewPos(sx-gap/2, top))
			hl.Resize(fyne.NewSize(slot, bottom-top))
			objs = append(objs, hl)
		}
		for j, s := range c.series {
			val := 0.0
			if i < len(s.values) {
				val = s.values[i]
			}
			h := float32(val / maxV * float64(plotH))
			bar := canvas.NewRectangle(th.Color(s.color, v))
			bar.Move(fyne.NewPos(sx+float32(j)*barW, bottom-h))
			bar.Resize(fyne.NewSize(max(barW-1, 1), h))
			objs = append(objs, bar)
			if vs := c.format(val); val > 0 && fyne.MeasureText(vs, small*0.8, fyne.TextStyle{}).Width <= barW {
				text(vs, fg, small*0.8, sx+float32(j)*barW+barW/2, bottom-h-small*1.3, true)
			}
		}
		if i%labelEvery == 0 {
			text(label, fg, small, sx+(slot-gap)/2, bottom+2, true)
		}
	}
	return objs
}

// heatMap is customer messages by weekday (rows) and hour (columns).
type heatMap struct {
	widget.BaseWidget
	title  string
	rows   []string
	values [7][24]int
	hover  [2]int // row, hour; -1 for none
}

func newHeatMap(title string, rows []string, values [7][24]int) *heatMap {
	h := &heatMap{title: title, rows: rows, values: values, hover: [2]int{-1, -1}}
	h.ExtendBaseWidget(h)
	return h
}

func (h *heatMap) MouseIn(e *desktop.MouseEvent) { h.MouseMoved(e) }
func (h *heatMap) MouseOut()                     { h.setHover(-1, -1) }
func (h *heatMap) MouseMoved(e *desktop.MouseEvent) {
	x0, y0, cw, ch := h.grid(h.Size())
	col, row := int((e.Position.X-x0)/cw), int((e.Position.Y-y0)/ch)
	if e.Position.X < x0 || e.Position.Y < y0 || col > 23 || row > 6 {
		col, row = -1, -1
	}
	h.setHover(row, col)
}

func (h *heatMap) setHover(row, col int) {
	if h.hover != [2]int{row, col} {
		h.hover = [2]int{row, col}
		h.Refresh()
	}
}

func (h *heatMap) total() int {
	n := 0
	for _, r := range h.values {
		for _, v := range r {
			n += v
		}
	}
	return n
}

func (h *heatMap) caption() string {
	switch {
	case h.total() == 0:
		return T("No data in this period")
	case h.hover[0] >= 0:
		return T("%s %02d:00–%02d:59: %d customer messages", h.rows[h.hover[0]], h.hover[1], h.hover[1], h.values[h.hover[0]][h.hover[1]])
	}
	return T("Darker: more customer messages. Point at a square for its number.")
}

// grid is where the squares go: left, top, cell width and height.
func (h *heatMap) grid(size fyne.Size) (x0, y0, cw, ch float32) {
	th := h.Theme()
	small := th.Size(theme.SizeNameCaptionText)
	x0 = chartPad + small*3
	y0 = th.Size(theme.SizeNameText)*1.4 + small*1.5 + 8 + small*1.4
	cw = (size.Width - x0 - chartPad) / 24
	ch = max(4, (size.Height-y0)/7)
	return
}

func (h *heatMap) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{}
	r.draw = func(size fyne.Size) { r.objects = h.layoutObjects(size) }
	r.min = fyne.NewSize(420, 240)
	r.owner = h
	return r
}

func (h *heatMap) layoutObjects(size fyne.Size) []fyne.CanvasObject {
	th := h.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, v)
	small := th.Size(theme.SizeNameCaptionText)
	title := canvas.NewText(h.title, fg)
	title.TextStyle.Bold = true
	title.Move(fyne.NewPos(chartPad, 0))
	title.Resize(title.MinSize())
	caption := canvas.NewText(h.caption(), th.Color(theme.ColorNamePlaceHolder, v))
	caption.TextSize = small
	caption.Move(fyne.NewPos(chartPad, title.MinSize().Height+2))
	caption.Resize(caption.MinSize())
	objs := []fyne.CanvasObject{title, caption}
	x0, y0, cw, ch := h.grid(size)
	maxV := 0
	for _, r := range h.values {
		for _, x := range r {
			maxV = max(maxV, x)
		}
	}
	pr, pg, pb, _ := th.Color(theme.ColorNamePrimary, v).RGBA()
	for hr := 0; hr < 24; hr += 3 {
		t := canvas.NewText(fmt.Sprintf("%02d", hr), fg)
		t.TextSize = small
		t.Move(fyne.NewPos(x0+float32(hr)*cw, y0-small*1.4))
		t.Resize(t.MinSize())
		objs = append(objs, t)
	}
	for d := range 7 {
		t := canvas.NewText(h.rows[d], fg)
		t.TextSize = small
		t.Move(fyne.NewPos(chartPad, y0+float32(d)*ch+(ch-t.MinSize().Height)/2))
		t.Resize(t.MinSize())
		objs = append(objs, t)
		for hr := range 24 {
			a := uint8(20)
			if maxV > 0 && h.values[d][hr] > 0 {
				a = uint8(50 + 205*h.values[d][hr]/maxV)
			}
			cell := canvas.NewRectangle(color.NRGBA{R: uint8(pr >> 8), G: uint8(pg >> 8), B: uint8(pb >> 8), A: a})
			if h.hover == [2]int{d, hr} {
				cell.StrokeColor, cell.StrokeWidth = fg, 1
			}
			cell.Move(fyne.NewPos(x0+float32(hr)*cw+1, y0+float32(d)*ch+1))
			cell.Resize(fyne.NewSize(cw-2, ch-2))
			objs = append(objs, cell)
		}
	}
	return objs
}

// chartRenderer redraws its owner's objects at every layout and refresh.
type chartRenderer struct {
	owner   fyne.Widget
	draw    func(fyne.Size)
	objects []fyne.CanvasObject
	min     fyne.Size
	size    fyne.Size
}

func (r *chartRenderer) Layout(size fyne.Size)        { r.size = size; r.draw(size) }
func (r *chartRenderer) MinSize() fyne.Size           { return r.min }
func (r *chartRenderer) Refresh()                     { r.draw(r.size); canvas.Refresh(r.owner) }
func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *chartRenderer) Destroy()                     {}

// chartImage draws a fresh copy of a chart at size with the software renderer (on
// the UI thread: it builds widgets); encoding it as PNG is left to the caller's background work.
func chartImage(chart fyne.CanvasObject, size fyne.Size) image.Image {
	c := software.NewCanvas()
	c.SetPadded(false)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	c.SetContent(container.NewStack(bg, chart))
	c.Resize(size)
	return c.Capture()
}
