package settings

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseBuckets(t *testing.T) {
	if bs, err := ParseBuckets("0.1, 0.5,2"); err != nil || !reflect.DeepEqual(bs, []float64{0.1, 0.5, 2}) {
		t.Errorf("parseBuckets: %v %v", bs, err)
	}
	for _, bad := range []string{"", "a", "1,1", "-1", "+Inf", strings.Repeat("1,", 30) + "1"} {
		if _, err := ParseBuckets(bad); err == nil {
			t.Errorf("ParseBuckets(%q) accepted", bad)
		}
	}
}
