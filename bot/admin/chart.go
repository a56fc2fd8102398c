package admin

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// The deliveries chart: messages sent per minute on one platform, one bar a
// minute, against the platform's bot-wide budget, drawn as SVG on the server.

const (
	chartWidth  = 720.0
	chartHeight = 180.0
	chartLeft   = 48.0 // room for the y labels
	chartRight  = 24.0 // room for the last x label
	chartBottom = 20.0 // room for the x labels
	chartTop    = 14.0
)

type chart struct {
	Platform briefings.Platform
	Total    int
	Peak     int
	PeakAt   time.Time
	Limit    float64 // per minute; 0 when unknown
	LimitY   float64
	Bars     []chartBar
	XTicks   []chartTick
	YTicks   []chartTick
	Width    float64
	Height   float64
	Left     float64
	Right    float64 // x of the plot's right edge
	Base     float64 // y of the x axis
}

type chartBar struct {
	X, Y, W, H float64
	Label      string
}

type chartTick struct {
	Pos   float64
	Label string
}

// sendCharts draws one chart per platform that sent in [start, end) or has a
// budget, in platform order.
func sendCharts(sends []briefings.SendCount, limits map[briefings.Platform]float64, start, end time.Time, loc *time.Location) []chart {
	byPlatform := map[briefings.Platform][]briefings.SendCount{}
	for p := range limits {
		byPlatform[p] = nil
	}
	for _, s := range sends {
		if !s.Minute.Before(start) && s.Minute.Before(end) {
			byPlatform[s.Platform] = append(byPlatform[s.Platform], s)
		}
	}
	var platforms []briefings.Platform
	for p := range byPlatform {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	var out []chart
	for _, p := range platforms {
		out = append(out, drawChart(p, byPlatform[p], limits[p], start, end, loc))
	}
	return out
}

func drawChart(p briefings.Platform, sends []briefings.SendCount, limit float64, start, end time.Time, loc *time.Location) chart {
	c := chart{Platform: p, Limit: limit, Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartWidth - chartRight, Base: chartHeight - chartBottom}
	minutes := int(end.Sub(start) / time.Minute)
	if minutes <= 0 {
		return c
	}
	for _, s := range sends {
		c.Total += s.Sends
		if s.Sends > c.Peak {
			c.Peak, c.PeakAt = s.Sends, s.Minute
		}
	}
	top := niceCeil(math.Max(float64(c.Peak), limit))
	plotH := c.Base - chartTop
	y := func(v float64) float64 { return c.Base - v/top*plotH }
	step := (chartWidth - chartLeft - chartRight) / float64(minutes)
	for _, s := range sends {
		i := int(s.Minute.Sub(start) / time.Minute)
		h := float64(s.Sends) / top * plotH
		c.Bars = append(c.Bars, chartBar{
			X: round1(chartLeft + float64(i)*step), Y: round1(c.Base - h), W: round1(math.Max(step-0.5, 0.5)), H: round1(h),
			Label: fmt.Sprintf("%s: %d sent", s.Minute.In(loc).Format("15:04"), s.Sends),
		})
	}
	if limit > 0 {
		c.LimitY = round1(y(limit))
	}
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.YTicks = append(c.YTicks, chartTick{Pos: round1(y(v)), Label: fmt.Sprintf("%.0f", v)})
	}
	first := 0
	for first < minutes && start.Add(time.Duration(first)*time.Minute).In(loc).Minute()%30 != 0 {
		first++
	}
	for m := first; m <= minutes; m += 30 {
		c.XTicks = append(c.XTicks, chartTick{Pos: round1(chartLeft + float64(m)*step), Label: start.Add(time.Duration(m) * time.Minute).In(loc).Format("15:04")})
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 10), so
// the axis reads in round numbers.
func niceCeil(v float64) float64 {
	if v < 10 {
		return 10
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= v {
			return f * p
		}
	}
	return 10 * p
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
